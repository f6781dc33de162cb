// A checkout's story for GET /checkouts/{id}/audit, told from its workflow history (running or
// closed): who started it and for what, each step with its times and attempts, the signals and
// updates it received, its timers and how it ended. The history keeps only the last failure of a
// retried activity, so the payment attempts come from the PaymentAttempt rows the payment
// activities write. Nothing secret is echoed: no email, no payment token. Once Temporal has
// deleted the run (retention, `temporal workflow delete`), the story comes from the archive.

import { type Client, type WorkflowExecutionDescription, type WorkflowHandle, WorkflowNotFoundError } from "@temporalio/client";
import { latestArchived } from "../archive/chain.ts";
import { decodePayload as decode, historyFromText } from "../archive/history-json.ts";
import { orderTotal } from "../money/amounts.ts";
import type { Db } from "../prisma/client.ts";
import { checkoutWorkflowId, searchAttributes } from "../workflows/definitions.ts";
import type { CheckoutInput, CheckoutState, PaymentEvent } from "../workflows/types.ts";
import { notFound } from "./errors.ts";
import type { AuditTimeline } from "./schemas.ts";

type History = Awaited<ReturnType<WorkflowHandle["fetchHistory"]>>;
type HistoryEvent = NonNullable<History["events"]>[number];
type Failure = NonNullable<NonNullable<HistoryEvent["activityTaskFailedEventAttributes"]>["failure"]>;
type Timestamp = HistoryEvent["eventTime"];
type Step = AuditTimeline["steps"][number];
type Update = AuditTimeline["updates"][number];
type Timer = AuditTimeline["timers"][number];

const ID_PATTERN = /^chk_[a-f0-9]{32}$/;

/** A run's history and what the server knows beside it; from Temporal, or from the archive. */
interface HistorySource {
  runId: string;
  executionStatus: string;
  events: HistoryEvent[];
  startTime: Date;
  closeTime: Date | null;
  /** The CheckoutStatus search attribute (live runs only: archived ones tell it in their result). */
  checkoutStatus?: string;
  pendingActivities: PendingActivity[];
  archive: AuditTimeline["source"]["archive"];
}
type PendingActivity = NonNullable<WorkflowExecutionDescription["raw"]["pendingActivities"]>[number];

export async function auditTimeline(temporal: Client, db: Db, checkoutId: string): Promise<AuditTimeline> {
  if (!ID_PATTERN.test(checkoutId)) throw notFound("checkout", checkoutId);
  const workflowId = checkoutWorkflowId(checkoutId);
  // Once the namespace's retention (or an operator) has deleted the run, the archive tells it.
  const source = (await fromTemporal(temporal, workflowId)) ?? (await fromArchive(db, workflowId));
  if (!source) throw notFound("checkout", checkoutId);
  return story(db, checkoutId, workflowId, source);
}

async function fromTemporal(temporal: Client, workflowId: string): Promise<HistorySource | undefined> {
  let description: WorkflowExecutionDescription;
  try {
    description = await temporal.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  // The run just described, even if a reset starts another one meanwhile.
  const history = await temporal.workflow.getHandle(workflowId, description.runId).fetchHistory();
  return {
    runId: description.runId,
    executionStatus: description.status.name,
    events: history.events ?? [],
    startTime: description.startTime,
    closeTime: description.closeTime ?? null,
    checkoutStatus: description.typedSearchAttributes.get(searchAttributes.CheckoutStatus),
    pendingActivities: description.raw.pendingActivities ?? [],
    archive: null,
  };
}

async function fromArchive(db: Db, workflowId: string): Promise<HistorySource | undefined> {
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

async function story(db: Db, checkoutId: string, workflowId: string, source: HistorySource): Promise<AuditTimeline> {
  const { events } = source;
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  const input = decode<Partial<CheckoutInput> & { origin?: unknown }>(started?.input?.payloads?.[0]) ?? {};
  const runIds = new Set<string>();
  for (const id of [started?.firstExecutionRunId, started?.originalExecutionRunId, started?.continuedExecutionRunId])
    if (id) runIds.add(id);

  const steps = new Map<string, Step>(); // by scheduled event id
  const updates = new Map<string, Update>(); // by update id
  const timers = new Map<string, Timer>(); // by timer id
  const signals: AuditTimeline["signals"] = [];
  const children: AuditTimeline["children"] = [];
  let outcome: AuditTimeline["outcome"] = null;
  let closedAt: string | null = null;

  for (const event of events) {
    const at = iso(event.eventTime) ?? "";
    const stepOf = (scheduledEventId: unknown) => steps.get(String(scheduledEventId));
    const ends = (scheduledEventId: unknown, result: Step["result"], failure?: Failure | null) => {
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
    } else if (event.workflowExecutionSignaledEventAttributes) {
      const a = event.workflowExecutionSignaledEventAttributes;
      const name = a.signalName ?? "";
      signals.push({
        name,
        at,
        identity: a.identity || null,
        input: name === "paymentEvent" ? paymentEventView(decode<PaymentEvent>(a.input?.payloads?.[0])) : null,
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
        input: name === "cancel" ? cancelView(decode(request?.input?.args?.payloads?.[0])) : null,
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
      const state = decode<CheckoutState>(failure?.applicationFailureInfo?.details?.payloads?.[0]);
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
        executionStatus: source.executionStatus,
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

  const attempts = await db.paymentAttempt.findMany({
    where: { checkoutId },
    orderBy: [{ startedAt: "asc" }, { attempt: "asc" }],
  });
  const items = input.items ?? [];
  const timeline: AuditTimeline = {
    checkout: {
      id: checkoutId,
      workflowId,
      runId: source.runId,
      runIds: [...runIds],
      executionStatus: source.executionStatus,
      status: source.checkoutStatus ?? outcome?.status ?? null,
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
    attempts: attempts.map((a) => ({
      activityType: a.activityType,
      activityId: a.activityId,
      runId: a.runId,
      provider: a.provider,
      attempt: a.attempt,
      startedAt: a.startedAt.toISOString(),
      endedAt: a.endedAt.toISOString(),
      outcome: a.outcome,
      errorType: a.errorType,
      errorMessage: a.errorMessage,
    })),
    signals,
    updates: [...updates.values()],
    timers: [...timers.values()],
    children,
    outcome,
    source: { kind: source.archive ? "archive" : "temporal", archive: source.archive },
  };
  // Belt and braces: an error message (an SMTP refusal, a gateway's echo) may quote them.
  return redact(timeline, [input.customer?.email, input.payment?.token]);
}

function iso(ts: Timestamp | undefined): string | null {
  if (!ts) return null;
  return new Date(Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
}

function failureView(failure: Failure): NonNullable<Step["failure"]> {
  const type =
    failure.applicationFailureInfo?.type ??
    (failure.timeoutFailureInfo ? "Timeout" : failure.canceledFailureInfo ? "Cancelled" : null) ??
    null;
  return { type, message: failure.message ?? "", cause: failure.cause?.message ?? null };
}

/** Only the fields that tell which webhook it was. */
function paymentEventView(event: PaymentEvent | undefined): AuditTimeline["signals"][number]["input"] {
  if (!event) return null;
  return {
    provider: String(event.provider),
    eventId: String(event.eventId),
    kind: String(event.kind),
    ...(event.reference ? { reference: String(event.reference) } : {}),
  };
}

function cancelView(request: unknown): Update["input"] {
  const reason = (request as { reason?: unknown } | undefined)?.reason;
  return typeof reason === "string" ? { reason } : {};
}

function originView(origin: unknown): AuditTimeline["where"] {
  if (!origin || typeof origin !== "object") return null;
  const where: NonNullable<AuditTimeline["where"]> = {};
  for (const key of ["ip", "userAgent", "country"] as const) {
    const value = (origin as Record<string, unknown>)[key];
    if (typeof value === "string" && value) where[key] = value;
  }
  return Object.keys(where).length ? where : null;
}

/** Replaces every occurrence of the secrets in every string of the value. */
function redact<T>(value: T, secrets: Array<string | undefined>): T {
  const hidden = secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
  if (!hidden.length) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return hidden.reduce((s, secret) => s.split(secret).join("[redacted]"), v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
