// One batch of the archiving schedule (workflows/archive-batch.ts runs it as an activity): the
// oldest closed checkout runs of a task queue that the archive lacks, at most `batchSize`, each
// copied as the run's own archiver copies it (archive/copy-run.ts); then the watermark moves past
// them, and only them. A run archived meanwhile by its own child is left as it is.
import { type Client, WorkflowNotFoundError } from "@temporalio/client";
import type { Db } from "../prisma/client.ts";
import { findUnarchived, type Unarchived, VISIBILITY_MARGIN_MS } from "./closed-runs.ts";
import { copyRunToArchive } from "./copy-run.ts";
import { advanceWatermark, readWatermark } from "./watermark.ts";

export interface BatchOptions {
  taskQueue: string;
  batchSize: number;
  /** How far before the watermark to list again (VISIBILITY_MARGIN_MS). */
  marginMs?: number;
  log?: (line: string) => void;
}

export interface BatchOutcome {
  /** Runs this batch appended to the archive (or found there, appended a moment before by their own archiver). */
  archived: number;
  /** Runs Temporal deleted before they could be archived: passed over, and logged. */
  gone: number;
  /** Whether runs are left for another batch. */
  more: boolean;
  /** The watermark after the batch (ISO 8601), absent while the queue has none. */
  watermark?: string;
}

export async function archiveClosedBatch(client: Client, db: Db, options: BatchOptions): Promise<BatchOutcome> {
  const { taskQueue, batchSize, marginMs = VISIBILITY_MARGIN_MS } = options;
  const watermark = await readWatermark(db, taskQueue);
  const from = watermark && new Date(watermark.getTime() - marginMs);
  const found = await findUnarchived(client, db, { taskQueue, from, enough: batchSize });
  let archived = 0;
  let gone = 0;
  for (const run of found.runs.slice(0, batchSize)) {
    try {
      await copyRunToArchive(client, db, run);
      archived++;
    } catch (err) {
      if (!(await isGone(client, run.workflowId, run.runId))) {
        // Every run before this one is archived: a retry starts from it, not from the last watermark.
        await advanceWatermark(db, taskQueue, run.closeTime);
        throw err;
      }
      gone++;
      options.log?.(`${run.workflowId} run ${run.runId} was deleted from Temporal before it could be archived`);
    }
  }
  const next = nextWatermark(found, batchSize);
  if (next.closeTime) await advanceWatermark(db, taskQueue, next.closeTime);
  return { archived, gone, more: next.more, watermark: (await readWatermark(db, taskQueue))?.toISOString() };
}

/**
 * Where the watermark may go once the first `batchSize` runs found are archived: to the first
 * run left for the next batch; else as far as the listing went (a bounded window: runs may
 * follow it), or to the newest close it saw when it went up to now.
 */
export function nextWatermark(found: Unarchived, batchSize: number): { closeTime?: Date; more: boolean } {
  const left = found.runs[batchSize];
  if (left) return { closeTime: left.closeTime, more: true };
  if (found.listedUpTo) return { closeTime: found.listedUpTo, more: true };
  return { closeTime: found.latestClose, more: false };
}

async function isGone(client: Client, workflowId: string, runId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId, runId).describe();
    return false;
  } catch (err) {
    return err instanceof WorkflowNotFoundError;
  }
}
