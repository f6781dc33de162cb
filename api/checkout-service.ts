// What the checkout routes do with Temporal and the database: start one workflow per checkout
// (idempotently) unless the customer's risk check holds it, read a checkout's state, and cancel it.
import { createHash, randomUUID } from "node:crypto";
import {
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
  WorkflowUpdateFailedError,
} from "@temporalio/client";
import {
  ApplicationFailure,
  TypedSearchAttributes,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from "@temporalio/common";
import { refundableAmount } from "../activities/refunds.ts";
import { stateOfFailedRun } from "../history/events.ts";
import { fromDb, orderTotal } from "../money/amounts.ts";
import type { Db } from "../prisma/client.ts";
import { checkAmount } from "../providers/currency-rules.ts";
import type { checkout } from "../workflows/checkout.ts";
import {
  awaitPaymentAnswerUpdate,
  CHECKOUT_NOT_CANCELLABLE,
  cancelUpdate,
  checkoutWorkflowId,
  getStateQuery,
  isCheckoutId,
  refundWorkflowId,
  searchAttributes,
} from "../workflows/definitions.ts";
import type { refund } from "../workflows/refund.ts";
import type { CheckoutInput, CheckoutOrigin, CheckoutState } from "../workflows/types.ts";
import { type ArchivedCheckout, archivedCheckout } from "./archived-checkout.ts";
import { ApiError, notFound } from "./errors.ts";
import { assessCheckout, customerOnHold, riskChecksOff } from "./risk-check.ts";
import type { CheckoutRequest } from "./schemas.ts";

export interface CheckoutServiceDeps {
  temporal: Client;
  db: Db;
  taskQueue: string;
  paymentRetryWindowSeconds: number;
  refundRetryWindowSeconds: number;
  paymentActionTimeoutSeconds: number;
  returnUrl?: string;
  /** Ask the customer's risk workflow before each new checkout (RISK_MAX_FAILED_PAYMENTS > 0). */
  riskChecks: boolean;
}

/** The public id of a checkout: derived from the Idempotency-Key when there is one. */
export function checkoutIdFor(idempotencyKey: string | undefined): string {
  if (!idempotencyKey) return `chk_${randomUUID().replace(/-/g, "")}`;
  return `chk_${createHash("sha256").update(idempotencyKey).digest("hex").slice(0, 32)}`;
}

/** Fingerprint of a request body, to tell a resubmission from a different request under the same key. */
export function requestHash(body: CheckoutRequest): string {
  return createHash("sha256").update(canonicalJson(body)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function createCheckoutService(deps: CheckoutServiceDeps) {
  const { temporal, db } = deps;

  function handleFor(id: string): WorkflowHandle<typeof checkout> {
    if (!isCheckoutId(id)) throw notFound("checkout", id);
    return temporal.workflow.getHandle<typeof checkout>(checkoutWorkflowId(id));
  }

  /** The checkout's run as Temporal has it; undefined once Temporal has deleted it (retention). */
  async function liveDescription(id: string): Promise<WorkflowExecutionDescription | undefined> {
    try {
      return await handleFor(id).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * Where the checkout stands: live in Temporal, or, once retention deleted its workflow, in the
   * archive (its final state and memo) and the database (its rows). Undefined: it never was.
   */
  async function find(id: string): Promise<Found | undefined> {
    const live = await liveDescription(id);
    if (live) return { live };
    const [archived, order] = await Promise.all([
      archivedCheckout(db, checkoutWorkflowId(id)),
      db.order.findUnique({ where: { checkoutId: id }, select: { id: true } }),
    ]);
    return archived || order ? { archived } : undefined;
  }

  /** 404 only for a checkout that never was: a checkout outlives its workflow's retention. */
  async function ensureExists(id: string): Promise<void> {
    if (!(await find(id))) throw notFound("checkout", id);
  }

  /**
   * Starts the checkout's workflow, or finds the one started earlier under the same key.
   * `origin` goes into the workflow input (not into the request hash: a retry from another
   * address is the same request); its country, when known, becomes the `Country` search attribute.
   * A new checkout is first assessed by the customer's risk workflow: a held customer gets 429
   * and nothing starts; otherwise the decision goes into the input and the `RiskLevel` attribute.
   */
  async function start(body: CheckoutRequest, idempotencyKey?: string, origin?: CheckoutOrigin): Promise<{ id: string }> {
    const country = origin?.country ?? undefined;
    const checkoutId = checkoutIdFor(idempotencyKey);
    const hash = requestHash(body);
    const workflowId = checkoutWorkflowId(checkoutId);
    // A client retrying its POST gets its checkout, even while the customer is held, and even
    // after retention deleted its workflow (starting it again could charge twice).
    if (idempotencyKey) {
      const existing = await find(checkoutId);
      if (existing) {
        // Deleted without an archive (terminated, then retention): no memo left to compare with.
        const memo = existing.live?.memo ?? existing.archived?.memo;
        if (memo) checkSameRequest(memo, hash);
        return { id: checkoutId };
      }
    }

    const requestedAt = new Date().toISOString();
    const risk = deps.riskChecks ? await assessCheckout(temporal, body.customer.id, checkoutId, requestedAt) : riskChecksOff;
    if (risk.hold) throw customerOnHold(risk);

    const totalAmount = orderTotal(body.items);
    const input: CheckoutInput = {
      checkoutId,
      customer: body.customer,
      items: body.items,
      currency: body.currency,
      totalAmount,
      payment: body.payment,
      paymentRetryWindowSeconds: deps.paymentRetryWindowSeconds,
      paymentActionTimeoutSeconds: deps.paymentActionTimeoutSeconds,
      returnUrl: deps.returnUrl,
      requestedAt,
      ...(origin ? { origin } : {}),
      risk,
    };
    let handle: WorkflowHandle;
    try {
      handle = await temporal.workflow.start<typeof checkout>("checkout", {
        workflowId,
        taskQueue: deps.taskQueue,
        args: [input],
        // Concurrent requests under one key all land on the one running workflow; a closed one
        // is never started again.
        workflowIdConflictPolicy: "USE_EXISTING",
        workflowIdReusePolicy: "REJECT_DUPLICATE",
        memo: { requestHash: hash, customerId: body.customer.id, totalAmount, currency: body.currency, items: body.items.length },
        typedSearchAttributes: new TypedSearchAttributes([
          { key: searchAttributes.CheckoutStatus, value: "RUNNING" },
          { key: searchAttributes.PaymentProvider, value: body.payment.provider },
          { key: searchAttributes.PaymentMethod, value: body.payment.method },
          { key: searchAttributes.CustomerId, value: body.customer.id },
          { key: searchAttributes.OrderTotal, value: totalAmount },
          { key: searchAttributes.Currency, value: body.currency },
          // The customer's risk when the checkout was let through (LOW or MEDIUM; HIGH is held).
          { key: searchAttributes.RiskLevel, value: risk.level },
          ...(country ? [{ key: searchAttributes.Country, value: country }] : []),
        ]),
        staticSummary: `Checkout ${checkoutId}: ${totalAmount} ${body.currency} via ${body.payment.provider}`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      handle = temporal.workflow.getHandle(workflowId);
    }
    // Another request under the same key may have started it first, with another body.
    if (idempotencyKey) checkSameRequest((await handle.describe()).memo, hash);
    return { id: checkoutId };
  }

  function checkSameRequest(memo: Record<string, unknown> | undefined, hash: string) {
    if (memo?.requestHash !== hash) {
      throw new ApiError(
        422,
        "idempotency_key_reused",
        "This Idempotency-Key was already used with a different request body; use a new key for a new checkout.",
        [{ field: "header.idempotency-key", reason: "already used with a different request body" }],
      );
    }
  }

  /** What Temporal tells of the checkout: its live run, or the archived one once Temporal deleted it. */
  async function runOf(id: string): Promise<RunView> {
    const handle = handleFor(id);
    const workflowId = checkoutWorkflowId(id);
    const found = await find(id);
    if (!found) throw notFound("checkout", id);
    const description = found.live;
    if (!description) {
      const { archived } = found;
      // Deleted without an archive (terminated, then retention): the database rows still tell.
      if (!archived) return { workflowId, executionStatus: "DELETED", memo: {}, pendingAttempts: 0 };
      const { executionStatus, memo, state } = archived;
      return { workflowId, executionStatus, memo, state, pendingAttempts: 0 };
    }
    let state: CheckoutState | undefined;
    let lastAttemptError: string | undefined;
    let pendingAttempts = 0;
    switch (description.status.name) {
      case "RUNNING": {
        state = await temporal.withDeadline(Date.now() + 3_000, () => handle.query(getStateQuery)).catch(() => undefined);
        // Attempts of the step in flight live in the server, not in the workflow's state yet.
        const pending = description.raw.pendingActivities?.[0];
        if (pending) {
          pendingAttempts = pending.attempt ?? 0;
          lastAttemptError = pending.lastFailure?.message ?? undefined;
        }
        break;
      }
      case "COMPLETED":
        state = await handle.result();
        break;
      case "FAILED":
        state = await handle.result().then(
          () => undefined,
          (err) => stateOfFailedRun(err),
        );
        break;
      default:
        break;
    }
    return {
      workflowId,
      executionStatus: description.status.name,
      memo: description.memo ?? {},
      state,
      pendingAttempts,
      lastAttemptError,
    };
  }

  /** The checkout's state: from the workflow (query or result), joined with the database rows. */
  async function get(id: string) {
    const { workflowId, executionStatus, memo, state, pendingAttempts, lastAttemptError } = await runOf(id);

    const order = await db.order.findUnique({
      where: { checkoutId: id },
      include: { items: true, payment: true, customer: true },
    });
    const payment = order?.payment;
    const refunds = await db.refund.findMany({ where: { checkoutId: id }, orderBy: { createdAt: "asc" } });
    const status = state?.status ?? (executionStatus === "RUNNING" ? "RUNNING" : statusOfOrder(order?.status));
    const attempts = Math.max(state?.payment.attempts ?? 0, pendingAttempts, payment?.attempts ?? 0);
    return {
      id,
      workflowId,
      status,
      step: state?.step ?? (status === "RUNNING" ? "UNKNOWN" : "DONE"),
      totalAmount: order ? fromDb(order.totalAmount) : typeof memo.totalAmount === "number" ? memo.totalAmount : 0,
      currency: order?.currency ?? (typeof memo.currency === "string" ? memo.currency : ""),
      order: order ? orderView(order) : null,
      payment: {
        status: state?.payment.status ?? payment?.status ?? "NOT_STARTED",
        provider: state?.payment.provider ?? payment?.provider ?? "",
        method: payment?.method,
        amount: payment ? fromDb(payment.amount) : undefined,
        currency: payment?.currency,
        attempts,
        gatewayReference: state?.payment.gatewayReference ?? payment?.gatewayReference ?? null,
        failureCode: payment?.failureCode ?? null,
        failureReason: payment?.failureReason ?? null,
        refundedAmount: payment ? fromDb(payment.refundedAmount) : 0,
        action: state?.payment.status === "REQUIRES_ACTION" ? (state.payment.action ?? null) : null,
        ...(state?.payment.failovers?.length ? { failovers: state.payment.failovers } : {}),
      },
      lastError:
        state?.lastError ??
        (lastAttemptError ? { type: "ActivityAttemptFailed", message: lastAttemptError } : null) ??
        (executionStatus === "RUNNING" || state ? null : { type: executionStatus, message: `workflow ${executionStatus}` }),
      failureReason: state?.failureReason ?? null,
      refunds: refunds.map(refundView),
      links: {
        self: `/checkouts/${id}`,
        cancel: `/checkouts/${id}/cancel`,
        refunds: `/checkouts/${id}/refunds`,
        ...(order ? { order: `/orders/${order.id}` } : {}),
      },
    };
  }

  /** Waits up to `seconds` for the payment's first answer (paid, declined, or an action to take). */
  async function awaitPaymentAnswer(id: string, seconds: number): Promise<void> {
    const handle = handleFor(id);
    await temporal
      .withDeadline(Date.now() + (seconds + 2) * 1000, () => handle.executeUpdate(awaitPaymentAnswerUpdate, { args: [seconds] }))
      .catch(() => {}); // no worker yet, or the checkout ended: GET tells the rest
  }

  async function cancel(id: string, reason?: string) {
    const handle = handleFor(id);
    await ensureExists(id);
    try {
      await handle.executeUpdate(cancelUpdate, { args: [{ reason }] });
    } catch (err) {
      if (
        err instanceof WorkflowUpdateFailedError &&
        err.cause instanceof ApplicationFailure &&
        err.cause.type === CHECKOUT_NOT_CANCELLABLE
      ) {
        throw new ApiError(409, "not_cancellable", err.cause.message);
      }
      if (err instanceof WorkflowNotFoundError || (err instanceof Error && /already completed/i.test(err.message))) {
        throw new ApiError(409, "not_cancellable", "The checkout has already ended.");
      }
      throw err;
    }
    return get(id);
  }

  async function getOrder(orderId: string) {
    const order = await db.order.findUnique({ where: { id: orderId }, include: { items: true, customer: true } });
    if (!order) throw notFound("order", orderId);
    return orderView(order);
  }

  /** Starts (or finds, for the same key) the refund workflow of a checkout. */
  async function startRefund(id: string, amount: number | undefined, idempotencyKey: string) {
    await ensureExists(id);
    const order = await db.order.findUnique({ where: { checkoutId: id }, include: { items: true, customer: true } });
    const refundable = await refundableAmount(db, id);
    if (!order || !refundable) throw new ApiError(409, "not_refundable", "This checkout has no captured payment to refund.");
    const refundId = `re_${createHash("sha256").update(`${id}:${idempotencyKey}`).digest("hex").slice(0, 24)}`;
    const existing = await db.refund.findUnique({ where: { id: refundId } });
    const hash = createHash("sha256")
      .update(String(amount ?? "rest"))
      .digest("hex");
    if (!existing && (amount ?? refundable.refundable) > refundable.refundable) {
      throw new ApiError(
        422,
        "refund_exceeds_captured",
        `At most ${refundable.refundable} ${refundable.currency} can still be refunded.`,
        [{ field: "amount", reason: `must be at most ${refundable.refundable}` }],
      );
    }
    if (!existing && refundable.refundable === 0) throw new ApiError(409, "not_refundable", "Everything was already refunded.");
    if (!existing) {
      // Refunds go through the same currency rules as charges: refused here, not late at the provider.
      const check = checkAmount(refundable.provider, refundable.currency, amount ?? refundable.refundable);
      if (!check.ok) {
        throw new ApiError(422, "amount_not_supported", `${refundable.provider} cannot refund this amount as it is.`, [
          { field: "amount", reason: check.reason },
        ]);
      }
    }
    const workflowId = refundWorkflowId(id, refundId);
    let handle: WorkflowHandle;
    try {
      handle = await temporal.workflow.start<typeof refund>("refund", {
        workflowId,
        taskQueue: deps.taskQueue,
        args: [
          {
            refundId,
            checkoutId: id,
            amount,
            recipient: order.customer.email,
            order: { orderId: order.id, totalAmount: fromDb(order.totalAmount), currency: order.currency },
            items: order.items
              .sort((a, b) => a.position - b.position)
              .map(({ sku, name, quantity, unitAmount }) => ({ sku, name, quantity, unitAmount: fromDb(unitAmount) })),
            requestedAt: new Date().toISOString(),
            retryWindowSeconds: deps.refundRetryWindowSeconds,
          },
        ],
        workflowIdConflictPolicy: "USE_EXISTING",
        workflowIdReusePolicy: "REJECT_DUPLICATE",
        memo: { requestHash: hash, checkoutId: id },
        staticSummary: `Refund ${amount ?? "the rest"} of checkout ${id}`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      handle = temporal.workflow.getHandle(workflowId);
    }
    const started = await handle.describe();
    if (started.memo?.requestHash !== hash) {
      throw new ApiError(422, "idempotency_key_reused", "This Idempotency-Key was already used for another refund.", [
        { field: "header.idempotency-key", reason: "already used with a different amount" },
      ]);
    }
    return { id: refundId, workflowId };
  }

  async function listRefunds(id: string) {
    await ensureExists(id);
    const rows = await db.refund.findMany({ where: { checkoutId: id }, orderBy: { createdAt: "asc" } });
    return rows.map(refundView);
  }

  return { start, get, cancel, getOrder, startRefund, listRefunds, awaitPaymentAnswer };
}

/** A closed checkout with no final state to read (terminated, or deleted unarchived): what its order says. */
function statusOfOrder(status: string | undefined): CheckoutState["status"] {
  if (status === "PAID" || status === "REFUNDED") return "COMPLETED";
  if (status === "CANCELLED") return "CANCELLED";
  return "FAILED";
}

type Found = { live: WorkflowExecutionDescription; archived?: undefined } | { live?: undefined; archived?: ArchivedCheckout };

/** The run's side of GET /checkouts/{id}. */
interface RunView {
  workflowId: string;
  executionStatus: string;
  memo: Record<string, unknown>;
  state?: CheckoutState;
  pendingAttempts: number;
  lastAttemptError?: string;
}

type RefundRow = Awaited<ReturnType<Db["refund"]["findMany"]>>[number];

function refundView(row: RefundRow) {
  return {
    id: row.id,
    checkoutId: row.checkoutId,
    status: row.status,
    amount: fromDb(row.amount),
    currency: row.currency,
    gatewayReference: row.gatewayReference,
    failureReason: row.failureReason,
    needsAttention: row.needsAttention,
    createdAt: row.createdAt.toISOString(),
  };
}

export type CheckoutService = ReturnType<typeof createCheckoutService>;

type OrderRow = NonNullable<Awaited<ReturnType<Db["order"]["findUnique"]>>> & {
  customer: { externalId: string };
  items: { sku: string; name: string; quantity: number; unitAmount: bigint; lineTotal: bigint; position: number }[];
};

function orderView(order: OrderRow) {
  return {
    id: order.id,
    checkoutId: order.checkoutId,
    status: order.status,
    customerId: order.customer.externalId,
    totalAmount: fromDb(order.totalAmount),
    currency: order.currency,
    items: [...order.items]
      .sort((a, b) => a.position - b.position)
      .map(({ sku, name, quantity, unitAmount, lineTotal }) => ({
        sku,
        name,
        quantity,
        unitAmount: fromDb(unitAmount),
        lineTotal: fromDb(lineTotal),
      })),
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}
