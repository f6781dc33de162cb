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
}

export interface CheckoutInput {
  checkoutId: string;
  customer: CheckoutCustomer;
  items: LineItem[];
  currency: string;
  payment: PaymentInstruction;
  /** How long the payment step may keep retrying a gateway that is down before the checkout fails. */
  paymentRetryWindowSeconds: number;
  /** When the API accepted the request (ISO 8601), so the history says when the customer paid. */
  requestedAt: string;
}

export type CheckoutStatus = "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED";
export type CheckoutStep = "CREATING_ORDER" | "PROCESSING_PAYMENT" | "SENDING_NOTIFICATION" | "COMPENSATING" | "DONE";
export type PaymentState = "NOT_STARTED" | "PROCESSING" | "SUCCEEDED" | "FAILED" | "CANCELLED";

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
  };
  lastError?: CheckoutError;
  failureReason?: string;
}

export interface NotificationRequest {
  checkoutId: string;
  template: "order-paid" | "payment-failed" | "checkout-cancelled";
  recipient: string;
  order: OrderSummary;
  items: LineItem[];
  reason?: string;
}
