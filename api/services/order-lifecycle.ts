// An order's life after its checkout started: pay again after a decline (an update of the
// checkout's workflow), and, once paid, cancel, ship and deliver (updates of the order's own
// workflow, workflows/order.ts). Every lookup is scoped to the merchant; a browser (publishable
// key) may act only with its checkout's client secret, and only where the route allows it.
import { timingSafeEqual } from "node:crypto";
import { type Client, WithStartWorkflowOperation, WorkflowUpdateFailedError } from "@temporalio/client";
import {
  ApplicationFailure,
  type UpdateDefinition,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from "@temporalio/common";
import { fromDb } from "../../money/amounts.ts";
import type { Db } from "../../prisma/client.ts";
import type { GatewayRegistry } from "../../providers/registry.ts";
import {
  cancelOrderUpdate,
  deliverUpdate,
  ORDER_CHANGE_REFUSED,
  ORDER_REFUND_FAILED,
  orderWorkflowId,
  PAYMENT_NOT_AWAITED,
  payAgainUpdate,
  shipUpdate,
} from "../../workflows/definitions.ts";
import type { order as orderWorkflow } from "../../workflows/order.ts";
import type { OrderInput, OrderState } from "../../workflows/types.ts";
import { allows } from "../auth.ts";
import type { Caller } from "../caller.ts";
import { refuseUnpayable } from "../checkout-checks.ts";
import { ApiError, notFound } from "../errors.ts";
import type { CheckoutRequest } from "../schemas.ts";
import type { CheckoutRuns } from "./checkout-runs.ts";
import type { CheckoutService } from "./checkouts.ts";
import { refundIdFor } from "./idempotency.ts";
import { lineItems, orderView } from "./views.ts";

export interface OrderLifecycleSettings {
  taskQueue: string;
  refundRetryWindowSeconds: number;
  /** FULFILMENT_AUTO_DELIVER_SECONDS: the order workflow's delivery timer. */
  fulfilmentAutoDeliverSeconds?: number;
}

/** How long a request waits for an accepted order change to finish before answering 202 (it goes on). */
const ANSWER_WITHIN_MS = 20_000;

/** Compares secrets in constant time. */
function sameSecret(expected: string, given: string): boolean {
  const [a, b] = [Buffer.from(expected), Buffer.from(given)];
  return a.length === b.length && timingSafeEqual(a, b);
}

export function orderLifecycleService(
  temporal: Client,
  db: Db,
  runs: CheckoutRuns,
  checkouts: CheckoutService,
  gateways: GatewayRegistry,
  settings: OrderLifecycleSettings,
) {
  /**
   * The merchant's order, with its items; 404 for another merchant's or none. A publishable key
   * must also give the checkout's client secret (404 for a wrong one, as for no order).
   */
  async function orderFor(caller: Caller, orderId: string, clientSecret?: string) {
    const order = await db.order.findFirst({ where: { id: orderId, merchantId: caller.merchantId }, include: { items: true } });
    if (!order) throw notFound("order", orderId);
    if (caller.type === "publishable") {
      const owner = await runs.owned(caller.merchantId, order.checkoutId);
      if (!owner || !clientSecret || !sameSecret(owner.clientSecret, clientSecret)) throw notFound("order", orderId);
    }
    return order;
  }

  /** What the caller is answered about the checkout: all of it, or, for a browser, its status and action. */
  async function viewFor(caller: Caller, checkoutId: string) {
    const view = await checkouts.get(caller.merchantId, checkoutId);
    if (caller.type === "secret") return view;
    return {
      id: checkoutId,
      status: view.status,
      payment: { status: view.payment.status, action: view.payment.action },
      failureReason: view.failureReason,
      orderId: view.order?.id ?? null,
    };
  }

  /**
   * A new payment for an order whose payment was declined: an update of its checkout's workflow,
   * whose validator refuses (409, with the reason) unless the checkout awaits one. Waits up to
   * `waitSeconds` for the new payment's first answer.
   */
  async function payAgain(
    caller: Caller,
    orderId: string,
    payment: CheckoutRequest["payment"],
    options: { clientSecret?: string; waitSeconds: number },
  ) {
    const order = await orderFor(caller, orderId, options.clientSecret);
    // The same checks as the checkout's own payment: a provider configured here that takes this amount.
    refuseUnpayable(
      {
        customer: { id: "-", email: order.recipient },
        currency: order.currency,
        items: lineItems(order).map(({ sku, name, quantity, unitAmount }) => ({ sku, name, quantity, unitAmount })),
        payment,
      },
      gateways,
    );
    const handle = runs.handleFor(order.checkoutId);
    const waitSeconds = Math.max(0, Math.min(options.waitSeconds, 30));
    try {
      await handle.executeUpdate(payAgainUpdate, { args: [{ payment, requestedBy: caller.keyId, waitSeconds }] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
        if (err.cause.type === PAYMENT_NOT_AWAITED) throw new ApiError(409, "payment_not_awaited", err.cause.message);
      }
      if (err instanceof WorkflowNotFoundError || (err instanceof Error && /already completed/i.test(err.message))) {
        throw new ApiError(409, "payment_not_awaited", `The checkout has already ended (the order is ${order.status}).`);
      }
      throw err;
    }
    return { checkoutId: order.checkoutId, view: await viewFor(caller, order.checkoutId) };
  }

  type OrderRow = Awaited<ReturnType<typeof orderFor>>;

  /** Why an order in this database status cannot change any more (409), or undefined when it may. */
  function ended(order: OrderRow, doing: string): ApiError | undefined {
    switch (order.status) {
      case "SHIPPED":
        return new ApiError(
          409,
          "order_shipped",
          `The order cannot be ${doing}: it has shipped (${order.carrier}, tracking ${order.trackingNumber}). Refund it instead (POST /checkouts/${order.checkoutId}/refunds).`,
        );
      case "DELIVERED":
        return new ApiError(409, "order_delivered", `The order cannot be ${doing}: it was delivered.`);
      case "CANCELLED":
        return new ApiError(409, "order_cancelled", `The order cannot be ${doing}: it was cancelled.`);
      case "PAYMENT_FAILED":
        return new ApiError(409, "order_not_paid", `The order cannot be ${doing}: its payment failed.`);
      case "REFUNDED":
        return new ApiError(409, "order_refunded", `The order cannot be ${doing}: it was refunded.`);
      default:
        return undefined;
    }
  }

  /** The paid order's workflow input, from its rows (it is started by the first change that needs it). */
  async function inputOf(order: OrderRow): Promise<OrderInput> {
    const payment = await db.payment.findUnique({ where: { checkoutId: order.checkoutId }, select: { succeededAt: true } });
    return {
      orderId: order.id,
      checkoutId: order.checkoutId,
      merchantId: order.merchantId,
      recipient: order.recipient,
      order: { orderId: order.id, totalAmount: fromDb(order.totalAmount), currency: order.currency },
      items: lineItems(order).map(({ sku, name, quantity, unitAmount }) => ({ sku, name, quantity, unitAmount })),
      confirmedAt: (payment?.succeededAt ?? order.updatedAt).toISOString(),
      ...(settings.fulfilmentAutoDeliverSeconds ? { autoDeliverSeconds: settings.fulfilmentAutoDeliverSeconds } : {}),
      refundRetryWindowSeconds: settings.refundRetryWindowSeconds,
    };
  }

  /**
   * An update of the paid order's workflow, starting it if it is not running yet (update-with-start):
   * its validator refuses, with the reason, a change the order's status does not allow (409).
   */
  async function changeOrder<Args extends unknown[]>(
    order: OrderRow,
    doing: string,
    update: UpdateDefinition<OrderState, Args>,
    args: Args,
    /** The database statuses the change may start from (the workflow's validator has the last word). */
    from: OrderRow["status"][] = ["PAID"],
  ): Promise<{ done: true; state: OrderState } | { done: false }> {
    if (!from.includes(order.status)) {
      throw ended(order, doing) ?? new ApiError(409, "order_change_refused", `The order cannot be ${doing} now.`);
    }
    const workflowId = orderWorkflowId(order.id);
    try {
      const handle = await temporal.workflow.startUpdateWithStart(update, {
        args,
        waitForStage: "ACCEPTED",
        startWorkflowOperation: new WithStartWorkflowOperation<typeof orderWorkflow>("order", {
          workflowId,
          taskQueue: settings.taskQueue,
          args: [await inputOf(order)],
          workflowIdConflictPolicy: "USE_EXISTING",
          // A closed order workflow (delivered, cancelled) is never started again.
          workflowIdReusePolicy: "REJECT_DUPLICATE",
          staticSummary: `Order ${order.id} of checkout ${order.checkoutId}: fulfilment`,
        }),
      });
      // Accepted: the change is the order's now. Its answer is awaited a while (a refund may wait
      // on a provider that is down for much longer); past that, the caller is told it goes on.
      const result = handle.result();
      result.catch(() => {}); // awaited below, or left to finish in the workflow
      const finished = await Promise.race([
        result.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), ANSWER_WITHIN_MS).unref()),
      ]);
      return finished ? { done: true, state: await result } : { done: false };
    } catch (err) {
      const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === ORDER_CHANGE_REFUSED) {
        throw new ApiError(409, "order_change_refused", cause.message);
      }
      if (cause instanceof ApplicationFailure && cause.type === ORDER_REFUND_FAILED) {
        throw new ApiError(409, "refund_failed", cause.message);
      }
      if (err instanceof WorkflowExecutionAlreadyStartedError || /already (completed|started)/i.test(String(err))) {
        const now = await db.order.findUniqueOrThrow({ where: { id: order.id }, include: { items: true } });
        throw (
          (from.includes(now.status) ? undefined : ended(now, doing)) ??
          new ApiError(409, "order_change_refused", `The order cannot be ${doing} any more.`)
        );
      }
      throw err;
    }
  }

  async function currentView(orderId: string) {
    const order = await db.order.findUniqueOrThrow({ where: { id: orderId }, include: { items: true, customer: true } });
    return orderView(order);
  }

  /**
   * Cancels an order. Before payment: its checkout is cancelled (the checkout's cancel update).
   * Paid, not shipped: a full refund by the order's workflow, then CANCELLED with the refund
   * linked. Shipped: 409, naming why. A secret key needs `refunds:write` to cancel a paid order.
   */
  async function cancel(caller: Caller, orderId: string, reason: string | undefined, clientSecret?: string) {
    const order = await orderFor(caller, orderId, clientSecret);
    if (order.status === "PENDING_PAYMENT") {
      await checkouts.cancel(caller, order.checkoutId, reason);
      return { order: await currentView(orderId), done: true };
    }
    if (order.status === "PAID" && caller.type === "secret" && !allows(caller.scopes, "refunds:write")) {
      throw new ApiError(
        403,
        "insufficient_scope",
        'This key lacks the "refunds:write" scope: cancelling a paid order refunds it.',
      );
    }
    const refundId = refundIdFor(order.checkoutId, `cancel-order:${order.id}`);
    const change = await changeOrder(order, "cancelled", cancelOrderUpdate, [{ reason, requestedBy: caller.keyId, refundId }]);
    return { order: await currentView(orderId), done: change.done };
  }

  /** Ships a paid order (CONFIRMED → SHIPPED). */
  async function ship(caller: Caller, orderId: string, shipment: { carrier: string; tracking: string }) {
    const order = await orderFor(caller, orderId);
    if (order.status === "PENDING_PAYMENT")
      throw new ApiError(409, "order_not_paid", "The order cannot be shipped: it is not paid.");
    // The same shipment again (a client retrying after a lost answer): its answer again, nothing sent twice.
    const sameShipment = order.carrier === shipment.carrier && order.trackingNumber === shipment.tracking;
    if (sameShipment && (order.status === "SHIPPED" || order.status === "DELIVERED")) {
      return { order: await currentView(orderId), done: true };
    }
    const change = await changeOrder(order, "shipped", shipUpdate, [{ ...shipment, requestedBy: caller.keyId }]);
    return { order: await currentView(orderId), done: change.done };
  }

  /** Marks a paid (or shipped) order delivered. */
  async function deliver(caller: Caller, orderId: string) {
    const order = await orderFor(caller, orderId);
    if (order.status === "PENDING_PAYMENT") {
      throw new ApiError(409, "order_not_paid", "The order cannot be marked delivered: it is not paid.");
    }
    if (order.status === "DELIVERED") return { order: await currentView(orderId), done: true }; // a retry: delivered already
    const change = await changeOrder(
      order,
      "marked delivered",
      deliverUpdate,
      [{ requestedBy: caller.keyId }],
      ["PAID", "SHIPPED"],
    );
    return { order: await currentView(orderId), done: change.done };
  }

  return { orderFor, payAgain, viewFor, cancel, ship, deliver };
}

export type OrderLifecycleService = ReturnType<typeof orderLifecycleService>;
