// What Temporal says about a phase: when its work is done (no workflow of its task queue still
// running, the children a checkout leaves behind included), which workflows it started and how
// long their histories are (visibility), and the exact history length of a sample of its runs.
import type { Client } from "@temporalio/client";
import type { Db } from "../prisma/client.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until no workflow on the task queue runs, twice in a row (visibility is written a moment after the fact). */
export async function settle(client: Client, taskQueue: string, timeoutMs = 180_000): Promise<boolean> {
  const query = `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"`;
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (quiet < 2) {
    if (Date.now() > deadline) return false;
    quiet = (await client.workflow.count(query)).count === 0 ? quiet + 1 : 0;
    await sleep(500);
  }
  return true;
}

export interface Started {
  total: number;
  byType: Record<string, number>;
  /** Events in all their histories, as visibility counts them. */
  historyEvents: number;
}

/** The workflows on the task queue that started in the window. */
export async function startedWorkflows(client: Client, taskQueue: string, from: Date, to: Date): Promise<Started> {
  const query = `TaskQueue = "${taskQueue}" AND StartTime >= "${from.toISOString()}" AND StartTime <= "${to.toISOString()}"`;
  const started: Started = { total: 0, byType: {}, historyEvents: 0 };
  for await (const run of client.workflow.list({ query })) {
    started.total++;
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

/** From each checkout's close to its archive record (the archiver is one of the children it leaves behind). */
export async function archiveLagMs(db: Db, workflowIds: readonly string[]): Promise<number[]> {
  const records = await db.historyArchive.findMany({
    where: { workflowId: { in: [...workflowIds] } },
    select: { closedAt: true, archivedAt: true },
  });
  return records.map((r) => r.archivedAt.getTime() - r.closedAt.getTime());
}
