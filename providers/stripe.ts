// The Stripe adapter: PaymentIntents through the official SDK. STRIPE_API_BASE points it at another
// base URL (a local fake in the tests, stripe-mock, a proxy); nothing else differs.
//
// Stripe's idempotency keys do most of the work here: every POST carries our own key, so a retry of
// a charge or a refund whose first answer was lost replays the first result instead of moving money
// twice (Stripe keeps keys for at least 24 hours). `reconcile` uses the Search API, which Stripe
// documents as eventually consistent (usually under a minute behind): a charge it cannot see yet
// comes back as null, and the charge that follows, under the same key, gets the stored answer.
import Stripe from "stripe";
import { ConfigError } from "../config.ts";
import { toProviderUnits } from "./currency-rules.ts";
import { DEFAULT_TIMEOUT_MS, NEVER_SENT_CODES } from "./transport.ts";
import {
  type ChargeLookup,
  type ChargeOutcome,
  type ChargeRequest,
  GatewayRequestError,
  GatewayUnavailableError,
  type PaymentGateway,
  type ProviderDefinition,
  type RefundOutcome,
  type RefundRequest,
  type WebhookEvent,
  type WebhookRequest,
  WebhookVerificationError,
} from "./types.ts";
import { WEBHOOK_TOLERANCE_SECONDS } from "./webhooks.ts";

export const DEFAULT_STRIPE_API_BASE = "https://api.stripe.com";
const DEFAULT_SEARCH_LAG_SECONDS = 60;

export interface StripeGatewayOptions {
  secretKey: string;
  webhookSecret: string;
  /** Scheme, host and port only (the SDK adds /v1/...); default https://api.stripe.com. */
  apiBase?: string;
  /** Per-request timeout; after it the outcome of a POST is unknown. */
  timeoutMs?: number;
  /** How far the Search API may lag (default 60 s). */
  searchLagSeconds?: number;
}

/** Refund refusals that are final answers about this payment (not mistakes in our request). */
const REFUND_REFUSALS = new Set([
  "amount_too_large",
  "charge_already_refunded",
  "charge_disputed",
  "charge_not_refundable",
  "refund_disputed_payment",
  "insufficient_funds",
  "balance_insufficient",
]);

export class StripeGateway implements PaymentGateway {
  readonly provider = "stripe";
  /**
   * Stripe's Search API: data is "searchable in less than a minute" normally, up to an hour behind
   * during an incident (https://docs.stripe.com/search#data-freshness); STRIPE_SEARCH_LAG_SECONDS.
   */
  readonly searchLagSeconds: number;
  /** Stripe removes keys "after they're at least 24 hours old" (https://docs.stripe.com/api/idempotent_requests). */
  readonly keyRetentionSeconds = 24 * 3600;
  private readonly stripe: Stripe;
  private readonly webhookSecret: string;

  constructor(options: StripeGatewayOptions) {
    const base = parseApiBase(options.apiBase ?? DEFAULT_STRIPE_API_BASE);
    this.webhookSecret = options.webhookSecret;
    this.searchLagSeconds = options.searchLagSeconds ?? DEFAULT_SEARCH_LAG_SECONDS;
    this.stripe = new Stripe(options.secretKey, {
      host: base.host,
      port: base.port,
      protocol: base.protocol,
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      // Retries belong to the workflow (with reconcile in between), not to the SDK.
      maxNetworkRetries: 0,
      appInfo: { name: "checkout" },
    });
  }

  async charge(request: ChargeRequest): Promise<ChargeOutcome> {
    const params: Stripe.PaymentIntentCreateParams = {
      // Stripe's units: ISK and UGX in hundredths, MGA in whole ariary, ... (currency-rules.ts).
      amount: toProviderUnits(this.provider, request.currency, request.amount),
      currency: request.currency.toLowerCase(),
      payment_method: request.token,
      confirm: true,
      metadata: { checkout_id: request.checkoutId, idempotency_key: request.idempotencyKey },
    };
    if (request.returnUrl) {
      params.return_url = request.returnUrl;
    } else {
      // Without a return URL, Stripe refuses to confirm when redirect-based methods are enabled.
      params.automatic_payment_methods = { enabled: true, allow_redirects: "never" };
    }
    try {
      const intent = await this.stripe.paymentIntents.create(params, { idempotencyKey: request.idempotencyKey });
      return toOutcome(intent);
    } catch (err) {
      if (err instanceof Stripe.errors.StripeCardError) {
        return {
          status: "declined",
          reference: err.payment_intent?.id,
          declineCode: err.decline_code ?? err.code ?? "card_declined",
          declineReason: err.message,
        };
      }
      throw toGatewayError(err, "charge", true);
    }
  }

  async reconcile(lookup: ChargeLookup): Promise<ChargeOutcome | null> {
    if (lookup.reference) {
      try {
        return toOutcome(await this.stripe.paymentIntents.retrieve(lookup.reference));
      } catch (err) {
        // An unknown reference: fall back to the search by our key.
        if (!(err instanceof Stripe.errors.StripeError && err.statusCode === 404)) throw toGatewayError(err, "reconcile");
      }
    }
    let found: Stripe.PaymentIntent[];
    try {
      const result = await this.stripe.paymentIntents.search({
        query: `metadata['idempotency_key']:'${escapeSearchValue(lookup.idempotencyKey)}'`,
        limit: 10,
      });
      found = result.data.filter((intent) => intent.metadata?.idempotency_key === lookup.idempotencyKey);
    } catch (err) {
      throw toGatewayError(err, "reconcile");
    }
    if (found.length === 0) return null;
    // One key makes one PaymentIntent; should there be several, the most advanced one wins.
    const outcomes = found.map(toOutcome).sort((a, b) => RANK[a.status] - RANK[b.status]);
    return outcomes[0];
  }

  async cancel(lookup: ChargeLookup & { reference: string }): Promise<ChargeOutcome> {
    try {
      return toOutcome(await this.stripe.paymentIntents.cancel(lookup.reference));
    } catch (err) {
      // Too late to cancel (it succeeded, or is processing): report where it stands.
      if (err instanceof Stripe.errors.StripeError && err.code === "payment_intent_unexpected_state") {
        return toOutcome(await this.stripe.paymentIntents.retrieve(lookup.reference));
      }
      throw toGatewayError(err, "cancel", true);
    }
  }

  async refund(request: RefundRequest): Promise<RefundOutcome> {
    const amount = toProviderUnits(this.provider, request.currency, request.amount);
    try {
      const refund = await this.stripe.refunds.create(
        {
          payment_intent: request.chargeReference,
          amount,
          metadata: { checkout_id: request.checkoutId, idempotency_key: request.idempotencyKey },
        },
        { idempotencyKey: request.idempotencyKey },
      );
      return toRefundOutcome(refund);
    } catch (err) {
      // Stripe definitely refused this refund (more than what is left, already refunded, disputed):
      // nothing moved and asking again cannot change the answer.
      if (
        err instanceof Stripe.errors.StripeInvalidRequestError &&
        !(err instanceof Stripe.errors.StripeIdempotencyError) &&
        ((err.code !== undefined && REFUND_REFUSALS.has(err.code)) || err.param === "amount")
      ) {
        return { status: "failed", reason: `${err.code ?? "invalid_amount"}: ${err.message}` };
      }
      throw toGatewayError(err, "refund", true);
    }
  }

  /** Refunds are listed per PaymentIntent (a list, not the lagging search): ours carries our key in its metadata. */
  async findRefund(request: RefundRequest): Promise<RefundOutcome | null> {
    try {
      for await (const refund of this.stripe.refunds.list({ payment_intent: request.chargeReference, limit: 100 })) {
        if (refund.metadata?.idempotency_key === request.idempotencyKey) return toRefundOutcome(refund);
      }
      return null;
    } catch (err) {
      throw toGatewayError(err, "refund lookup");
    }
  }

  async verifyWebhook(request: WebhookRequest): Promise<WebhookEvent> {
    const signature = request.headers["stripe-signature"];
    if (!signature) throw new WebhookVerificationError("stripe webhook without a Stripe-Signature header");
    let event: Stripe.Event;
    try {
      event = this.stripe.webhooks.constructEvent(request.rawBody, signature, this.webhookSecret, WEBHOOK_TOLERANCE_SECONDS);
    } catch (err) {
      throw new WebhookVerificationError(`stripe webhook refused: ${(err as Error).message}`);
    }
    return toWebhookEvent(event);
  }
}

export const stripeProvider: ProviderDefinition = {
  provider: "stripe",
  requiredVariables: ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"],
  create(env) {
    // Without a return URL Stripe answers 3-D Secure with `use_stripe_sdk`, which leaves the
    // customer nothing to open: refuse to start rather than strand checkouts.
    if (!env.RETURN_URL) throw new ConfigError("Stripe needs RETURN_URL: 3-D Secure must send the customer back somewhere.");
    return new StripeGateway({
      secretKey: env.STRIPE_SECRET_KEY!,
      webhookSecret: env.STRIPE_WEBHOOK_SECRET!,
      apiBase: env.STRIPE_API_BASE || undefined,
      searchLagSeconds: searchLag(env.STRIPE_SEARCH_LAG_SECONDS),
    });
  },
};

function searchLag(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,5}$/.test(raw)) throw new ConfigError(`STRIPE_SEARCH_LAG_SECONDS must be a whole number of seconds; got "${raw}"`);
  return Number(raw);
}

/** Splits a base URL into what the SDK takes: it always adds its own /v1/ path. */
export function parseApiBase(apiBase: string): { host: string; port: number; protocol: "http" | "https" } {
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    throw new ConfigError(`STRIPE_API_BASE is not a URL: ${apiBase}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`STRIPE_API_BASE must be http or https: ${apiBase}`);
  }
  if (url.pathname !== "/" || url.search || url.hash) {
    throw new ConfigError(`STRIPE_API_BASE takes a scheme, host and port only (no path): ${apiBase}`);
  }
  const protocol = url.protocol === "https:" ? "https" : "http";
  return {
    // URL keeps IPv6 literals in brackets; http.request wants them bare.
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port ? Number(url.port) : protocol === "https" ? 443 : 80,
    protocol,
  };
}

function toRefundOutcome(refund: Stripe.Refund): RefundOutcome {
  switch (refund.status) {
    case "succeeded":
      return { status: "succeeded", reference: refund.id };
    case "failed":
    case "canceled":
      return { status: "failed", reference: refund.id, reason: refund.failure_reason ?? refund.status };
    default:
      // pending, requires_action: a refund.updated webhook (or a later look) settles it.
      return { status: "pending", reference: refund.id };
  }
}

const RANK: Record<ChargeOutcome["status"], number> = { succeeded: 0, processing: 1, requires_action: 2, declined: 3 };

function toOutcome(intent: Stripe.PaymentIntent): ChargeOutcome {
  switch (intent.status) {
    case "succeeded":
      return { status: "succeeded", reference: intent.id };
    case "requires_action": {
      const next = intent.next_action;
      const url = next?.redirect_to_url?.url ?? undefined;
      return { status: "requires_action", reference: intent.id, action: { type: "redirect", ...(url ? { url } : {}) } };
    }
    case "requires_payment_method": {
      // Confirmed and failed (a decline, or 3-D Secure not passed): the intent waits for another card.
      const error = intent.last_payment_error;
      return {
        status: "declined",
        reference: intent.id,
        declineCode: error?.decline_code ?? error?.code ?? "payment_failed",
        declineReason: error?.message ?? "the payment was not completed",
      };
    }
    case "canceled":
      return {
        status: "declined",
        reference: intent.id,
        declineCode: "canceled",
        declineReason: `the payment was canceled${intent.cancellation_reason ? ` (${intent.cancellation_reason})` : ""}`,
      };
    default:
      // processing; requires_capture and requires_confirmation do not arise with confirm: true and
      // automatic capture, and asking again later is the safe reading of them.
      return { status: "processing", reference: intent.id };
  }
}

/**
 * Our kinds of failure from the SDK's. `moves`: a POST that moves money (charge, cancel, refund).
 * The SDK resends such a POST once, under the same key, when its connection closes (ECONNRESET,
 * EPIPE), even with retries off, and shows only the resend's answer: a 503, a 429 or a refused
 * connection may then answer the resend of a request that did arrive. So for those, no failure
 * is proof that nothing was done; the provider is asked before anything else happens.
 */
function toGatewayError(err: unknown, what: string, moves = false): Error {
  if (!(err instanceof Stripe.errors.StripeError)) return err as Error;
  if (err instanceof Stripe.errors.StripeConnectionError) {
    const code = (err.detail as { code?: string } | undefined)?.code;
    const notSent = !moves && code !== undefined && NEVER_SENT_CODES.has(code);
    return new GatewayUnavailableError(`stripe ${what}: ${err.message}${code ? ` (${code})` : ""}`, undefined, !notSent);
  }
  const status = err.statusCode;
  if (status === undefined) {
    // An answer the SDK could not read (a proxy's HTML error page, a cut-off body): unknown outcome.
    return new GatewayUnavailableError(`stripe ${what}: ${err.message}`, undefined, true);
  }
  const message = `stripe ${what} answered ${status}: ${err.message}`;
  if (status === 429 || status === 503) {
    // A definite refusal of this request: nothing was done (but see `moves`).
    return new GatewayUnavailableError(message, status, moves);
  }
  if (status === 409) {
    // idempotency_key_in_use: the first request under this key is still running at Stripe.
    return new GatewayUnavailableError(message, status, true);
  }
  if (status >= 500) {
    // Stripe documents a 500 as indeterminate (the request may have been processed): reconcile first.
    return new GatewayUnavailableError(message, status, true);
  }
  return new GatewayRequestError(message, status);
}

/** Values in Stripe's search query language are single-quoted; backslash escapes quotes. */
function escapeSearchValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/'/g, "\\'");
}

function toWebhookEvent(event: Stripe.Event): WebhookEvent {
  const object = event.data.object as unknown as {
    object?: string;
    id?: string;
    status?: string;
    metadata?: Record<string, string> | null;
    payment_intent?: string | { id: string } | null;
  };
  const checkoutId = object.metadata?.checkout_id || undefined;
  const base = { id: event.id, providerType: event.type, checkoutId };
  const intentId = (value: typeof object.payment_intent) => (typeof value === "string" ? value : (value?.id ?? undefined));
  switch (event.type) {
    case "payment_intent.succeeded":
      return { ...base, kind: "payment.succeeded", reference: object.id };
    case "payment_intent.payment_failed":
      return { ...base, kind: "payment.failed", reference: object.id };
    case "payment_intent.processing":
      return { ...base, kind: "payment.pending", reference: object.id };
    case "charge.refunded":
      return { ...base, kind: "refund.succeeded", reference: intentId(object.payment_intent) };
    case "refund.updated":
    case "refund.failed": {
      const kind =
        event.type === "refund.failed" || object.status === "failed" || object.status === "canceled"
          ? "refund.failed"
          : object.status === "succeeded"
            ? "refund.succeeded"
            : "other";
      return { ...base, kind, reference: intentId(object.payment_intent) };
    }
    default: {
      const reference = object.object === "payment_intent" ? object.id : intentId(object.payment_intent);
      return { ...base, kind: "other", reference };
    }
  }
}
