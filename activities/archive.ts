// The archive's two activities, one copy (archive/copy-run.ts) behind both:
// - archiveHistory: a run's own archiver (workflows/archive.ts), started by the run just before it
//   closes (checkouts started before the schedule, `npx checkout archive`): until the run has
//   closed it fails with RunNotClosedYet and Temporal retries it a moment later.
// - archiveNextBatch: the schedule's batch (workflows/archive-batch.ts, archive/batch.ts), which
//   finds the closed runs the archive lacks itself.
import { Context } from "@temporalio/activity";
import { ApplicationFailure, WorkflowNotFoundError } from "@temporalio/common";
import { archiveClosedBatch, type BatchOutcome } from "../archive/batch.ts";
import { copyRunToArchive } from "../archive/copy-run.ts";
import type { Db } from "../prisma/client.ts";
import { whileHeartbeating } from "./heartbeat.ts";

export interface ArchiveTarget {
  workflowId: string;
  runId: string;
  checkoutId: string;
}

export interface ArchivedRecord {
  seq: number;
  hash: string;
}

export interface BatchRequest {
  taskQueue: string;
  batchSize: number;
}

export function archiveActivities(db: Db) {
  return {
    async archiveHistory({ workflowId, runId, checkoutId }: ArchiveTarget): Promise<ArchivedRecord> {
      const client = Context.current().client;
      const description = await client.workflow
        .getHandle(workflowId, runId)
        .describe()
        .catch((err) => {
          if (err instanceof WorkflowNotFoundError)
            throw ApplicationFailure.nonRetryable(
              `${workflowId} run ${runId} was deleted before it could be archived`,
              "RunGone",
            );
          throw err;
        });
      if (description.status.name === "RUNNING" || !description.closeTime) {
        throw ApplicationFailure.retryable(`${workflowId} has not closed yet`, "RunNotClosedYet");
      }
      const { type: workflowType, status, closeTime } = description;
      const record = await copyRunToArchive(client, db, {
        workflowId,
        runId,
        checkoutId,
        workflowType,
        status: status.name,
        closeTime,
      });
      return { seq: record.seq, hash: record.hash };
    },

    async archiveNextBatch({ taskQueue, batchSize }: BatchRequest): Promise<BatchOutcome> {
      const { client, log } = Context.current();
      // Heartbeats while it lists and copies: a worker that dies mid-batch is noticed in seconds.
      return whileHeartbeating(() => archiveClosedBatch(client, db, { taskQueue, batchSize, log: (line) => log.warn(line) }));
    },
  };
}
