// The schedule that archives a task queue's closed checkouts (workflows/archive-batch.ts), made
// sure of at every start: created when absent, brought up to date when its interval, batch size
// or queue differ, left alone otherwise, so every worker and `npm start` may call it at once.
import { type Client, ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy } from "@temporalio/client";
import type { archiveClosedRuns } from "../workflows/archive-batch.ts";
import { archiveScheduleId } from "../workflows/definitions.ts";

export interface ArchiveScheduleSettings {
  /** The queue whose checkouts it archives, and whose workers run it. */
  taskQueue: string;
  intervalSeconds: number;
  batchSize: number;
}

export type EnsureOutcome = "created" | "updated" | "unchanged";

export async function ensureArchiveSchedule(client: Client, settings: ArchiveScheduleSettings): Promise<EnsureOutcome> {
  const scheduleId = archiveScheduleId(settings.taskQueue);
  const handle = client.schedule.getHandle(scheduleId);
  const current = await handle.describe().catch((err) => {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  });
  if (!current) {
    try {
      await client.schedule.create<typeof archiveClosedRuns>({ scheduleId, ...scheduleOf(scheduleId, settings) });
      return "created";
    } catch (err) {
      // Another process created it between our describe and create: theirs is as good.
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      return "unchanged";
    }
  }
  const action = current.action;
  const same =
    current.spec.intervals?.length === 1 &&
    current.spec.intervals[0].every === settings.intervalSeconds * 1000 &&
    action.type === "startWorkflow" &&
    action.workflowType === "archiveClosedRuns" &&
    action.taskQueue === settings.taskQueue &&
    (action.args?.[0] as { batchSize?: number } | undefined)?.batchSize === settings.batchSize;
  if (same) return "unchanged";
  await handle.update<typeof archiveClosedRuns>((previous) => ({ ...previous, ...scheduleOf(scheduleId, settings) }));
  return "updated";
}

/** Deletes the queue's schedule and ends the run it has going (a test stack's, when it stops). */
export async function deleteArchiveSchedule(client: Client, taskQueue: string): Promise<void> {
  const handle = client.schedule.getHandle(archiveScheduleId(taskQueue));
  const running = await handle.describe().then(
    (d) => d.info.runningActions,
    (err) => {
      if (err instanceof ScheduleNotFoundError) return undefined;
      throw err;
    },
  );
  if (!running) return;
  await handle.delete();
  for (const { workflow } of running) {
    await client.workflow
      .getHandle(workflow.workflowId, workflow.firstExecutionRunId)
      .terminate("its archiving schedule was deleted")
      .catch(() => {}); // it may have ended meanwhile
  }
}

function scheduleOf(scheduleId: string, { taskQueue, intervalSeconds, batchSize }: ArchiveScheduleSettings) {
  return {
    spec: { intervals: [{ every: `${intervalSeconds} seconds` as const }] },
    action: {
      type: "startWorkflow" as const,
      workflowType: "archiveClosedRuns",
      // The server adds each tick's time to it.
      workflowId: scheduleId,
      taskQueue,
      args: [{ batchSize }] as [{ batchSize: number }],
      staticSummary: `Archive the closed checkouts of task queue ${taskQueue}`,
    },
    policies: {
      // A tick while a run is still draining a backlog has nothing to add: skipped, not queued.
      overlap: ScheduleOverlapPolicy.SKIP,
      // Missed ticks (the server was down) are not worth catching up: the next one lists them all.
      catchupWindow: "10 seconds" as const,
    },
  };
}
