// One interface for every payment provider. Adapters translate their provider's answers into
// the three kinds of outcome the payment activity handles differently:
//   success, a decline (final: no retry), and a failure worth retrying (network, 5xx, 429,
//   or an unknown outcome, which the next attempt resolves by asking for the charge's status).

export interface ChargeRequest {
  /** Derived from the workflow ID and the step: the same on every retry and after a reset. */
  idempotencyKey: string;
  checkoutId: string;
  amount: number;
  currency: string;
  token: string;
}

export interface Charge {
  /** The provider's own reference for the charge. */
  reference: string;
  status: "succeeded" | "declined" | "processing";
  declineCode?: string;
  declineReason?: string;
}

export interface PaymentGateway {
  readonly provider: string;
  charge(request: ChargeRequest): Promise<Charge>;
  /** The charge made under this key, if the provider has one: asked before charging again. */
  findCharge(idempotencyKey: string): Promise<Charge | null>;
}

/** The provider said no (card declined, insufficient funds): retrying cannot help. */
export class PaymentDeclinedError extends Error {
  override name = "PaymentDeclinedError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
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
