// What Temporal says about a phase: when its work is done (no workflow of its task queue running
// but the long-running ones), which workflows it started and how long their histories are
// (visibility), and the exact history length of a sample of its runs.
import type { Client } from "@temporalio/client";
import type { Db } from "../prisma/client.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until every condition holds, twice in a row (visibility is written a moment after the
 * fact); false if they did not within the time.
 */
export async function settle(conditions: ReadonlyArray<() => Promise<boolean>>, timeoutMs = 300_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (quiet < 2) {
    if (Date.now() > deadline) return false;
    const results = await Promise.all(conditions.map((holds) => holds()));
    quiet = results.every(Boolean) ? quiet + 1 : 0;
    await sleep(500);
  }
  return true;
}

/** No workflow of the task queue runs but the long-running ones named (the event relay). */
export function noneRunning(client: Client, taskQueue: string, except: readonly string[] = []) {
  const query = [`TaskQueue = "${taskQueue}"`, `ExecutionStatus = "Running"`, ...except.map((id) => `WorkflowId != "${id}"`)];
  return async () => (await client.workflow.count(query.join(" AND "))).count === 0;
}

export interface Started {
  total: number;
  /** Of them, the service's own background runs (the event relay's, the archive schedule's): per queue and time, not per checkout. */
  background: number;
  byType: Record<string, number>;
  /** Events in all their histories, as visibility counts them. */
  historyEvents: number;
}

/** The workflows on the task queue that started in the window. */
export async function startedWorkflows(
  client: Client,
  taskQueue: string,
  window: { from: Date; to: Date },
  isBackground: (workflowId: string) => boolean,
): Promise<Started> {
  const query = `TaskQueue = "${taskQueue}" AND StartTime >= "${window.from.toISOString()}" AND StartTime <= "${window.to.toISOString()}"`;
  const started: Started = { total: 0, background: 0, byType: {}, historyEvents: 0 };
  for await (const run of client.workflow.list({ query })) {
    started.total++;
    if (isBackground(run.workflowId)) started.background++;
    started.byType[run.type] = (started.byType[run.type] ?? 0) + 1;
    started.historyEvents += run.historyLength;
  }
  return started;
}

/** Events in the histories of `size` of the runs, spread over the phase. */
export async function sampleHistoryEvents(client: Client, workflowIds: readonly string[], size = 5): Promise<number[]> {
  const step = Math.max(1, Math.floor(workflowIds.length / size));
  const sample = workflowIds.filter((_, i) => i % step === 0).slice(0, size);
  return Promise.all(sample.map(async (id) => (await client.workflow.getHandle(id).fetchHistory()).events?.length ?? Number.NaN));
}

/** From each checkout's close to its archive record (written by the archive schedule's batches). */
export async function archiveLagMs(db: Db, workflowIds: readonly string[]): Promise<number[]> {
  const records = await db.historyArchive.findMany({
    where: { workflowId: { in: [...workflowIds] } },
    select: { closedAt: true, archivedAt: true },
  });
  return records.map((r) => r.archivedAt.getTime() - r.closedAt.getTime());
}
