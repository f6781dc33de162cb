// `checkout archive <id> | --query Q`: archives closed checkout runs now, without waiting for the
// archiving schedule's next batch (or ones of a queue no schedule serves). It starts the archiver
// a checkout starts itself (workflows/archive.ts), under the same workflow ID, and a run already
// archived, by either, keeps its one record.
import { WorkflowExecutionAlreadyStartedError } from "@temporalio/common";
import type { ArchivedRecord } from "../activities/archive.ts";
import type { archiveCheckoutHistory } from "../workflows/archive.ts";
import { archiveWorkflowId } from "../workflows/definitions.ts";
import type { CheckoutRow } from "./list.ts";
import type { Temporal } from "./temporal.ts";

export interface ArchiveOutcome {
  checkoutId: string;
  runId: string;
  record?: ArchivedRecord;
  error?: string;
}

/** Archives one closed run and waits for its record (the worker on `taskQueue` does the work). */
export async function archiveRun(temporal: Temporal, run: CheckoutRow, taskQueue: string): Promise<ArchiveOutcome> {
  const workflowId = archiveWorkflowId(run.workflowId, run.runId);
  const target = { workflowId: run.workflowId, runId: run.runId, checkoutId: run.id };
  try {
    let handle = temporal.client.workflow.getHandle<typeof archiveCheckoutHistory>(workflowId);
    try {
      handle = await temporal.client.workflow.start<typeof archiveCheckoutHistory>("archiveCheckoutHistory", {
        workflowId,
        taskQueue,
        args: [target],
        workflowIdConflictPolicy: "USE_EXISTING",
        // An archiver that completed has the record; one that failed may be tried again.
        workflowIdReusePolicy: "ALLOW_DUPLICATE_FAILED_ONLY",
        staticSummary: `Archive the history of ${run.workflowId} (run ${run.runId}), asked by ${temporal.identity}`,
      });
    } catch (err) {
      // Archived before (its archiver completed): its result is the record. After the archiver's
      // own retention a new one starts, and finds the record already there.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    return { checkoutId: run.id, runId: run.runId, record: await handle.result() };
  } catch (err) {
    return { checkoutId: run.id, runId: run.runId, error: (err as Error).message };
  }
}
