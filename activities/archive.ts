// Copies a closed run's history into the archive (archive/chain.ts), its payloads decrypted with
// the worker's codec (codec/history.ts) and then its secrets removed (archive/redact.ts). Started by workflows/archive.ts just before the run closes: until it has
// closed, this fails with RunNotClosedYet and Temporal retries it a moment later.
import { Context } from "@temporalio/activity";
import { ApplicationFailure, WorkflowNotFoundError } from "@temporalio/common";
import { appendToArchive } from "../archive/chain.ts";
import { historyToText } from "../archive/history-json.ts";
import { redactHistory } from "../archive/redact.ts";
import { fetchDecodedHistory } from "../codec/history.ts";
import type { Db } from "../prisma/client.ts";

export interface ArchiveTarget {
  workflowId: string;
  runId: string;
  checkoutId: string;
}

export interface ArchivedRecord {
  seq: number;
  hash: string;
}

export function archiveActivities(db: Db) {
  return {
    async archiveHistory({ workflowId, runId, checkoutId }: ArchiveTarget): Promise<ArchivedRecord> {
      const client = Context.current().client;
      const handle = client.workflow.getHandle(workflowId, runId);
      const description = await handle.describe().catch((err) => {
        if (err instanceof WorkflowNotFoundError)
          throw ApplicationFailure.nonRetryable(`${workflowId} run ${runId} was deleted before it could be archived`, "RunGone");
        throw err;
      });
      if (description.status.name === "RUNNING" || !description.closeTime) {
        throw ApplicationFailure.retryable(`${workflowId} has not closed yet`, "RunNotClosedYet");
      }
      // Decrypted first: the redaction reads the JSON payloads, and the archive outlives any key.
      const history = redactHistory(historyToText(await fetchDecodedHistory(client, workflowId, runId)));
      const record = await appendToArchive(db, {
        workflowId,
        runId,
        checkoutId,
        workflowType: description.type,
        status: description.status.name,
        closedAt: description.closeTime,
        history,
      });
      return { seq: record.seq, hash: record.hash };
    },
  };
}
