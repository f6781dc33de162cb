// Names shared by the workflow, the worker and the API: one place, so they cannot drift apart.
import type { defineSearchAttributeKey, SearchAttributeType } from "@temporalio/common";
import { defineQuery, defineSignal, defineUpdate } from "@temporalio/workflow";
import {
  type CheckoutState,
  type DeliverRequest,
  ORDER_EVENT_TYPES,
  type OrderCancelRequest,
  type OrderState,
  type PayAgainRequest,
  type PaymentEvent,
  type PaymentFailureReport,
  type RiskAssessmentRequest,
  type RiskDecision,
  type ShipRequest,
  TRANSFER_EVENT_TYPES,
} from "./types.ts";

export const TASK_QUEUE = "checkout";

/** What a checkout id looks like: anything else is no checkout of ours (404, not a lookup). */
export function isCheckoutId(id: string): boolean {
  return /^chk_[a-f0-9]{32}$/.test(id);
}

/** One workflow per checkout: its ID is derived from the checkout ID and nothing else. */
export function checkoutWorkflowId(checkoutId: string): string {
  return `checkout-${checkoutId}`;
}

/** The checkout ID in a checkout's workflow ID (checkoutWorkflowId undone); null for an ID of another shape. */
export function checkoutIdOfWorkflow(workflowId: string): string | null {
  return workflowId.startsWith("checkout-") ? workflowId.slice("checkout-".length) : null;
}

/**
 * The key a gateway receives: workflow ID plus step, never the run ID (a reset changes that).
 * A fallback provider gets its own step name, so each provider sees one key per checkout; a
 * payment made again after a decline (attempt 2, 3, …) is a step of its own, `payment-<attempt>`.
 */
export function paymentIdempotencyKey(workflowId: string, fallbackProvider?: string, attempt = 1): string {
  const step = attempt > 1 ? `payment-${attempt}` : "payment";
  return fallbackProvider ? `${workflowId}:${step}:${fallbackProvider}` : `${workflowId}:${step}`;
}

/** One publishing workflow per (source workflow, event type): a retry or reset never publishes twice. */
/** The event relay of a task queue (workflows/event-relay.ts). */
export function eventRelayWorkflowId(taskQueue: string): string {
  return `event-relay-${taskQueue}`;
}

export function eventWorkflowId(sourceWorkflowId: string, type: string): string {
  return `event-${sourceWorkflowId}-${type}`;
}

/** One delivery workflow per page of an event's subscribers, numbered from 1. */
export function eventBatchWorkflowId(eventWorkflowIdValue: string, batch: number): string {
  return `${eventWorkflowIdValue}-batch-${batch}`;
}

export const EVENT_TYPES = [
  "checkout.completed",
  "checkout.cancelled",
  "checkout.expired",
  "checkout.failed",
  "payment.succeeded",
  "payment.failed",
  "refund.succeeded",
  ...ORDER_EVENT_TYPES,
  ...TRANSFER_EVENT_TYPES,
] as const;

/** One archiving workflow per closed run: a reset run is archived as a record of its own. */
export function archiveWorkflowId(workflowId: string, runId: string): string {
  return `archive-${workflowId}-${runId}`;
}

/**
 * The schedule that archives the closed checkouts of a task queue (workflows/archive-batch.ts):
 * one per queue, since its workers hold the keys those runs were encrypted with. The default
 * queue's is plain `archive-closed-checkouts`.
 */
export function archiveScheduleId(taskQueue: string): string {
  return taskQueue === TASK_QUEUE ? "archive-closed-checkouts" : `archive-closed-checkouts-${taskQueue}`;
}

/** One risk workflow per customer: it counts the customer's failed payments and decides holds. */
/** One risk workflow per customer of a merchant: a customer id is the merchant's own. */
export function customerRiskWorkflowId(merchantId: string, customerId: string): string {
  return `customer-risk-${merchantId}-${customerId}`;
}

/** One refund workflow per (checkout, Idempotency-Key). */
export function refundWorkflowId(checkoutId: string, refundId: string): string {
  return `refund-${checkoutId}-${refundId}`;
}

/**
 * One workflow per paid order for its later life (workflows/order.ts): started when first needed
 * (a shipment, a delivery, a cancel), or by the checkout when orders are delivered on a timer.
 */
export function orderWorkflowId(orderId: string): string {
  return `order-${orderId}`;
}

/** One workflow per transfer (workflows/transfer.ts); a retry of a failed one is a new run of it. */
export function transferWorkflowId(transferId: string): string {
  return `transfer-${transferId}`;
}

export const getStateQuery = defineQuery<CheckoutState>("getState");

export const getOrderStateQuery = defineQuery<OrderState>("getOrderState");
/** Ships a confirmed order; refused (ORDER_CHANGE_REFUSED, with the reason) otherwise. */
export const shipUpdate = defineUpdate<OrderState, [ShipRequest]>("ship");
/** Marks a confirmed or shipped order delivered; refused otherwise. */
export const deliverUpdate = defineUpdate<OrderState, [DeliverRequest]>("deliver");
/** Cancels a confirmed order, refunding it in full (a compensation: the refund workflow, as a child); refused once shipped. */
export const cancelOrderUpdate = defineUpdate<OrderState, [OrderCancelRequest]>("cancelOrder");

export interface CancelRequest {
  reason?: string;
  /** Who asked: the API key's id, kept in the history as the update's argument. */
  requestedBy?: string;
}
/** Cancels a checkout that has not started charging; refused (with the reason) once it has. */
export const cancelUpdate = defineUpdate<CheckoutState, [CancelRequest]>("cancel");

/**
 * Waits (at most the given seconds) until the payment step has an answer for the customer:
 * paid, declined, or an action to take (3-D Secure URL, QR). Lets the API answer POST /checkouts
 * with the action URL at once instead of making the client poll.
 */
export const awaitPaymentAnswerUpdate = defineUpdate<CheckoutState, [number]>("awaitPaymentAnswer");

/**
 * A new payment for a checkout whose payment was declined (REQUIRES_PAYMENT_METHOD). Refused by its
 * validator (PAYMENT_NOT_AWAITED, with the reason) at any other time: of two racing requests, the
 * second finds the first one's payment in progress. Answers once the new payment has its first
 * answer (paid, declined again, an action to take), or after `waitSeconds` (at most 30).
 */
export const payAgainUpdate = defineUpdate<CheckoutState, [PayAgainRequest & { waitSeconds?: number }]>("payAgain");

/** A provider's webhook about this checkout's payment: the workflow then asks the provider. */
export const paymentEventSignal = defineSignal<[PaymentEvent]>("paymentEvent");

/** A declined payment of the customer's, sent (with start) to their risk workflow. */
export const paymentFailedSignal = defineSignal<[PaymentFailureReport]>("paymentFailed");

/** Asked by the API before a new checkout starts: let it through (with a level) or hold it. */
export const assessCheckoutUpdate = defineUpdate<RiskDecision, [RiskAssessmentRequest]>("assessCheckout");

/** Business errors that no retry can fix: the activity's retry policy stops on them at once. */
export const PAYMENT_DECLINED = "PaymentDeclined";
export const CHECKOUT_NOT_CANCELLABLE = "CheckoutNotCancellable";
export const PAYMENT_NOT_AWAITED = "PaymentNotAwaited";
/** An order change its status does not allow (shipping a cancelled order, cancelling a shipped one). */
export const ORDER_CHANGE_REFUSED = "OrderChangeRefused";
/** A cancel's refund did not go through: the order stays as it was. */
export const ORDER_REFUND_FAILED = "OrderRefundFailed";
export const GATEWAY_REQUEST_REJECTED = "GatewayRequestRejected";
export const GATEWAY_OUTCOME_UNKNOWN = "GatewayOutcomeUnknown";
export const REFUND_NOT_ALLOWED = "RefundNotAllowed";
/** The ledger refused a movement (insufficient funds, a disabled account or balance, an inactive currency). */
export const LEDGER_REFUSED = "LedgerRefused";
/** The database refused a write in a way no retry can fix (a constraint, a value out of range). */
export const DATABASE_REJECTED = "DatabaseRejected";

/** A typed search attribute key: what @temporalio/common's defineSearchAttributeKey returns, made here (types only). */
type SearchAttributeKey<T extends SearchAttributeType> = ReturnType<typeof defineSearchAttributeKey<T>>;
const keyword = (name: string): SearchAttributeKey<"KEYWORD"> => ({ name, type: "KEYWORD" });
const int = (name: string): SearchAttributeKey<"INT"> => ({ name, type: "INT" });

/** Search attributes: registered with the dev server and upserted as the checkout moves. */
export const searchAttributes = {
  CheckoutStatus: keyword("CheckoutStatus"),
  PaymentProvider: keyword("PaymentProvider"),
  PaymentMethod: keyword("PaymentMethod"),
  CustomerId: keyword("CustomerId"),
  OrderTotal: int("OrderTotal"),
  Currency: keyword("Currency"),
  /** ISO 3166-1 alpha-2 country of the customer; set only when the request carries one. */
  Country: keyword("Country"),
  /**
   * LOW, MEDIUM or HIGH. On a checkout: its customer's risk when the API let it through (LOW or
   * MEDIUM; a HIGH customer's checkouts are held, never started). On a customer's risk workflow:
   * HIGH while the customer is held.
   */
  RiskLevel: keyword("RiskLevel"),
} as const;
