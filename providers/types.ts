// One interface for every payment provider. Adapters translate their provider's answers into
// the kinds of outcome the payment activity handles differently:
//   success; a decline (final: no retry); the customer must act (3-D Secure, an approval link,
//   a QR code), after which a webhook or a reconciliation settles it; and a failure worth
//   retrying (network, 5xx, 429), which is either definite (the provider refused the request) or
//   an unknown outcome (the request may have reached it), resolved by `reconcile` before any new
//   charge.

export interface ChargeRequest {
  /** Derived from the workflow ID and the step: the same on every retry and after a reset. */
  idempotencyKey: string;
  checkoutId: string;
  /** Integer, in the currency's minor units. */
  amount: number;
  /** ISO 4217, upper case. */
  currency: string;
  /** A provider token for the card or wallet (never card details). */
  token: string;
  method: string;
  customerEmail: string;
  /** Where the provider sends the customer back after an approval page or 3-D Secure. */
  returnUrl?: string;
}

export interface CustomerAction {
  type: "redirect" | "qr";
  /** The page the customer must visit (3-D Secure, PayPal approval, Mercado Pago checkout). */
  url?: string;
  /** QR payload to render (Mercado Pago QR, UPI). */
  qrData?: string;
}

export type ChargeOutcome =
  | { status: "succeeded"; reference: string }
  | { status: "declined"; reference?: string; declineCode: string; declineReason: string }
  | { status: "requires_action"; reference: string; action: CustomerAction }
  /** Accepted but not final yet (and nothing for the customer to do): ask again later. */
  | { status: "processing"; reference: string };

/** How to find a charge again: by our own reference (the idempotency key) and checkout. */
export interface ChargeLookup {
  idempotencyKey: string;
  checkoutId: string;
  /** The provider's reference, when an earlier answer gave one. */
  reference?: string;
  amount: number;
  currency: string;
  /** What the charge carried, for providers whose status query re-sends the create (PayPal). */
  customerEmail?: string;
  returnUrl?: string;
}

export interface RefundRequest {
  idempotencyKey: string;
  checkoutId: string;
  /** The provider's reference of the captured charge. */
  chargeReference: string;
  amount: number;
  currency: string;
}

export type RefundOutcome =
  | { status: "succeeded" | "pending"; reference: string }
  | { status: "failed"; reference?: string; reason: string };

export interface WebhookRequest {
  /** The body exactly as received: signatures are computed over these bytes. */
  rawBody: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
}

export interface WebhookEvent {
  /** The provider's event id: a duplicate delivery carries the same one. */
  id: string;
  kind: "payment.succeeded" | "payment.failed" | "payment.pending" | "refund.succeeded" | "refund.failed" | "other";
  /** Our checkout id, from the metadata we sent with the charge; absent for foreign payments. */
  checkoutId?: string;
  /** The provider's reference of the payment the event is about. */
  reference?: string;
  /** The provider's own event type, for the audit trail. */
  providerType: string;
}

export interface PaymentGateway {
  readonly provider: string;
  /**
   * How far the provider's lookup by our key (`reconcile` without a reference) may lag behind its
   * writes: a charge made this long ago is certain to be found. 0 where the lookup is consistent.
   * A "no charge" answer without a reference is believed only when a second lookup this long
   * after the first agrees (before a failover to another provider).
   */
  readonly searchLagSeconds: number;
  /**
   * How long the provider keeps our idempotency keys (a replay within it returns the first answer
   * instead of charging again); Infinity where a key is never forgotten. The payment's retry
   * window must stay below it (config.ts refuses to start otherwise).
   */
  readonly keyRetentionSeconds: number;
  charge(request: ChargeRequest): Promise<ChargeOutcome>;
  /**
   * Asks the provider what became of the charge made under this key, and completes it where the
   * provider wants a second step once the customer approved (PayPal capture, Razorpay capture).
   * Null when the provider has no charge under this key: charging again is then safe.
   */
  reconcile(lookup: ChargeLookup): Promise<ChargeOutcome | null>;
  refund(request: RefundRequest): Promise<RefundOutcome>;
  /**
   * The refund made under this key, for a refund whose answer was lost (a timeout, a 500): null
   * when the provider certainly has none. Absent where the provider cannot be asked by our key;
   * such a refund's outcome stays unknown, for an operator to decide.
   */
  findRefund?(request: RefundRequest): Promise<RefundOutcome | null>;
  /**
   * Stops a charge the customer has not completed (an expired checkout), so that a late approval
   * cannot take money. Answers the charge's final state: `succeeded` when the customer completed
   * it first. Absent for providers where nothing moves without our own capture (PayPal, Razorpay).
   */
  cancel?(lookup: ChargeLookup & { reference: string }): Promise<ChargeOutcome>;
  /** Checks the signature over the raw body and parses the event; throws WebhookVerificationError. */
  verifyWebhook(request: WebhookRequest): Promise<WebhookEvent>;
}

/** The provider could not be reached or did not answer in time: retry later. */
export class GatewayUnavailableError extends Error {
  override name = "GatewayUnavailableError";
  constructor(
    message: string,
    readonly status?: number,
    /** True when the request may have reached the provider (timeout, dropped connection). */
    readonly outcomeUnknown = false,
  ) {
    super(message);
  }
}

/** A webhook whose signature is missing, wrong or too old: answer 4xx and signal nothing. */
export class WebhookVerificationError extends Error {
  override name = "WebhookVerificationError";
}

/** The request is wrong in a way no retry fixes (bad credentials, invalid parameters). */
export class GatewayRequestError extends Error {
  override name = "GatewayRequestError";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** How a provider is configured from the environment; the registry builds the configured ones. */
export interface ProviderDefinition {
  provider: string;
  /** Environment variables that must all be set for the provider to be available. */
  requiredVariables: string[];
  create(env: Record<string, string | undefined>): PaymentGateway;
}
