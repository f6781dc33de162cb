// An order's life after its checkout started: pay again after a decline (an update of the
// checkout's workflow), and, once paid, cancel, ship and deliver (updates of the order's own
// workflow, workflows/order.ts). Every lookup is scoped to the merchant; a browser (publishable
// key) may act only with its checkout's client secret, and only where the route allows it.
import { timingSafeEqual } from "node:crypto";
import { type Client, WorkflowUpdateFailedError } from "@temporalio/client";
import { ApplicationFailure, WorkflowNotFoundError } from "@temporalio/common";
import type { Db } from "../../prisma/client.ts";
import type { GatewayRegistry } from "../../providers/registry.ts";
import { PAYMENT_NOT_AWAITED, payAgainUpdate } from "../../workflows/definitions.ts";
import type { Caller } from "../caller.ts";
import { refuseUnpayable } from "../checkout-checks.ts";
import { ApiError, notFound } from "../errors.ts";
import type { CheckoutRequest } from "../schemas.ts";
import type { CheckoutRuns } from "./checkout-runs.ts";
import type { CheckoutService } from "./checkouts.ts";
import { lineItems } from "./views.ts";

export interface OrderLifecycleSettings {
  taskQueue: string;
  refundRetryWindowSeconds: number;
}

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

  return { orderFor, payAgain, viewFor };
}

export type OrderLifecycleService = ReturnType<typeof orderLifecycleService>;
