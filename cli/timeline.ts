// A checkout's timeline read from its Temporal history alone: every step (activity) with its
// times and attempts, the status changes, signals, updates, timers, events, resets and the end.

import type { WorkflowExecutionDescription, WorkflowHandle } from "@temporalio/client";
import { defaultPayloadConverter, type Payload } from "@temporalio/common";
import { optionalTsToDate } from "@temporalio/common/lib/time.js";
import { orderTotal } from "../money/amounts.ts";
import type { CheckoutInput, CheckoutState } from "../workflows/types.ts";
import { money } from "./money.ts";

type History = Awaited<ReturnType<WorkflowHandle["fetchHistory"]>>;
type HistoryEvent = NonNullable<History["events"]>[number];
type Failure = NonNullable<NonNullable<HistoryEvent["activityTaskFailedEventAttributes"]>["failure"]>;

export interface TimelineEntry {
  /** ISO 8601. */
  at: string;
  kind: "started" | "step" | "status" | "signal" | "update" | "timer" | "event" | "reset" | "error" | "finished";
  name: string;
  detail?: string;
  /** Steps: how many attempts it took and how long from scheduled to done. */
  attempts?: number;
  durationMs?: number;
}

export interface HistoryTimeline {
  checkoutId: string;
  workflowId: string;
  runId: string;
  /** The checkout's status (COMPLETED, FAILED, …), from the workflow's result or search attribute. */
  status: string;
  workflowStatus: string;
  totalAmount?: number;
  currency?: string;
  provider?: string;
  customerId?: string;
  failureReason?: string;
  entries: TimelineEntry[];
}

const decode = (payload: Payload | null | undefined): unknown => {
  if (!payload) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload as Payload);
  } catch {
    return undefined;
  }
};
const first = (payloads: { payloads?: Payload[] | null } | null | undefined) => decode(payloads?.payloads?.[0]);
const iso = (event: HistoryEvent) => (optionalTsToDate(event.eventTime) ?? new Date(0)).toISOString();
const num = (value: unknown) => (value === null || value === undefined ? undefined : Number(value));

function failureText(failure: Failure | null | undefined): string | undefined {
  if (!failure) return undefined;
  const messages: string[] = [];
  for (let f: Failure | null | undefined = failure; f; f = f.cause) if (f.message) messages.push(f.message);
  return [...new Set(messages)].join(": ") || undefined;
}

/** The checkout's state a failed run left in its failure (workflows/checkout.ts throws it as details). */
export function stateOfFailure(failure: Failure | null | undefined): CheckoutState | undefined {
  const details = failure?.applicationFailureInfo?.details;
  return first(details) as CheckoutState | undefined;
}

export function buildTimeline(
  checkoutId: string,
  description: WorkflowExecutionDescription,
  history: History,
  status: string,
): HistoryTimeline {
  const entries: TimelineEntry[] = [];
  const activities = new Map<string, { name: string; scheduledAt: number; attempts?: number }>();
  const timers = new Map<string, number>();
  let input: CheckoutInput | undefined;
  let failureReason: string | undefined;

  for (const event of history.events ?? []) {
    const at = iso(event);
    const id = String(num(event.eventId));
    if (event.workflowExecutionStartedEventAttributes) {
      input = first(event.workflowExecutionStartedEventAttributes.input) as CheckoutInput | undefined;
      const total = input ? orderTotal(input.items) : undefined;
      entries.push({
        at,
        kind: "started",
        name: "checkout started",
        detail: input
          ? `${money(total, input.currency)} via ${input.payment.provider}, customer ${input.customer.id}`
          : undefined,
      });
    } else if (event.activityTaskScheduledEventAttributes) {
      const name = event.activityTaskScheduledEventAttributes.activityType?.name ?? "activity";
      activities.set(id, { name, scheduledAt: Date.parse(at) });
    } else if (event.activityTaskStartedEventAttributes) {
      const activity = activities.get(String(num(event.activityTaskStartedEventAttributes.scheduledEventId)));
      if (activity) activity.attempts = event.activityTaskStartedEventAttributes.attempt ?? undefined;
    } else if (event.activityTaskCompletedEventAttributes) {
      const attrs = event.activityTaskCompletedEventAttributes;
      const activity = activities.get(String(num(attrs.scheduledEventId)));
      if (activity) entries.push(stepEntry(at, activity, "completed"));
    } else if (event.activityTaskFailedEventAttributes) {
      const attrs = event.activityTaskFailedEventAttributes;
      const activity = activities.get(String(num(attrs.scheduledEventId)));
      if (activity) entries.push(stepEntry(at, activity, "failed", failureText(attrs.failure)));
    } else if (event.activityTaskTimedOutEventAttributes) {
      const attrs = event.activityTaskTimedOutEventAttributes;
      const activity = activities.get(String(num(attrs.scheduledEventId)));
      if (activity) entries.push(stepEntry(at, activity, "timed out", failureText(attrs.failure)));
    } else if (event.activityTaskCanceledEventAttributes) {
      const activity = activities.get(String(num(event.activityTaskCanceledEventAttributes.scheduledEventId)));
      if (activity) entries.push(stepEntry(at, activity, "cancelled"));
    } else if (event.upsertWorkflowSearchAttributesEventAttributes) {
      const fields = event.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {};
      for (const [key, payload] of Object.entries(fields)) {
        entries.push({ at, kind: "status", name: key, detail: `→ ${String(decode(payload))}` });
      }
    } else if (event.workflowExecutionSignaledEventAttributes) {
      const attrs = event.workflowExecutionSignaledEventAttributes;
      const arg = first(attrs.input) as { provider?: string; kind?: string; eventId?: string } | undefined;
      entries.push({
        at,
        kind: "signal",
        name: attrs.signalName ?? "signal",
        detail: arg?.kind ? `${arg.provider ?? ""} ${arg.kind} (${arg.eventId ?? "no id"})`.trim() : undefined,
      });
    } else if (event.workflowExecutionUpdateAcceptedEventAttributes) {
      const request = event.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest?.input;
      const arg = first(request?.args) as { reason?: string } | undefined;
      entries.push({
        at,
        kind: "update",
        name: request?.name ?? "update",
        detail: arg && typeof arg === "object" && arg.reason ? `accepted (reason: ${arg.reason})` : "accepted",
      });
    } else if (event.workflowExecutionUpdateCompletedEventAttributes) {
      const outcome = event.workflowExecutionUpdateCompletedEventAttributes.outcome;
      entries.push({
        at,
        kind: "update",
        name: "update",
        detail: outcome?.failure ? `refused: ${failureText(outcome.failure)}` : "completed",
      });
    } else if (event.timerStartedEventAttributes) {
      const attrs = event.timerStartedEventAttributes;
      timers.set(attrs.timerId ?? id, Date.parse(at));
      const seconds = num(attrs.startToFireTimeout?.seconds);
      entries.push({ at, kind: "timer", name: "deadline set", detail: seconds !== undefined ? `${seconds} s` : undefined });
    } else if (event.timerFiredEventAttributes) {
      entries.push({ at, kind: "timer", name: "deadline passed" });
    } else if (event.timerCanceledEventAttributes) {
      entries.push({ at, kind: "timer", name: "deadline cancelled", detail: "the payment settled first" });
    } else if (event.startChildWorkflowExecutionInitiatedEventAttributes) {
      const attrs = event.startChildWorkflowExecutionInitiatedEventAttributes;
      const arg = first(attrs.input) as { type?: string } | undefined;
      entries.push({
        at,
        kind: "event",
        name: arg?.type ?? attrs.workflowType?.name ?? "child",
        detail: attrs.workflowId ?? undefined,
      });
    } else if (event.workflowTaskFailedEventAttributes) {
      const attrs = event.workflowTaskFailedEventAttributes;
      if (attrs.baseRunId) {
        entries.push({
          at,
          kind: "reset",
          name: "reset",
          detail: `from run ${attrs.baseRunId}${attrs.failure?.message ? `: ${attrs.failure.message}` : ""}`,
        });
      } else {
        entries.push({ at, kind: "error", name: "workflow task failed", detail: failureText(attrs.failure) });
      }
    } else if (event.workflowExecutionCompletedEventAttributes) {
      const state = first(event.workflowExecutionCompletedEventAttributes.result) as CheckoutState | undefined;
      entries.push({ at, kind: "finished", name: state?.status ?? "COMPLETED" });
    } else if (event.workflowExecutionFailedEventAttributes) {
      const failure = event.workflowExecutionFailedEventAttributes.failure;
      const state = stateOfFailure(failure);
      failureReason = state?.failureReason ?? failure?.message ?? undefined;
      entries.push({ at, kind: "finished", name: state?.status ?? "FAILED", detail: failureReason });
    } else if (event.workflowExecutionTerminatedEventAttributes) {
      const reason = event.workflowExecutionTerminatedEventAttributes.reason;
      entries.push({ at, kind: "finished", name: "TERMINATED", detail: reason || undefined });
    } else if (event.workflowExecutionTimedOutEventAttributes) {
      entries.push({ at, kind: "finished", name: "TIMED_OUT" });
    } else if (event.workflowExecutionCanceledEventAttributes) {
      entries.push({ at, kind: "finished", name: "CANCELED" });
    }
  }

  // A step still in flight lives in the server, not in the history yet.
  for (const pending of description.raw.pendingActivities ?? []) {
    const lastFailure = failureText(pending.lastFailure as Failure | null | undefined);
    entries.push({
      at: (optionalTsToDate(pending.lastStartedTime ?? pending.scheduledTime) ?? new Date()).toISOString(),
      kind: "step",
      name: pending.activityType?.name ?? "activity",
      detail: `in progress${lastFailure ? `, last error: ${lastFailure}` : ""}`,
      attempts: pending.attempt ?? undefined,
    });
  }

  const total = input ? orderTotal(input.items) : undefined;
  return {
    checkoutId,
    workflowId: description.workflowId,
    runId: description.runId,
    status,
    workflowStatus: description.status.name,
    totalAmount: total,
    currency: input?.currency,
    provider: input?.payment.provider,
    customerId: input?.customer.id,
    failureReason,
    entries,
  };
}

function stepEntry(
  at: string,
  activity: { name: string; scheduledAt: number; attempts?: number },
  outcome: string,
  detail?: string,
): TimelineEntry {
  return {
    at,
    kind: "step",
    name: activity.name,
    detail: detail ? `${outcome}: ${detail}` : outcome,
    attempts: activity.attempts,
    durationMs: Math.max(0, Date.parse(at) - activity.scheduledAt),
  };
}
