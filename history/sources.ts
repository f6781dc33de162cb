// Where a checkout's history comes from: Temporal while it has the run (its payloads decrypted
// with the client's codec), the archive once the namespace's retention (or an operator) has
// deleted it (kept decrypted, secrets removed).
import { type Client, type WorkflowExecutionDescription, WorkflowNotFoundError } from "@temporalio/client";
import { latestArchived } from "../archive/chain.ts";
import { historyFromText } from "../archive/history-json.ts";
import { codecsOf, decodePayloadsIn, fetchDecodedHistory } from "../codec/history.ts";
import type { Db } from "../prisma/client.ts";
import { searchAttributes } from "../workflows/definitions.ts";
import type { HistoryEvent } from "./events.ts";

export type PendingActivity = NonNullable<WorkflowExecutionDescription["raw"]["pendingActivities"]>[number];

/** A run's history and what the server knows beside it. */
export interface HistorySource {
  runId: string;
  executionStatus: string;
  events: HistoryEvent[];
  startTime: Date;
  closeTime: Date | null;
  /** The CheckoutStatus search attribute (live runs only: archived ones tell it in their result). */
  checkoutStatus?: string;
  /** Attempts of steps in flight: the server's, not in the history yet. */
  pendingActivities: PendingActivity[];
  /** The archive record told from, when the run is no longer in Temporal. */
  archive: { seq: number; hash: string; archivedAt: string } | null;
}

export async function historyFromTemporal(temporal: Client, workflowId: string): Promise<HistorySource | undefined> {
  let description: WorkflowExecutionDescription;
  try {
    description = await temporal.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  // The run just described, even if a reset starts another one meanwhile.
  const history = await fetchDecodedHistory(temporal, workflowId, description.runId);
  return {
    runId: description.runId,
    executionStatus: description.status.name,
    events: history.events ?? [],
    startTime: description.startTime,
    closeTime: description.closeTime ?? null,
    checkoutStatus: description.typedSearchAttributes.get(searchAttributes.CheckoutStatus),
    // Their heartbeat details and last failures' details are payloads too.
    pendingActivities: await decodePayloadsIn(description.raw.pendingActivities ?? [], codecsOf(temporal)),
    archive: null,
  };
}

export async function historyFromArchive(db: Db, workflowId: string): Promise<HistorySource | undefined> {
  const record = await latestArchived(db, workflowId);
  if (!record) return undefined;
  return {
    runId: record.runId,
    executionStatus: record.status,
    events: historyFromText(record.history).events ?? [],
    startTime: record.closedAt,
    closeTime: record.closedAt,
    pendingActivities: [],
    archive: { seq: record.seq, hash: record.hash, archivedAt: record.archivedAt.toISOString() },
  };
}
