// A checkout that Temporal no longer has (its namespace's retention deleted the run) is still a
// checkout: its archived history (archive/) tells how it ended and what it was asked to do, and
// the database keeps its rows. The checkout routes read it from here then.
import { latestArchived } from "../../archive/chain.ts";
import { decodePayload as decode, historyFromText } from "../../archive/history-json.ts";
import { finalState } from "../../history/events.ts";
import type { Db } from "../../prisma/client.ts";
import type { CheckoutState } from "../../workflows/types.ts";

export interface ArchivedCheckout {
  /** Temporal's status when the run closed: COMPLETED, FAILED, TERMINATED, … */
  executionStatus: string;
  /** The workflow's final state, when it returned one (completed) or failed with one. */
  state?: CheckoutState;
  memo: Record<string, unknown>;
}

export async function archivedCheckout(db: Db, workflowId: string): Promise<ArchivedCheckout | undefined> {
  const record = await latestArchived(db, workflowId);
  if (!record) return undefined;
  const events = historyFromText(record.history).events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  const memo = Object.fromEntries(
    Object.entries(started?.memo?.fields ?? {}).map(([key, payload]) => [key, decode<unknown>(payload)]),
  );
  return { executionStatus: record.status, state: finalState(events), memo };
}
