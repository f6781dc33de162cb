// The raw material of a checkout's story: Temporal's history events, as the client and the
// archive give them, and the little every reader needs from them (times, payloads, the state a
// closed run left behind).
import type { WorkflowHandle } from "@temporalio/client";
import { ApplicationFailure, WorkflowFailedError } from "@temporalio/client";
import { decodePayload } from "../archive/history-json.ts";
import type { CheckoutState } from "../workflows/types.ts";

export type History = Awaited<ReturnType<WorkflowHandle["fetchHistory"]>>;
export type HistoryEvent = NonNullable<History["events"]>[number];
export type Failure = NonNullable<NonNullable<HistoryEvent["activityTaskFailedEventAttributes"]>["failure"]>;
export type Timestamp = HistoryEvent["eventTime"];

export { decodePayload as decode };

/** ISO 8601, or null for an event without a time. */
export function iso(ts: Timestamp | undefined): string | null {
  if (!ts) return null;
  return new Date(Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
}

/**
 * The checkout's state as its run closed: the workflow's result, or, for a failed run, the state
 * the checkout workflow throws as its failure's details (workflows/checkout.ts).
 */
export function finalState(events: HistoryEvent[]): CheckoutState | undefined {
  const last = events.at(-1);
  return (
    decodePayload<CheckoutState>(last?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]) ??
    stateOfFailure(last?.workflowExecutionFailedEventAttributes?.failure)
  );
}

/** The state a failed checkout run carries in its failure's details, as the history has it. */
export function stateOfFailure(failure: Failure | null | undefined): CheckoutState | undefined {
  return decodePayload<CheckoutState>(failure?.applicationFailureInfo?.details?.payloads?.[0]);
}

/** The same, from the error a client's `result()` of the failed run throws. */
export function stateOfFailedRun(err: unknown): CheckoutState | undefined {
  const cause = err instanceof WorkflowFailedError ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.details?.[0] as CheckoutState | undefined) : undefined;
}
