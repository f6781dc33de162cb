// The checkout's data as it travels through the workflow history. Amounts are integers in the
// currency's minor units (cents); currencies are ISO 4217 codes.

export interface LineItem {
  sku: string;
  name: string;
  quantity: number;
  unitAmount: number;
}

export interface CheckoutCustomer {
  /** The caller's own opaque customer id. */
  id: string;
  email: string;
}

export interface PaymentInstruction {
  provider: string;
  /** A gateway token standing for the card or wallet: never a card number. */
  token: string;
  method: string;
  /** Providers to try, in order, when the first stays unavailable after its retry budget. */
  fallbackProviders?: string[];
}

/** Where the request came from, as the API saw it (see api/origin.ts); null when not known. */
export interface CheckoutOrigin {
  ip: string | null;
  /** At most 300 characters. */
  userAgent: string | null;
  /** ISO 3166-1 alpha-2, from a trusted proxy's header or the offline GeoIP database. */
  country: string | null;
}

export interface CheckoutInput {
  checkoutId: string;
  /** Whose checkout it is; absent in histories from before merchants (the default merchant's). */
  merchantId?: string;
  customer: CheckoutCustomer;
  items: LineItem[];
  currency: string;
  /** The items' total in minor units, as the API computed and checked it; absent in older histories. */
  totalAmount?: number;
  payment: PaymentInstruction;
  /** How long the payment step may keep retrying a gateway that is down before the checkout fails. */
  paymentRetryWindowSeconds: number;
  /** How long to wait for the customer to act (3-D Secure, approval, QR); absent in older histories. */
  paymentActionTimeoutSeconds?: number;
  /**
   * After a decline, how long to wait for the customer to pay again (payAgainUpdate) before the
   * order is cancelled; absent (older histories) or 0: a decline fails the checkout at once.
   */
  payAgainWindowSeconds?: number;
  /** When set, the paid order's own workflow is started and marks it delivered after this long. */
  fulfilmentAutoDeliverSeconds?: number;
  /** Where the provider sends the customer back after an approval page. */
  returnUrl?: string;
  /** When the API accepted the request (ISO 8601), so the history says when the customer paid. */
  requestedAt: string;
  /** Where the request came from; absent in older histories. */
  origin?: CheckoutOrigin;
  /** The customer's risk assessment when the checkout was let through; absent in older histories. */
  risk?: RiskDecision;
  /** The merchant's string key/values (api/metadata.ts), kept on the order; absent when none were given. */
  metadata?: Record<string, string>;
}

export type RiskLevel = "LOW" | "MEDIUM" | "HIGH";

/** Unusual-activity thresholds: this many declined payments within the window hold the customer. */
export interface RiskPolicy {
  maxFailedPayments: number;
  windowSeconds: number;
  holdSeconds: number;
}

/** A declined payment, reported by the checkout to the customer's risk workflow. */
export interface PaymentFailureReport {
  checkoutId: string;
  code: string;
  reason: string;
  /** When the payment failed (ISO 8601), by the reporting activity's clock. */
  failedAt: string;
}

/** The API asks before it starts a checkout; `at` is the API's clock, so the decision is replayable. */
export interface RiskAssessmentRequest {
  checkoutId: string;
  at: string;
}

export interface RiskDecision {
  level: RiskLevel;
  /** True: do not start the checkout before `holdUntil`. */
  hold: boolean;
  holdUntil: string | null;
  failuresInWindow: number;
  reason: string;
}

/** REQUIRES_PAYMENT_METHOD: the payment was declined; the customer may pay again (payAgainUpdate) within the window. */
export type CheckoutStatus =
  | "RUNNING"
  | "REQUIRES_ACTION"
  | "REQUIRES_PAYMENT_METHOD"
  | "COMPLETED"
  | "FAILED"
  | "CANCELLED"
  | "EXPIRED";
export type CheckoutStep =
  | "CREATING_ORDER"
  | "PROCESSING_PAYMENT"
  | "AWAITING_CUSTOMER"
  | "AWAITING_PAYMENT_METHOD"
  | "SENDING_NOTIFICATION"
  | "COMPENSATING"
  | "DONE";
export type PaymentState = "NOT_STARTED" | "PROCESSING" | "REQUIRES_ACTION" | "SUCCEEDED" | "FAILED" | "CANCELLED";

/** What the customer must do before the provider settles the payment. */
export interface CustomerAction {
  type: "redirect" | "qr";
  url?: string;
  qrData?: string;
}

export interface Failover {
  from: string;
  to: string;
  reason: string;
}

/** A provider's webhook, relayed by the API to the checkout it is about. */
export interface PaymentEvent {
  provider: string;
  eventId: string;
  kind: string;
  reference?: string;
}

export interface OrderSummary {
  orderId: string;
  totalAmount: number;
  currency: string;
}

export interface PaymentResult {
  paymentId: string;
  gatewayReference: string;
  provider: string;
}

/** One payment of a checkout (the first, or one made after a decline): what it was and how it ended. */
export interface PaymentAttemptSummary {
  number: number;
  provider: string;
  method: string;
  idempotencyKey: string;
  outcome: "processing" | "succeeded" | "declined" | "failed" | "expired";
  failureCode?: string;
  failureReason?: string;
}

/** A new payment for a declined checkout (POST /orders/{id}/payments). */
export interface PayAgainRequest {
  payment: PaymentInstruction;
  /** Who asked: the API key's id (secret or publishable). */
  requestedBy?: string;
}

export interface CheckoutError {
  type: string;
  message: string;
}

/** What the `getState` query returns and what the workflow ends with. */
export interface CheckoutState {
  checkoutId: string;
  status: CheckoutStatus;
  step: CheckoutStep;
  order?: OrderSummary;
  payment: {
    status: PaymentState;
    provider: string;
    attempts: number;
    gatewayReference?: string;
    action?: CustomerAction;
    /** Provider switches after a provider stayed unavailable. */
    failovers?: Failover[];
    /** Webhook events received, in order. */
    events?: PaymentEvent[];
    /** Payments made on this checkout, the first included, once the customer paid again; absent before. */
    paymentAttempts?: PaymentAttemptSummary[];
    /** Until when a new payment is awaited (ISO 8601), while REQUIRES_PAYMENT_METHOD. */
    payAgainUntil?: string;
  };
  lastError?: CheckoutError;
  failureReason?: string;
}

export interface NotificationRequest {
  checkoutId: string;
  template:
    | "order-paid"
    | "payment-failed"
    | "checkout-cancelled"
    | "checkout-expired"
    | "checkout-failed"
    | "refund-issued"
    | "order-shipped"
    | "order-delivered"
    | "order-cancelled";
  recipient: string;
  order: OrderSummary;
  items: LineItem[];
  reason?: string;
  /** For refund emails: the refund, so each refund gets its own email (and only one); a cancelled order's refund. */
  refund?: { id: string; amount: number };
  /** For order-shipped: the carrier and tracking number. */
  shipment?: { carrier: string; tracking: string };
  /** The event to write once the email's outcome is recorded (activities/outbox.ts). */
  event?: EventRequest;
}

/** Asked of an activity by its workflow: the event to write with the change it makes (activities/outbox.ts). */
export interface EventRequest {
  /** With the type, it makes the event id: a retried activity writes the same row once. */
  sourceWorkflowId: string;
  type: EventType;
  /** The checkout's status the event reports. */
  status: CheckoutStatus;
}

/** The events of an order's life after payment (workflows/order.ts). */
export const ORDER_EVENT_TYPES = ["order.shipped", "order.delivered", "order.cancelled"] as const;

export type EventType =
  | "checkout.completed"
  | "checkout.cancelled"
  | "checkout.expired"
  | "checkout.failed"
  | "payment.succeeded"
  | "payment.failed"
  | "refund.succeeded"
  | (typeof ORDER_EVENT_TYPES)[number]
  | (typeof TRANSFER_EVENT_TYPES)[number];

/** The ledger's events (workflows/transfer.ts). */
export const TRANSFER_EVENT_TYPES = ["transfer.completed", "transfer.failed"] as const;

/** What subscribers and the broker receive: public data only, never secrets or card data. */
export interface CheckoutEvent {
  id: string;
  type: EventType;
  createdAt: string;
  data: Record<string, unknown>;
}

/**
 * A paid order's life (workflows/order.ts): CONFIRMED (paid; PAID in the database), SHIPPED,
 * DELIVERED; or CANCELLING (its refund under way) and CANCELLED before it shipped.
 */
export type OrderLifecycleStatus = "CONFIRMED" | "SHIPPED" | "DELIVERED" | "CANCELLING" | "CANCELLED";

export interface OrderInput {
  orderId: string;
  checkoutId: string;
  merchantId?: string;
  /** Where the order's emails go. */
  recipient: string;
  order: OrderSummary;
  items: LineItem[];
  /** When the payment succeeded (ISO 8601): the auto-delivery timer counts from it. */
  confirmedAt: string;
  /** When set: the order is marked delivered this long after it was confirmed. */
  autoDeliverSeconds?: number;
  /** How long a cancel's refund retries a provider that does not answer. */
  refundRetryWindowSeconds?: number;
}

export interface OrderState {
  orderId: string;
  checkoutId: string;
  status: OrderLifecycleStatus;
  shipment?: { carrier: string; tracking: string; shippedAt: string };
  deliveredAt?: string;
  /** `timer`: by FULFILMENT_AUTO_DELIVER_SECONDS; otherwise the API key that said so. */
  deliveredBy?: string;
  cancellation?: { reason?: string; refundId: string; refundedAmount?: number; cancelledAt?: string };
  lastError?: CheckoutError;
}

export interface ShipRequest {
  carrier: string;
  tracking: string;
  requestedBy?: string;
}

export interface DeliverRequest {
  requestedBy?: string;
}

export interface OrderCancelRequest {
  reason?: string;
  requestedBy?: string;
  /** The refund's id (api/services/idempotency.ts refundIdFor): one per order, however often asked. */
  refundId: string;
}
