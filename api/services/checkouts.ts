// Checkouts: start one workflow per checkout (idempotently) unless the customer's risk check
// holds it, read a checkout's state (its run joined with its rows), wait for the payment's
// first answer, and cancel it.
import { type Client, WorkflowUpdateFailedError } from "@temporalio/client";
import {
  ApplicationFailure,
  TypedSearchAttributes,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from "@temporalio/common";
import { fromDb, orderTotal } from "../../money/amounts.ts";
import { noteCheckout } from "../../observability/request-log.ts";
import type { Db } from "../../prisma/client.ts";
import type { checkout } from "../../workflows/checkout.ts";
import {
  awaitPaymentAnswerUpdate,
  CHECKOUT_NOT_CANCELLABLE,
  cancelUpdate,
  checkoutWorkflowId,
  searchAttributes,
} from "../../workflows/definitions.ts";
import type { CheckoutInput, CheckoutOrigin } from "../../workflows/types.ts";
import type { Caller } from "../caller.ts";
import { sameSecret } from "../client-secret.ts";
import { ApiError, notFound } from "../errors.ts";
import type { CheckoutRequest } from "../schemas.ts";
import type { CheckoutRuns } from "./checkout-runs.ts";
import { claimKey, newCheckoutId, newClientSecret, refuseOtherRequest, requestHash, SAME_KEY_OTHER_BODY } from "./idempotency.ts";
import { assessCheckout, customerOnHold, type RiskMemory, riskChecksOff } from "./risk-check.ts";
import { orderView, refundView, statusOfOrder } from "./views.ts";

export interface CheckoutSettings {
  taskQueue: string;
  paymentRetryWindowSeconds: number;
  paymentActionTimeoutSeconds: number;
  /** After a decline, how long the checkout waits for a new payment (PAY_AGAIN_WINDOW_SECONDS); absent or 0: none. */
  payAgainWindowSeconds?: number;
  /** Paid orders are marked delivered this long after they are confirmed (FULFILMENT_AUTO_DELIVER_SECONDS). */
  fulfilmentAutoDeliverSeconds?: number;
  returnUrl?: string;
  /** Ask the customer's risk workflow before each new checkout (RISK_MAX_FAILED_PAYMENTS > 0). */
  riskChecks: false | RiskMemory;
}

export function checkoutService(temporal: Client, db: Db, runs: CheckoutRuns, settings: CheckoutSettings) {
  /**
   * Starts the checkout's workflow, or finds the one started earlier under the same key.
   * `origin` goes into the workflow input (not into the request hash: a retry from another
   * address is the same request); its country, when known, becomes the `Country` search attribute.
   * A new checkout is first assessed by the customer's risk workflow: a held customer gets 429
   * and nothing starts; otherwise the decision goes into the input and the `RiskLevel` attribute.
   */
  async function start(
    caller: Caller,
    body: CheckoutRequest,
    idempotencyKey?: string,
    origin?: CheckoutOrigin,
  ): Promise<{ id: string; clientSecret: string }> {
    const { merchantId } = caller;
    const country = origin?.country ?? undefined;
    const hash = requestHash(body);
    const { checkoutId, claimed } = idempotencyKey
      ? await claimKey(db, merchantId, idempotencyKey, hash)
      : { checkoutId: newCheckoutId(), claimed: true };
    noteCheckout(checkoutId);
    const workflowId = checkoutWorkflowId(checkoutId);
    // A client retrying its POST gets its checkout, even while the customer is held, and even
    // after retention deleted its workflow (starting it again could charge twice).
    if (!claimed) {
      const existing = await runs.find(merchantId, checkoutId);
      if (existing) {
        // Deleted without an archive (terminated, then retention): no memo left to compare with.
        const memo = existing.live?.memo ?? existing.archived?.memo;
        if (memo) refuseOtherRequest(memo, hash, SAME_KEY_OTHER_BODY);
        return { id: checkoutId, clientSecret: existing.owner.clientSecret };
      }
    }
    // Whose it is, from its first moment (and, for a key whose first request died before its
    // workflow started, the row that request already wrote).
    await db.checkout.createMany({
      data: [{ id: checkoutId, merchantId, clientSecret: newClientSecret(checkoutId) }],
      skipDuplicates: true, // concurrent requests under one key: the first one's row stands
    });
    const { clientSecret } = await db.checkout.findUniqueOrThrow({ where: { id: checkoutId } });

    const requestedAt = new Date().toISOString();
    const risk = settings.riskChecks
      ? await assessCheckout({ temporal, db, memory: settings.riskChecks }, merchantId, body.customer.id, checkoutId, requestedAt)
      : riskChecksOff;
    if (risk.hold) throw customerOnHold(risk);
    // Let through: from now on the lists show it (a held request's row stays unlisted).
    await db.checkout.update({
      where: { id: checkoutId },
      data: { customerExternalId: body.customer.id, provider: body.payment.provider, metadata: body.metadata ?? {} },
    });

    const totalAmount = orderTotal(body.items);
    const input: CheckoutInput = {
      checkoutId,
      merchantId,
      customer: body.customer,
      items: body.items,
      currency: body.currency,
      totalAmount,
      payment: body.payment,
      paymentRetryWindowSeconds: settings.paymentRetryWindowSeconds,
      paymentActionTimeoutSeconds: settings.paymentActionTimeoutSeconds,
      ...(settings.payAgainWindowSeconds ? { payAgainWindowSeconds: settings.payAgainWindowSeconds } : {}),
      ...(settings.fulfilmentAutoDeliverSeconds ? { fulfilmentAutoDeliverSeconds: settings.fulfilmentAutoDeliverSeconds } : {}),
      returnUrl: settings.returnUrl,
      requestedAt,
      ...(origin ? { origin } : {}),
      ...(body.metadata ? { metadata: body.metadata } : {}),
      risk,
    };
    try {
      await temporal.workflow.start<typeof checkout>("checkout", {
        workflowId,
        taskQueue: settings.taskQueue,
        args: [input],
        // Concurrent requests under one key all land on the one running workflow; a closed one
        // is never started again.
        workflowIdConflictPolicy: "USE_EXISTING",
        workflowIdReusePolicy: "REJECT_DUPLICATE",
        memo: {
          requestHash: hash,
          merchantId,
          customerId: body.customer.id,
          totalAmount,
          currency: body.currency,
          items: body.items.length,
        },
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
    }
    return { id: checkoutId, clientSecret };
  }

  /** The checkout's state: from the workflow (query or result), joined with the database rows. */
  async function get(merchantId: string, id: string) {
    const { workflowId, clientSecret, metadata, executionStatus, memo, state, pendingAttempts, lastAttemptError } =
      await runs.runOf(merchantId, id);

    const [order, refunds] = await Promise.all([
      db.order.findUnique({ where: { checkoutId: id }, include: { items: true, payment: true, customer: true } }),
      db.refund.findMany({ where: { checkoutId: id }, orderBy: { createdAt: "asc" } }),
    ]);
    const payment = order?.payment;
    const status = state?.status ?? (executionStatus === "RUNNING" ? "RUNNING" : statusOfOrder(order?.status));
    const attempts = Math.max(state?.payment.attempts ?? 0, pendingAttempts, payment?.attempts ?? 0);
    return {
      id,
      workflowId,
      clientSecret,
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
        ...(state?.payment.paymentAttempts?.length ? { payments: state.payment.paymentAttempts } : {}),
        ...(status === "REQUIRES_PAYMENT_METHOD" && state?.payment.payAgainUntil
          ? { payAgainUntil: state.payment.payAgainUntil }
          : {}),
      },
      lastError:
        state?.lastError ??
        (lastAttemptError ? { type: "ActivityAttemptFailed", message: lastAttemptError } : null) ??
        (executionStatus === "RUNNING" || state ? null : { type: executionStatus, message: `workflow ${executionStatus}` }),
      failureReason: state?.failureReason ?? null,
      refunds: refunds.map(refundView),
      metadata,
      links: {
        self: `/checkouts/${id}`,
        cancel: `/checkouts/${id}/cancel`,
        refunds: `/checkouts/${id}/refunds`,
        ...(order ? { order: `/orders/${order.id}` } : {}),
        ...(order && status === "REQUIRES_PAYMENT_METHOD" ? { payAgain: `/orders/${order.id}/payments` } : {}),
      },
    };
  }

  /**
   * What a browser may read with a publishable key and the checkout's client secret: its status
   * and the action the customer must take, nothing else. 404 for a wrong secret, as for no checkout.
   */
  async function getForCustomer(merchantId: string, id: string, clientSecret: string | undefined) {
    const owner = await runs.owned(merchantId, id);
    if (!owner || !clientSecret || !sameSecret(owner.clientSecret, clientSecret)) throw notFound("checkout", id);
    const view = await get(merchantId, id);
    return {
      id,
      status: view.status,
      payment: { status: view.payment.status, action: view.payment.action },
      failureReason: view.failureReason,
      orderId: view.order?.id ?? null,
    };
  }

  /** Waits up to `seconds` for the payment's first answer (paid, declined, or an action to take). */
  async function awaitPaymentAnswer(id: string, seconds: number): Promise<void> {
    const handle = runs.handleFor(id);
    await temporal
      .withDeadline(Date.now() + (seconds + 2) * 1000, () => handle.executeUpdate(awaitPaymentAnswerUpdate, { args: [seconds] }))
      .catch(() => {}); // no worker yet, or the checkout ended: GET tells the rest
  }

  async function cancel(caller: Caller, id: string, reason?: string) {
    const handle = runs.handleFor(id);
    await runs.ensureExists(caller.merchantId, id);
    try {
      await handle.executeUpdate(cancelUpdate, { args: [{ reason, requestedBy: caller.keyId }] });
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
    return get(caller.merchantId, id);
  }

  return { start, get, getForCustomer, awaitPaymentAnswer, cancel };
}

export type CheckoutService = ReturnType<typeof checkoutService>;
