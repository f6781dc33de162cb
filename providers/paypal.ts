// The PayPal adapter: Orders v2 (create, get, capture), Payments v2 (refund a capture), Webhooks v1
// (verify-webhook-signature) and OAuth2 client credentials.
//
// Why plain fetch rather than @paypal/paypal-server-sdk: the SDK only knows PayPal's two fixed hosts
// (Environment.Sandbox and Environment.Production), so it cannot be pointed at a configurable base
// URL (a regional proxy, an egress gateway, a local fake). PayPal's REST API is small and documented;
// talking to it directly keeps one code path for every environment.
//
// PAYPAL_API_BASE: https://api-m.paypal.com (live, the default) or https://api-m.sandbox.paypal.com.
//
// How a PayPal payment goes:
//   charge     creates an order (intent CAPTURE) under `PayPal-Request-Id: <idempotencyKey>` and
//              answers requires_action with the page where the buyer approves it;
//   reconcile  reads the order and, once the buyer approved it, captures it (second step) under
//              `PayPal-Request-Id: <idempotencyKey>:capture`, so a retried capture cannot take the
//              money twice;
//   refund     refunds the order's capture.
//
// The reference of a payment is always the PayPal *order* id: requires_action, succeeded and the
// webhook events all carry it, so the workflow sees one reference from start to end. A refund looks
// the capture id up on the order (one extra GET) instead of making callers keep a second id.
import { createHash } from "node:crypto";
import { toProviderDecimal } from "./currency-rules.ts";
import type {
  PayPalCapture,
  PayPalErrorBody,
  PayPalOrder,
  PayPalRefund,
  PayPalToken,
  PayPalVerification,
} from "./paypal-wire.ts";
import { type HttpAnswer, type HttpRequest, HttpTransport } from "./transport.ts";
import {
  type ChargeLookup,
  type ChargeOutcome,
  type ChargeRequest,
  GatewayUnavailableError,
  type PaymentGateway,
  type ProviderDefinition,
  type RefundOutcome,
  type RefundRequest,
  type WebhookEvent,
  type WebhookRequest,
  WebhookVerificationError,
} from "./types.ts";
import { WEBHOOK_TOLERANCE_SECONDS, withinTolerance } from "./webhooks.ts";

export const PAYPAL_LIVE_API_BASE = "https://api-m.paypal.com";
export const PAYPAL_SANDBOX_API_BASE = "https://api-m.sandbox.paypal.com";

/** Renew the access token this long before PayPal says it expires. */
const TOKEN_RENEWAL_MARGIN_MS = 60_000;
/** PayPal-Request-Id is at most 108 characters; invoice_id and custom_id at most 127. */
const REQUEST_ID_MAX = 108;
const INVOICE_ID_MAX = 127;

/**
 * Capture errors (422 details[].issue) that mean the buyer's money cannot be taken: a decline, not
 * a fault of ours and not worth retrying.
 */
const DECLINE_ISSUES = new Set([
  "INSTRUMENT_DECLINED",
  "TRANSACTION_REFUSED",
  "PAYER_CANNOT_PAY",
  "PAYER_ACCOUNT_LOCKED_OR_CLOSED",
  "PAYER_ACCOUNT_RESTRICTED",
  "PAYEE_BLOCKED_TRANSACTION",
  "COMPLIANCE_VIOLATION",
  "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED",
  "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING",
  "CARD_EXPIRED",
  "TRANSACTION_LIMIT_EXCEEDED",
  "AGREEMENT_ALREADY_CANCELLED",
]);

export interface PayPalGatewayOptions {
  clientId: string;
  clientSecret: string;
  /** The id of the webhook as registered in the PayPal developer dashboard. */
  webhookId: string;
  /** PayPal REST API base URL; PAYPAL_LIVE_API_BASE unless given. */
  baseUrl?: string;
  /** Per request; a request that takes longer has an unknown outcome. */
  timeoutMs?: number;
}

/** A request to the REST API, sent with the access token (and PayPal-Request-Id, when given). */
interface PayPalRequest extends Omit<HttpRequest, "headers"> {
  method: "GET" | "POST";
  requestId?: string;
}

/** An id PayPal accepts in a field of at most `max` characters: itself, or a prefix and its hash. */
function boundedId(value: string, max: number): string {
  if (value.length <= max) return value;
  const hash = createHash("sha256").update(value).digest("hex");
  return `${value.slice(0, max - hash.length - 1)}-${hash}`;
}

function errorSummary(res: HttpAnswer): string {
  const body = (res.json ?? {}) as PayPalErrorBody;
  const issues = (body.details ?? []).map((d) => d.issue).filter(Boolean);
  const name = body.name ?? body.error ?? `HTTP ${res.status}`;
  // The first detail's description says more than the generic message of the error's name.
  const message = body.details?.[0]?.description ?? body.message ?? body.error_description ?? res.text.slice(0, 200);
  const debug = body.debug_id ? ` (debug_id ${body.debug_id})` : "";
  return `${name}${issues.length ? ` [${issues.join(", ")}]` : ""}: ${message}${debug}`;
}

function issuesOf(res: HttpAnswer): string[] {
  const body = (res.json ?? {}) as PayPalErrorBody;
  return (body.details ?? []).map((d) => d.issue ?? "").filter(Boolean);
}

export class PayPalGateway implements PaymentGateway {
  readonly provider = "paypal";
  /** Orders are read back by id or by PayPal-Request-Id replay: consistent. */
  readonly searchLagSeconds = 0;
  /** PayPal-Request-Id is kept for 6 hours by default (Orders v2 reference, request headers). */
  readonly keyRetentionSeconds = 6 * 3600;
  private readonly http: HttpTransport;
  private token?: { value: string; renewAt: number };
  private tokenRequest?: Promise<string>;

  constructor(private readonly options: PayPalGatewayOptions) {
    this.http = new HttpTransport({
      provider: "PayPal",
      baseUrl: options.baseUrl ?? PAYPAL_LIVE_API_BASE,
      timeoutMs: options.timeoutMs,
    });
  }

  async charge(request: ChargeRequest): Promise<ChargeOutcome> {
    const order = await this.createOrder(request, request.returnUrl, request.customerEmail);
    return this.settle(order, request.idempotencyKey);
  }

  /**
   * With a reference: reads the order, capturing it when the buyer approved it.
   *
   * Without one (the create's answer was lost): Orders v2 cannot search orders by invoice_id, so
   * this sends the create again under the same PayPal-Request-Id, which PayPal answers with the
   * order that id already made (in its latest status) instead of making a second one. If the first
   * create never reached PayPal (a definite 5xx, say), this makes the order now: harmless, as an
   * order moves no money until the buyer approves it. The lookup carries no return URL, though, so
   * that order would send the buyer nowhere after approving; a caller that passes the charge's
   * `returnUrl` and `customerEmail` along with the lookup gets the very order `charge` would make.
   * So this never answers null without a reference: there is always an order under the key after.
   */
  async reconcile(lookup: ChargeLookup & { returnUrl?: string; customerEmail?: string }): Promise<ChargeOutcome | null> {
    let order: PayPalOrder;
    if (lookup.reference) {
      const res = await this.send({ method: "GET", path: `/v2/checkout/orders/${encodeURIComponent(lookup.reference)}` });
      // Not found: an unapproved order PayPal has since expired (or never made): charge again.
      if (res.status === 404) return null;
      order = this.expect(res) as PayPalOrder;
    } else {
      order = await this.createOrder(lookup, lookup.returnUrl, lookup.customerEmail);
    }
    return this.settle(order, lookup.idempotencyKey);
  }

  async refund(request: RefundRequest): Promise<RefundOutcome> {
    const value = toProviderDecimal(this.provider, request.currency, request.amount);
    const orderRes = await this.send({
      method: "GET",
      path: `/v2/checkout/orders/${encodeURIComponent(request.chargeReference)}`,
    });
    if (orderRes.status === 404) return { status: "failed", reason: `PayPal has no order ${request.chargeReference}` };
    const order = this.expect(orderRes) as PayPalOrder;
    // PayPal judges what is left to refund (an over-refund, a fully refunded capture): ask it.
    const capture = capturesOf(order).find((c) => ["COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"].includes(c.status));
    if (!capture) {
      // Never captured, or the capture was declined: no money to give back.
      const statuses = capturesOf(order).map((c) => c.status);
      return {
        status: "failed",
        reason: `order ${order.id} (${order.status}) has no refundable capture${statuses.length ? ` (captures: ${statuses.join(", ")})` : ""}`,
      };
    }
    const res = await this.send({
      method: "POST",
      path: `/v2/payments/captures/${encodeURIComponent(capture.id)}/refund`,
      requestId: boundedId(request.idempotencyKey, REQUEST_ID_MAX),
      body: {
        amount: { value, currency_code: request.currency },
        // Carried into the PAYMENT.CAPTURE.REFUNDED webhook: lets it name the checkout.
        custom_id: boundedId(request.checkoutId, INVOICE_ID_MAX),
      },
    });
    // 422: PayPal refused the refund for a business reason (REFUND_AMOUNT_EXCEEDED,
    // CAPTURE_FULLY_REFUNDED, REFUND_TIME_LIMIT_EXCEEDED, ...): final, no retry changes it.
    if (res.status === 422) return { status: "failed", reason: errorSummary(res) };
    const refund = this.expect(res) as PayPalRefund;
    if (refund.status === "COMPLETED") return { status: "succeeded", reference: refund.id };
    if (refund.status === "PENDING") return { status: "pending", reference: refund.id };
    return {
      status: "failed",
      reference: refund.id,
      reason: `refund ${refund.status}${refund.status_details?.reason ? `: ${refund.status_details.reason}` : ""}`,
    };
  }

  /**
   * PayPal signs webhooks with a certificate; its verify-webhook-signature API checks a delivery
   * for us. The event goes to it byte for byte as received (spliced into the request's JSON, not
   * parsed and serialised again), since PayPal checks the signature over the body's exact bytes.
   */
  async verifyWebhook(request: WebhookRequest): Promise<WebhookEvent> {
    const header = (name: string) => {
      const value = request.headers[name];
      if (!value) throw new WebhookVerificationError(`missing ${name} header`);
      return value;
    };
    const transmission = {
      auth_algo: header("paypal-auth-algo"),
      cert_url: header("paypal-cert-url"),
      transmission_id: header("paypal-transmission-id"),
      transmission_sig: header("paypal-transmission-sig"),
      transmission_time: header("paypal-transmission-time"),
      webhook_id: this.options.webhookId,
    };
    const sentAt = Date.parse(transmission.transmission_time);
    if (Number.isNaN(sentAt)) throw new WebhookVerificationError("paypal-transmission-time is not a date");
    // Replays: PayPal signs the transmission time.
    if (!withinTolerance(sentAt)) {
      throw new WebhookVerificationError(
        `transmission time ${transmission.transmission_time} is more than ${WEBHOOK_TOLERANCE_SECONDS / 60} minutes away`,
      );
    }
    let event: unknown;
    try {
      event = JSON.parse(request.rawBody);
    } catch {
      throw new WebhookVerificationError("body is not JSON");
    }
    if (typeof event !== "object" || event === null || Array.isArray(event) || !text(event, "id")) {
      throw new WebhookVerificationError("body is not a PayPal webhook event");
    }
    // rawBody parsed as one JSON object, so splicing it in as a value keeps the request well formed.
    const body = `${JSON.stringify(transmission).slice(0, -1)},"webhook_event":${request.rawBody}}`;
    const res = await this.send({
      method: "POST",
      path: "/v1/notifications/verify-webhook-signature",
      body,
      sideEffectFree: true,
    });
    // PayPal refusing the transmission's fields (a malformed header, say) is the delivery's fault;
    // 5xx, 429 and no answer stay GatewayUnavailableError, so the sender is asked to try again.
    if (res.status === 400 || res.status === 422) {
      throw new WebhookVerificationError(`PayPal refused to verify the delivery: ${errorSummary(res)}`);
    }
    const verdict = this.expect(res) as PayPalVerification;
    if (verdict.verification_status !== "SUCCESS") {
      throw new WebhookVerificationError(`PayPal says the signature is ${verdict.verification_status ?? "unknown"}`);
    }
    return toWebhookEvent(event);
  }

  private async createOrder(
    charge: Pick<ChargeRequest, "idempotencyKey" | "checkoutId" | "amount" | "currency">,
    returnUrl?: string,
    email?: string,
  ): Promise<PayPalOrder> {
    const body: Record<string, unknown> = {
      intent: "CAPTURE",
      purchase_units: [
        {
          reference_id: charge.checkoutId,
          custom_id: boundedId(charge.checkoutId, INVOICE_ID_MAX),
          invoice_id: boundedId(charge.idempotencyKey, INVOICE_ID_MAX),
          // PayPal's decimal: HUF, JPY and TWD in whole units, at most 9999999.99 (currency-rules.ts).
          amount: { currency_code: charge.currency, value: toProviderDecimal(this.provider, charge.currency, charge.amount) },
        },
      ],
    };
    if (returnUrl) {
      body.payment_source = {
        paypal: {
          ...(email ? { email_address: email } : {}),
          experience_context: { return_url: returnUrl, cancel_url: returnUrl, user_action: "PAY_NOW" },
        },
      };
    }
    const res = await this.send({
      method: "POST",
      path: "/v2/checkout/orders",
      requestId: boundedId(charge.idempotencyKey, REQUEST_ID_MAX),
      body,
    });
    return this.expect(res) as PayPalOrder;
  }

  /** What an order means for the charge; captures it first when the buyer approved it. */
  private async settle(order: PayPalOrder, idempotencyKey: string): Promise<ChargeOutcome> {
    switch (order.status) {
      case "CREATED":
      case "PAYER_ACTION_REQUIRED": {
        const link = order.links?.find((l) => l.rel === "payer-action") ?? order.links?.find((l) => l.rel === "approve");
        // Some payment sources have the payer act elsewhere (no link): wait and ask again.
        if (!link) return { status: "processing", reference: order.id };
        return { status: "requires_action", reference: order.id, action: { type: "redirect", url: link.href } };
      }
      case "APPROVED":
        return this.capture(order.id, idempotencyKey);
      case "COMPLETED":
        return outcomeOfCompleted(order);
      case "VOIDED":
        return {
          status: "declined",
          reference: order.id,
          declineCode: "order_voided",
          declineReason: "The PayPal order was voided.",
        };
      default:
        // SAVED, PENDING_APPROVAL: accepted but not final yet.
        return { status: "processing", reference: order.id };
    }
  }

  private async capture(orderId: string, idempotencyKey: string): Promise<ChargeOutcome> {
    const res = await this.send({
      method: "POST",
      path: `/v2/checkout/orders/${encodeURIComponent(orderId)}/capture`,
      requestId: boundedId(`${idempotencyKey}:capture`, REQUEST_ID_MAX),
      body: {},
    });
    if (res.status === 422) {
      const issues = issuesOf(res);
      const decline = issues.find((issue) => DECLINE_ISSUES.has(issue));
      if (decline) {
        const body = res.json as PayPalErrorBody;
        return {
          status: "declined",
          reference: orderId,
          declineCode: decline.toLowerCase(),
          declineReason: body.details?.find((d) => d.issue === decline)?.description ?? body.message ?? decline,
        };
      }
      // Someone (a concurrent reconcile, an earlier key) captured or changed it already: read it.
      if (issues.includes("ORDER_ALREADY_CAPTURED") || issues.includes("ORDER_NOT_APPROVED")) {
        const again = await this.send({ method: "GET", path: `/v2/checkout/orders/${encodeURIComponent(orderId)}` });
        const order = this.expect(again) as PayPalOrder;
        if (order.status === "APPROVED") return { status: "processing", reference: order.id };
        return this.settle(order, idempotencyKey);
      }
    }
    const order = this.expect(res) as PayPalOrder;
    // The capture answer is the order, COMPLETED (its captures say whether money moved).
    if (order.status === "APPROVED") return { status: "processing", reference: order.id };
    return this.settle(order, idempotencyKey);
  }

  /** The JSON of a 2xx answer; anything else becomes the matching error. */
  private expect(res: HttpAnswer): unknown {
    if (res.ok) return res.json;
    throw this.http.refusal(res, errorSummary(res));
  }

  private async send(request: PayPalRequest, retriedAuth = false): Promise<HttpAnswer> {
    const { requestId, ...rest } = request;
    const token = await this.accessToken();
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (requestId) headers["paypal-request-id"] = requestId;
    if (request.method === "POST") headers.prefer = "return=representation";
    const res = await this.http.send({ ...rest, headers });
    // An access token PayPal no longer honours (revoked, expired early): get a new one, once.
    // A 401 means the request was not processed, so sending it again is safe.
    if (res.status === 401 && !retriedAuth) {
      if (this.token?.value === token) this.token = undefined;
      return this.send(request, true);
    }
    return res;
  }

  private async accessToken(): Promise<string> {
    if (this.token && Date.now() < this.token.renewAt) return this.token.value;
    // One token request at a time, shared by every caller waiting for it.
    this.tokenRequest ??= this.requestToken().finally(() => {
      this.tokenRequest = undefined;
    });
    return this.tokenRequest;
  }

  private async requestToken(): Promise<string> {
    const basic = Buffer.from(`${this.options.clientId}:${this.options.clientSecret}`).toString("base64");
    const res = await this.http.send({
      method: "POST",
      path: "/v1/oauth2/token",
      headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
      sideEffectFree: true,
    });
    const body = this.expect(res) as PayPalToken;
    if (!body.access_token) throw new GatewayUnavailableError("PayPal OAuth token: no access_token in the answer", res.status);
    const lifetimeMs = (body.expires_in ?? 0) * 1000;
    // Renew a minute early; a short-lived token (under two minutes) is renewed at half its life.
    const renewIn = lifetimeMs > 2 * TOKEN_RENEWAL_MARGIN_MS ? lifetimeMs - TOKEN_RENEWAL_MARGIN_MS : lifetimeMs / 2;
    this.token = { value: body.access_token, renewAt: Date.now() + renewIn };
    return body.access_token;
  }
}

function capturesOf(order: PayPalOrder): PayPalCapture[] {
  return (order.purchase_units ?? []).flatMap((unit) => unit.payments?.captures ?? []);
}

/** A COMPLETED order: its capture says whether the money moved. */
function outcomeOfCompleted(order: PayPalOrder): ChargeOutcome {
  const captures = capturesOf(order);
  const capture = captures.at(-1);
  if (!capture || ["COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"].includes(capture.status)) {
    return { status: "succeeded", reference: order.id };
  }
  if (capture.status === "PENDING") return { status: "processing", reference: order.id };
  // DECLINED, FAILED
  const reason = capture.status_details?.reason;
  return {
    status: "declined",
    reference: order.id,
    declineCode: `capture_${capture.status.toLowerCase()}`,
    declineReason: `PayPal capture ${capture.status}${reason ? `: ${reason}` : ""}`,
  };
}

/** The non-empty string at `path` inside a parsed JSON value, if there is one. */
function text(value: unknown, ...path: Array<string | number>): string | undefined {
  let at = value;
  for (const key of path) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<string | number, unknown>)[key];
  }
  return typeof at === "string" && at ? at : undefined;
}

const WEBHOOK_KINDS: Record<string, WebhookEvent["kind"]> = {
  // The buyer approved: the money moves only once we capture (the workflow reconciles).
  "CHECKOUT.ORDER.APPROVED": "payment.pending",
  "PAYMENT.CAPTURE.PENDING": "payment.pending",
  "PAYMENT.CAPTURE.COMPLETED": "payment.succeeded",
  "PAYMENT.CAPTURE.DECLINED": "payment.failed",
  "PAYMENT.CAPTURE.DENIED": "payment.failed",
  "PAYMENT.CAPTURE.REFUNDED": "refund.succeeded",
};

function toWebhookEvent(event: unknown): WebhookEvent {
  const type = text(event, "event_type") ?? "";
  const kind = Object.hasOwn(WEBHOOK_KINDS, type) ? WEBHOOK_KINDS[type] : "other";
  // Orders carry our checkout id on the purchase unit; captures and refunds copy it as custom_id.
  const checkoutId = text(event, "resource", "custom_id") ?? text(event, "resource", "purchase_units", 0, "custom_id");
  // Our reference is the order id: the resource itself for CHECKOUT.ORDER.*, the related order for
  // a capture (and for a refund when PayPal includes it).
  const reference = type.startsWith("CHECKOUT.ORDER.")
    ? text(event, "resource", "id")
    : text(event, "resource", "supplementary_data", "related_ids", "order_id");
  return { id: text(event, "id")!, kind, checkoutId, reference, providerType: type };
}

export const paypalProvider: ProviderDefinition = {
  provider: "paypal",
  requiredVariables: ["PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID"],
  create(env) {
    const required = (name: string) => {
      const value = env[name];
      if (!value) throw new Error(`PayPal needs ${name}`);
      return value;
    };
    const timeout = env.PAYPAL_TIMEOUT_MS ? Number(env.PAYPAL_TIMEOUT_MS) : undefined;
    if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) {
      throw new Error(`PAYPAL_TIMEOUT_MS must be a positive integer, got "${env.PAYPAL_TIMEOUT_MS}"`);
    }
    return new PayPalGateway({
      clientId: required("PAYPAL_CLIENT_ID"),
      clientSecret: required("PAYPAL_CLIENT_SECRET"),
      webhookId: required("PAYPAL_WEBHOOK_ID"),
      baseUrl: env.PAYPAL_API_BASE || PAYPAL_LIVE_API_BASE,
      timeoutMs: timeout,
    });
  },
};
