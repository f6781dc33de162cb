// Archiving a checkout's history: started by the checkout as an abandoned child just before it
// closes; its one activity waits for the close, then appends the history (secrets removed) to
// the hash-chained archive in PostgreSQL (activities/archive.ts), where /audit finds it after
// the namespace's retention has deleted the workflow.
import { ParentClosePolicy, proxyActivities, startChild, WorkflowIdReusePolicy, workflowInfo } from "@temporalio/workflow";
import type { ArchivedRecord, ArchiveTarget } from "../activities/archive.ts";
import type { Activities } from "../activities/index.ts";
import { isAlreadyStarted } from "./already-started.ts";
import { archiveWorkflowId } from "./definitions.ts";
import { archiveActivityOptions } from "./retry-policies.ts";

const { archiveHistory } = proxyActivities<Activities>(archiveActivityOptions);

export async function archiveCheckoutHistory(target: ArchiveTarget): Promise<ArchivedRecord> {
  return await archiveHistory(target);
}

/** Starts archiving the current run; returns at once. A second start (replay after a retry) is a no-op. */
export async function startArchive(checkoutId: string): Promise<void> {
  const { workflowId, runId } = workflowInfo();
  try {
    await startChild(archiveCheckoutHistory, {
      workflowId: archiveWorkflowId(workflowId, runId),
      args: [{ workflowId, runId, checkoutId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `Archive the history of ${workflowId} (run ${runId})`,
    });
  } catch (err) {
    if (!isAlreadyStarted(err)) throw err;
  }
}
