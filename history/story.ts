// A checkout's story, read from its workflow history (live or archived): who started it and for
// what, each step with its times and attempts, the signals and updates it received, its timers,
// the events it published, the resets that made new runs, and how it ended. The one reader of
// checkout histories: the API's /audit and the CLI's `show` tell what it returns.
import { orderTotal } from "../money/amounts.ts";
import { cancelOrderUpdate, cancelUpdate, payAgainUpdate, paymentEventSignal, shipUpdate } from "../workflows/definitions.ts";
import type { CheckoutInput, CheckoutState, PaymentEvent } from "../workflows/types.ts";
import { decode, type Failure, type HistoryEvent, iso, stateOfFailure, type Timestamp } from "./events.ts";
import type { HistorySource } from "./sources.ts";

export interface StoryFailure {
  type: string | null;
  message: string;
  /** For a timeout: the failure of the last attempt. */
  cause: string | null;
}

export interface StoryStep {
  activityId: string;
  activityType: string;
  scheduledAt: string;
  /** When the last attempt started. */
  startedAt: string | null;
  endedAt: string | null;
  result: "scheduled" | "running" | "completed" | "failed" | "timed out" | "cancelled";
  attempts: number;
  /** The final failure (or, while running, the last attempt's). */
  failure: StoryFailure | null;
}

export interface StorySignal {
  name: string;
  at: string;
  identity: string | null;
  input: { provider: string; eventId: string; kind: string; reference?: string } | null;
}

export interface StoryUpdate {
  name: string;
  updateId: string;
  identity: string | null;
  acceptedAt: string | null;
  completedAt: string | null;
  result: "accepted" | "completed" | "failed" | "rejected";
  /** A cancel's reason; a new payment's provider and method (never its token); a shipment's carrier and tracking. */
  input: { reason?: string; provider?: string; method?: string; carrier?: string; tracking?: string } | null;
  failure: StoryFailure | null;
}

export interface StoryTimer {
  timerId: string;
  startedAt: string;
  seconds: number;
  endedAt: string | null;
  result: "pending" | "fired" | "cancelled";
}

export interface CheckoutStory {
  checkout: {
    id: string;
    workflowId: string;
    runId: string;
    /** Every run of the workflow this history names (resets). */
    runIds: string[];
    /** Temporal's: RUNNING, COMPLETED, FAILED, TERMINATED, … */
    executionStatus: string;
    /** The checkout's: RUNNING, REQUIRES_ACTION, COMPLETED, … */
    status: string | null;
  };
  who: { customerId: string | null; identity: string | null };
  what: { amount: number; currency: string; itemCount: number; provider: string; fallbackProviders: string[]; method: string };
  where: { ip?: string; userAgent?: string; country?: string } | null;
  startedAt: string;
  closedAt: string | null;
  steps: StoryStep[];
  signals: StorySignal[];
  updates: StoryUpdate[];
  timers: StoryTimer[];
  children: Array<{ workflowType: string; workflowId: string; initiatedAt: string }>;
  outcome: { executionStatus: string; status: string | null; message: string | null; failureType: string | null } | null;
  source: { kind: "temporal" | "archive"; archive: HistorySource["archive"] };
}

export function readCheckoutHistory(checkoutId: string, workflowId: string, source: HistorySource): CheckoutStory {
  const { events } = source;
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  const input = decode<Partial<CheckoutInput> & { origin?: unknown }>(started?.input?.payloads?.[0]) ?? {};
  const runIds = new Set<string>();
  for (const id of [started?.firstExecutionRunId, started?.originalExecutionRunId, started?.continuedExecutionRunId])
    if (id) runIds.add(id);

  const steps = new Map<string, StoryStep>(); // by scheduled event id, or local-<id> for a local activity
  const updates = new Map<string, StoryUpdate>(); // by update id
  const timers = new Map<string, StoryTimer>(); // by timer id
  const signals: StorySignal[] = [];
  const children: CheckoutStory["children"] = [];
  let outcome: CheckoutStory["outcome"] = null;
  let closedAt: string | null = null;
  /** When the latest workflow task started: a local activity is scheduled and run within it. */
  let taskStartedAt = "";

  for (const event of events) {
    const at = iso(event.eventTime) ?? "";
    if (event.workflowTaskStartedEventAttributes) taskStartedAt = at;
    const stepOf = (scheduledEventId: unknown) => steps.get(String(scheduledEventId));
    const ends = (scheduledEventId: unknown, result: StoryStep["result"], failure?: Failure | null) => {
      const step = stepOf(scheduledEventId);
      if (!step) return;
      step.endedAt = at;
      step.result = result;
      if (failure) step.failure = failureView(failure);
    };

    if (event.activityTaskScheduledEventAttributes) {
      const a = event.activityTaskScheduledEventAttributes;
      steps.set(String(event.eventId), {
        activityId: a.activityId ?? "",
        activityType: a.activityType?.name ?? "",
        scheduledAt: at,
        startedAt: null,
        endedAt: null,
        result: "scheduled",
        attempts: 0,
        failure: null,
      });
    } else if (event.activityTaskStartedEventAttributes) {
      const a = event.activityTaskStartedEventAttributes;
      const step = stepOf(a.scheduledEventId);
      if (step) Object.assign(step, { startedAt: at, result: "running", attempts: a.attempt ?? 1 });
    } else if (event.activityTaskCompletedEventAttributes) {
      ends(event.activityTaskCompletedEventAttributes.scheduledEventId, "completed");
    } else if (event.activityTaskFailedEventAttributes) {
      const a = event.activityTaskFailedEventAttributes;
      ends(a.scheduledEventId, "failed", a.failure);
    } else if (event.activityTaskTimedOutEventAttributes) {
      const a = event.activityTaskTimedOutEventAttributes;
      ends(a.scheduledEventId, "timed out", a.failure);
    } else if (event.activityTaskCanceledEventAttributes) {
      ends(event.activityTaskCanceledEventAttributes.scheduledEventId, "cancelled");
    } else if (event.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER) {
      recordLocalStep(steps, event.markerRecordedEventAttributes, at, taskStartedAt || at);
    } else if (event.workflowExecutionSignaledEventAttributes) {
      const a = event.workflowExecutionSignaledEventAttributes;
      const name = a.signalName ?? "";
      signals.push({
        name,
        at,
        identity: a.identity || null,
        input: name === paymentEventSignal.name ? paymentEventView(decode<PaymentEvent>(a.input?.payloads?.[0])) : null,
      });
    } else if (event.workflowExecutionUpdateAcceptedEventAttributes) {
      const request = event.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest;
      const updateId = request?.meta?.updateId ?? "";
      const name = request?.input?.name ?? "";
      updates.set(updateId, {
        name,
        updateId,
        identity: request?.meta?.identity || null,
        acceptedAt: at,
        completedAt: null,
        result: "accepted",
        input: updateInputView(name, decode(request?.input?.args?.payloads?.[0])),
        failure: null,
      });
    } else if (event.workflowExecutionUpdateCompletedEventAttributes) {
      const a = event.workflowExecutionUpdateCompletedEventAttributes;
      const update = updates.get(a.meta?.updateId ?? "");
      if (update) {
        update.completedAt = at;
        update.result = a.outcome?.failure ? "failed" : "completed";
        if (a.outcome?.failure) update.failure = failureView(a.outcome.failure);
      }
    } else if (event.workflowExecutionUpdateRejectedEventAttributes) {
      const a = event.workflowExecutionUpdateRejectedEventAttributes;
      const request = a.rejectedRequest;
      updates.set(request?.meta?.updateId ?? String(event.eventId), {
        name: request?.input?.name ?? "",
        updateId: request?.meta?.updateId ?? "",
        identity: request?.meta?.identity || null,
        acceptedAt: null,
        completedAt: at,
        result: "rejected",
        input: null,
        failure: a.failure ? failureView(a.failure) : null,
      });
    } else if (event.timerStartedEventAttributes) {
      const a = event.timerStartedEventAttributes;
      const timeout = a.startToFireTimeout;
      const seconds = timeout ? Number(timeout.seconds ?? 0) + (timeout.nanos ?? 0) / 1e9 : 0;
      timers.set(a.timerId ?? "", { timerId: a.timerId ?? "", startedAt: at, seconds, endedAt: null, result: "pending" });
    } else if (event.timerFiredEventAttributes || event.timerCanceledEventAttributes) {
      const timer = timers.get((event.timerFiredEventAttributes ?? event.timerCanceledEventAttributes)?.timerId ?? "");
      if (timer) Object.assign(timer, { endedAt: at, result: event.timerFiredEventAttributes ? "fired" : "cancelled" });
    } else if (event.startChildWorkflowExecutionInitiatedEventAttributes) {
      const a = event.startChildWorkflowExecutionInitiatedEventAttributes;
      children.push({ workflowType: a.workflowType?.name ?? "", workflowId: a.workflowId ?? "", initiatedAt: at });
    } else if (event.workflowTaskFailedEventAttributes) {
      const { baseRunId, newRunId } = event.workflowTaskFailedEventAttributes;
      for (const id of [baseRunId, newRunId]) if (id) runIds.add(id);
    } else if (event.workflowExecutionCompletedEventAttributes) {
      const state = decode<CheckoutState>(event.workflowExecutionCompletedEventAttributes.result?.payloads?.[0]);
      closedAt = at;
      outcome = {
        executionStatus: "COMPLETED",
        status: state?.status ?? null,
        message: state?.failureReason ?? null,
        failureType: null,
      };
    } else if (event.workflowExecutionFailedEventAttributes) {
      const failure = event.workflowExecutionFailedEventAttributes.failure;
      const state = stateOfFailure(failure);
      closedAt = at;
      outcome = {
        executionStatus: "FAILED",
        status: state?.status ?? null,
        message: failure?.message ?? null,
        failureType: failure?.applicationFailureInfo?.type ?? null,
      };
    } else if (
      event.workflowExecutionTerminatedEventAttributes ||
      event.workflowExecutionCanceledEventAttributes ||
      event.workflowExecutionTimedOutEventAttributes ||
      event.workflowExecutionContinuedAsNewEventAttributes
    ) {
      closedAt = at;
      outcome = {
        executionStatus: event.workflowExecutionTerminatedEventAttributes
          ? "TERMINATED"
          : event.workflowExecutionCanceledEventAttributes
            ? "CANCELLED"
            : event.workflowExecutionTimedOutEventAttributes
              ? "TIMED_OUT"
              : "CONTINUED_AS_NEW",
        status: null,
        message: event.workflowExecutionTerminatedEventAttributes?.reason || null,
        failureType: null,
      };
    }
  }
  runIds.add(source.runId);

  // Attempts of a step still in flight are known to the server only, not to the history yet.
  for (const pending of source.pendingActivities) {
    const step = [...steps.values()].find((s) => s.activityId === pending.activityId && !s.endedAt);
    if (!step) continue;
    step.result = "running";
    step.attempts = pending.attempt ?? step.attempts;
    step.startedAt = iso(pending.lastStartedTime) ?? step.startedAt;
    if (pending.lastFailure) step.failure = failureView(pending.lastFailure);
  }

  const items = input.items ?? [];
  return {
    checkout: {
      id: checkoutId,
      workflowId,
      runId: source.runId,
      runIds: [...runIds],
      // The history's own close event, when it has one: the description (and its search
      // attributes, which visibility writes a moment later) may be older.
      executionStatus: outcome?.executionStatus ?? source.executionStatus,
      status: outcome?.status ?? source.checkoutStatus ?? null,
    },
    who: { customerId: input.customer?.id ?? null, identity: started?.identity || null },
    what: {
      amount: orderTotal(items),
      currency: input.currency ?? "",
      itemCount: items.length,
      provider: input.payment?.provider ?? "",
      fallbackProviders: input.payment?.fallbackProviders ?? [],
      method: input.payment?.method ?? "",
    },
    where: originView(input.origin),
    startedAt: iso(events[0]?.eventTime) ?? source.startTime.toISOString(),
    closedAt: closedAt ?? source.closeTime?.toISOString() ?? null,
    steps: [...steps.values()],
    signals,
    updates: [...updates.values()],
    timers: [...timers.values()],
    children,
    outcome,
    source: { kind: source.archive ? "archive" : "temporal", archive: source.archive },
  };
}

/** What the SDK records for each run of a local activity (the checkout's create-order step). */
const LOCAL_ACTIVITY_MARKER = "core_local_activity";

interface LocalActivityRun {
  activity_id?: string;
  activity_type?: string;
  attempt?: number;
  complete_time?: { seconds?: number; nanos?: number } | null;
  original_schedule_time?: { seconds?: number; nanos?: number } | null;
  /** Set when it failed and is retried later (after a timer). */
  backoff?: unknown;
}

type Marker = NonNullable<HistoryEvent["markerRecordedEventAttributes"]>;

/**
 * A local activity is one marker per run, not scheduled, started and closed events: one step,
 * whose attempts and result the latest marker tells. The marker is recorded when the task that ran
 * it completes, after the activity ended; its `original_schedule_time` is the worker's when it
 * wrote the marker, even after `complete_time`, unless a retry carried the first one over. So the
 * step was scheduled at the earliest of that, the start of the task that ran it, and its end.
 */
function recordLocalStep(steps: Map<string, StoryStep>, marker: Marker, at: string, taskStartedAt: string) {
  const run = decode<LocalActivityRun>(marker.details?.data?.payloads?.[0]);
  if (!run?.activity_id) return;
  const key = `local-${run.activity_id}`;
  const ended = iso(run.complete_time as Timestamp) ?? at;
  const step = steps.get(key) ?? {
    activityId: run.activity_id,
    activityType: run.activity_type ?? "",
    scheduledAt: earliest([iso(run.original_schedule_time as Timestamp), taskStartedAt, ended]),
    startedAt: null,
    endedAt: null,
    result: "scheduled" as StoryStep["result"],
    attempts: 0,
    failure: null,
  };
  step.attempts = Math.max(step.attempts, run.attempt ?? 1);
  step.startedAt = step.startedAt ?? step.scheduledAt;
  if (marker.failure) {
    step.failure = failureView(marker.failure);
    step.result = run.backoff ? "running" : "failed";
    step.endedAt = run.backoff ? null : ended;
  } else {
    step.result = "completed";
    step.endedAt = ended;
    step.failure = null;
  }
  steps.set(key, step);
}

/** The earliest of ISO timestamps (undefined ones left out). */
function earliest(times: Array<string | null | undefined>): string {
  return times.filter((t): t is string => !!t).reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a));
}

/** The secrets of a checkout, which no story may tell (an error message may quote them). */
export function secretsOf(source: HistorySource): string[] {
  const input = decode<Partial<CheckoutInput> & { recipient?: string }>(
    source.events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0],
  );
  // The tokens of payments made again after a decline are in their updates' arguments.
  const tokens = source.events.flatMap((event) => {
    const request = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
    if (request?.name !== payAgainUpdate.name) return [];
    return [decode<{ payment?: { token?: string } }>(request.args?.payloads?.[0])?.payment?.token];
  });
  // An order workflow's input has the email as its recipient.
  return [input?.customer?.email, input?.payment?.token, input?.recipient, ...tokens].filter(
    (s): s is string => typeof s === "string" && s.length >= 4,
  );
}

/** Replaces every occurrence of the secrets in every string of the value. */
export function redact<T>(value: T, secrets: string[]): T {
  if (!secrets.length) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return secrets.reduce((s, secret) => s.split(secret).join("[redacted]"), v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

function failureView(failure: Failure): StoryFailure {
  const type =
    failure.applicationFailureInfo?.type ??
    (failure.timeoutFailureInfo ? "Timeout" : failure.canceledFailureInfo ? "Cancelled" : null) ??
    null;
  return { type, message: failure.message ?? "", cause: failure.cause?.message ?? null };
}

/** Only the fields that tell which webhook it was. */
function paymentEventView(event: PaymentEvent | undefined): StorySignal["input"] {
  if (!event) return null;
  return {
    provider: String(event.provider),
    eventId: String(event.eventId),
    kind: String(event.kind),
    ...(event.reference ? { reference: String(event.reference) } : {}),
  };
}

function updateInputView(name: string, request: unknown): StoryUpdate["input"] {
  if (name === cancelUpdate.name) return cancelView(request);
  if (name === cancelOrderUpdate.name) return cancelView(request);
  if (name === shipUpdate.name) {
    const { carrier, tracking } = (request ?? {}) as { carrier?: unknown; tracking?: unknown };
    return {
      ...(typeof carrier === "string" ? { carrier } : {}),
      ...(typeof tracking === "string" ? { tracking } : {}),
    };
  }
  if (name === payAgainUpdate.name) {
    const payment = (request as { payment?: { provider?: unknown; method?: unknown } } | undefined)?.payment;
    return {
      ...(typeof payment?.provider === "string" ? { provider: payment.provider } : {}),
      ...(typeof payment?.method === "string" ? { method: payment.method } : {}),
    };
  }
  return null;
}

function cancelView(request: unknown): StoryUpdate["input"] {
  const reason = (request as { reason?: unknown } | undefined)?.reason;
  return typeof reason === "string" ? { reason } : {};
}

function originView(origin: unknown): CheckoutStory["where"] {
  if (!origin || typeof origin !== "object") return null;
  const where: NonNullable<CheckoutStory["where"]> = {};
  for (const key of ["ip", "userAgent", "country"] as const) {
    const value = (origin as Record<string, unknown>)[key];
    if (typeof value === "string" && value) where[key] = value;
  }
  return Object.keys(where).length ? where : null;
}
