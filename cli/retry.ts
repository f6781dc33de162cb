// `checkout retry`: resets a failed checkout's workflow to the workflow task that scheduled its
// first payment attempt, so the order step (already done) is kept and the payment runs again
// under the same workflow ID: the gateway gets the same idempotency key (`checkout-<id>:payment`)
// and cannot charge twice. Then follows the new run to its end.
import { randomUUID } from "node:crypto";
import { WorkflowFailedError } from "@temporalio/client";
import { ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure } from "@temporalio/common";
import type { Activities } from "../activities/index.ts";
import { fetchDecodedHistory } from "../codec/history.ts";
import { stateOfFailedRun, stateOfFailure } from "../history/events.ts";
import type { checkout } from "../workflows/checkout.ts";
import { PAYMENT_DECLINED } from "../workflows/definitions.ts";
import { rowOf } from "./list.ts";
import { CliError, type FoundCheckout, type Temporal } from "./temporal.ts";

/** The payment step's activity: a reset goes to just before its first scheduling. */
export const PAYMENT_ACTIVITY = "initiatePayment" satisfies keyof Activities;

type History = Awaited<ReturnType<FoundCheckout["handle"]["fetchHistory"]>>;
type HistoryEvent = NonNullable<History["events"]>[number];
type EventId = NonNullable<NonNullable<HistoryEvent["activityTaskScheduledEventAttributes"]>["workflowTaskCompletedEventId"]>;

export interface RetryPlan {
  checkoutId: string;
  workflowId: string;
  /** The failed run that is reset. */
  baseRunId: string;
  /** The WorkflowTaskCompleted event just before the first payment attempt was scheduled. */
  resetEventId: EventId;
  failureReason?: string;
}

export type Eligibility =
  | { ok: true; plan: RetryPlan }
  | { ok: false; kind: "running" | "not-failed" | "declined" | "no-payment-step"; reason: string };

/** Whether the checkout's current run can be retried, and from which event. */
export async function planRetry(
  temporal: Temporal,
  found: FoundCheckout,
  options: { includeDeclined?: boolean } = {},
): Promise<Eligibility> {
  const { checkoutId, workflowId, description } = found;
  const status = rowOf(description).status;
  const failed = description.status.name === "FAILED" || status === "FAILED";
  if (description.status.name === "RUNNING") {
    return {
      ok: false,
      kind: "running",
      reason: `checkout ${checkoutId} is still running (${status}); only a FAILED one can be retried.`,
    };
  }
  if (!failed) {
    return { ok: false, kind: "not-failed", reason: `checkout ${checkoutId} is ${status}; only a FAILED one can be retried.` };
  }
  // Decrypted: the state the failed run left is in its failure's details, a payload.
  const history = await fetchDecodedHistory(temporal.client, workflowId, description.runId);
  const events = history.events ?? [];
  const failure = events.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes?.failure;
  const state = stateOfFailure(failure);
  const failureReason = state?.failureReason ?? failure?.message ?? undefined;
  if (state?.lastError?.type === PAYMENT_DECLINED && !options.includeDeclined) {
    return {
      ok: false,
      kind: "declined",
      reason:
        `checkout ${checkoutId} was declined (${failureReason}); the provider would answer the same to the same key. ` +
        "Add --include-declined to retry it anyway.",
    };
  }
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === PAYMENT_ACTIVITY);
  const resetEventId = scheduled?.activityTaskScheduledEventAttributes?.workflowTaskCompletedEventId;
  if (!resetEventId) {
    return {
      ok: false,
      kind: "no-payment-step",
      reason:
        `checkout ${checkoutId} failed before its payment step (no ${PAYMENT_ACTIVITY} in run ${description.runId}); ` +
        `look at it with \`checkout show ${checkoutId}\` and reset it by hand if need be.`,
    };
  }
  return { ok: true, plan: { checkoutId, workflowId, baseRunId: description.runId, resetEventId, failureReason } };
}

/**
 * Resets the failed run to the plan's event: a new run starts there, under the same workflow ID.
 * A reset terminates whatever run is current, so it is refused when the checkout's current run
 * is no longer the planned one (someone retried it meanwhile). The server does not deduplicate
 * resets by request id: two retries racing past that check make two runs, the first terminated;
 * the gateway's idempotency key still charges once.
 */
export async function resetToPayment(temporal: Temporal, plan: RetryPlan, reason: string): Promise<string> {
  const current = await temporal.client.workflow.getHandle(plan.workflowId).describe();
  if (current.runId !== plan.baseRunId) {
    throw new CliError(
      `checkout ${plan.checkoutId} changed since it was looked at: its current run is ${current.runId} (${rowOf(current).status}).`,
    );
  }
  const { runId } = await temporal.connection.workflowService.resetWorkflowExecution({
    namespace: temporal.namespace,
    workflowExecution: { workflowId: plan.workflowId, runId: plan.baseRunId },
    workflowTaskFinishEventId: plan.resetEventId,
    reason,
    requestId: randomUUID(),
    identity: temporal.identity,
  });
  if (!runId) throw new Error(`The server reset ${plan.workflowId} but returned no run id.`);
  return runId;
}

export interface RunOutcome {
  status: string;
  failureReason?: string;
}

/** Waits for the run to end and tells how the checkout ended. */
export async function followRun(temporal: Temporal, workflowId: string, runId: string): Promise<RunOutcome> {
  const handle = temporal.client.workflow.getHandle<typeof checkout>(workflowId, runId);
  try {
    const state = await handle.result();
    return { status: state.status, failureReason: state.failureReason };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) {
      const state = stateOfFailedRun(cause);
      return { status: state?.status ?? "FAILED", failureReason: state?.failureReason ?? cause.message };
    }
    if (cause instanceof TerminatedFailure) return { status: "TERMINATED", failureReason: cause.message };
    if (cause instanceof TimeoutFailure) return { status: "TIMED_OUT", failureReason: cause.message };
    if (cause instanceof CancelledFailure) return { status: "CANCELED", failureReason: cause.message };
    return { status: "FAILED", failureReason: cause?.message ?? err.message };
  }
}
