// Archiving closed checkouts in batches: started by a schedule (archive/schedule.ts) every
// ARCHIVE_INTERVAL_SECONDS on the queue whose checkouts it archives. Each activity archives at
// most `batchSize` runs (archive/batch.ts); a backlog is drained batch after batch, up to
// MAX_BATCHES_PER_RUN, and the next tick takes the rest: the history of one run stays short.
// The schedule skips a tick while a run is still going, so two never list the same runs at once.
import { proxyActivities, workflowInfo } from "@temporalio/workflow";
import type { BatchRequest } from "../activities/archive.ts";
import type { Activities } from "../activities/index.ts";
import { archiveBatchActivityOptions } from "./retry-policies.ts";

const MAX_BATCHES_PER_RUN = 50;

const { archiveNextBatch } = proxyActivities<Activities>(archiveBatchActivityOptions);

export interface ArchiveClosedRunsInput {
  batchSize: number;
}

export interface ArchiveClosedRunsResult {
  /** Runs archived by each batch, in order. */
  batches: number[];
  /** Runs Temporal deleted before they could be archived. */
  gone: number;
  /** Whether runs were left for the next tick. */
  more: boolean;
  watermark?: string;
}

export async function archiveClosedRuns({ batchSize }: ArchiveClosedRunsInput): Promise<ArchiveClosedRunsResult> {
  const request: BatchRequest = { taskQueue: workflowInfo().taskQueue, batchSize };
  const result: ArchiveClosedRunsResult = { batches: [], gone: 0, more: true };
  while (result.more && result.batches.length < MAX_BATCHES_PER_RUN) {
    const batch = await archiveNextBatch(request);
    result.batches.push(batch.archived);
    result.gone += batch.gone;
    result.more = batch.more;
    result.watermark = batch.watermark;
  }
  return result;
}
