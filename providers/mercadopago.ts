// The Mercado Pago adapter: Checkout API payments (cards and PIX QR codes) over Mercado Pago's REST
// API: POST /v1/payments, GET /v1/payments/{id}, GET /v1/payments/search, POST
// /v1/payments/{id}/refunds, and the `x-signature` scheme of its webhooks.
//
// Why plain fetch and not the official `mercadopago` SDK: the SDK takes its API host from a
// process-wide static (AppConfig.BASE_URL), not from the client's configuration, so one process
// could not point one client at a given host (a regional proxy, a local fake) without moving every
// other client with it. fetch against the documented REST API keeps the host per instance
// (MERCADOPAGO_API_BASE) and needs no more code than the SDK would.
//
// Decisions worth knowing:
// - Methods: "card" pays with a card token; "qr" creates a PIX payment (payment_method_id "pix")
//   whose QR code the customer scans. Other methods are refused before anything is sent.
// - Card brand: Mercado Pago wants the card's payment_method_id ("visa", "master", …) next to the
//   token; its card form hands both to the browser. The checkout carries a single token, so the
//   brand travels as a prefix: "<payment_method_id>-<card token>", e.g. "master-9f1c…". A token
//   without a prefix is sent as is, without payment_method_id (Mercado Pago then answers 400,
//   which surfaces as a GatewayRequestError).
// - Currency: /v1/payments takes no currency; a payment is in the currency of the seller's site.
//   The adapter refuses currencies Mercado Pago does not operate in (currency-rules.ts), so a USD
//   checkout is never charged as, say, BRL. It cannot know which one site the account belongs to.
// - Refunds: a refund Mercado Pago refuses with 400 (more than what is left to refund, a payment
//   that is not approved) is a `failed` outcome carrying Mercado Pago's message: a business answer
//   to record, not a transient error and not a bug of ours to retry.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { toProviderDecimal } from "./currency-rules.ts";
import type { MpError, MpPayment, MpRefund, MpSearch, MpWebhookBody } from "./mercadopago-wire.ts";
import { type HttpAnswer, HttpTransport } from "./transport.ts";
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
import { withinTolerance } from "./webhooks.ts";

export const MERCADOPAGO_API_BASE = "https://api.mercadopago.com";

/** Payments search pages to read before giving up on a key (50 payments each). */
const SEARCH_PAGE_SIZE = 50;
const SEARCH_MAX_PAGES = 10;

export interface MercadoPagoSettings {
  accessToken: string;
  webhookSecret: string;
  /** Defaults to https://api.mercadopago.com */
  baseUrl?: string;
  /** Sent as notification_url with every payment, when set (else the account's configured URL). */
  notificationUrl?: string;
  timeoutMs?: number;
}

export class MercadoPagoGateway implements PaymentGateway {
  readonly provider = "mercadopago";
  /** Payments search is an index, not the store; not documented: taken as a minute, like Stripe's (an inference). */
  readonly searchLagSeconds = 60;
  /** X-Idempotency-Key's retention is not documented: taken as a day (an inference). */
  readonly keyRetentionSeconds = 24 * 3600;
  private readonly http: HttpTransport;

  constructor(private readonly settings: MercadoPagoSettings) {
    this.http = new HttpTransport({
      provider: "Mercado Pago",
      baseUrl: settings.baseUrl ?? MERCADOPAGO_API_BASE,
      timeoutMs: settings.timeoutMs,
      headers: { authorization: `Bearer ${settings.accessToken}` },
      // 409: a request under this idempotency key is still running.
      retryStatuses: [409],
    });
  }

  async charge(request: ChargeRequest): Promise<ChargeOutcome> {
    const { json } = await this.send("POST", "/v1/payments", {
      body: this.paymentBody(request),
      idempotencyKey: request.idempotencyKey,
    });
    return toChargeOutcome(asPayment(json, true));
  }

  async reconcile(lookup: ChargeLookup): Promise<ChargeOutcome | null> {
    if (lookup.reference) {
      const { status, json } = await this.send("GET", `/v1/payments/${encodeURIComponent(lookup.reference)}`, {
        accept: [404],
      });
      if (status !== 404) return toChargeOutcome(asPayment(json, false));
    }
    const payment = await this.findByKey(lookup.checkoutId, lookup.idempotencyKey);
    // Null: no payment under this key. Search results can trail a creation by a few seconds; a new
    // charge is still safe then, because it goes out under the same X-Idempotency-Key, which Mercado
    // Pago answers with the payment it already made.
    return payment ? toChargeOutcome(payment) : null;
  }

  /** A pending payment (QR, ticket) is cancelled so that paying it later takes no money. */
  async cancel(lookup: ChargeLookup & { reference: string }): Promise<ChargeOutcome> {
    const { status, json } = await this.send("PUT", `/v1/payments/${encodeURIComponent(lookup.reference)}`, {
      body: { status: "cancelled" },
      accept: [400],
    });
    if (status === 400) {
      // Not cancellable any more (approved meanwhile, or already final): report where it stands.
      const current = await this.send("GET", `/v1/payments/${encodeURIComponent(lookup.reference)}`, {});
      return toChargeOutcome(asPayment(current.json, false));
    }
    return toChargeOutcome(asPayment(json, false));
  }

  async refund(request: RefundRequest): Promise<RefundOutcome> {
    const { status, json } = await this.send("POST", `/v1/payments/${encodeURIComponent(request.chargeReference)}/refunds`, {
      body: { amount: transactionAmount(request) },
      idempotencyKey: request.idempotencyKey,
      accept: [400],
    });
    if (status === 400) return { status: "failed", reason: describeError(json as MpError) };
    const refund = json as MpRefund;
    if (!refund || (typeof refund.id !== "number" && typeof refund.id !== "string")) {
      throw new GatewayUnavailableError("Mercado Pago answered a refund without an id", status, true);
    }
    const reference = String(refund.id);
    switch (refund.status) {
      case "approved":
        return { status: "succeeded", reference };
      case "rejected":
      case "cancelled":
        return { status: "failed", reference, reason: `Mercado Pago ${refund.status} the refund.` };
      default:
        // in_process, pending, authorized: the money has not moved yet.
        return { status: "pending", reference };
    }
  }

  /**
   * Mercado Pago signs `id:<data.id>;request-id:<x-request-id>;ts:<ts>;` (parts whose value is
   * missing are left out) with HMAC-SHA256 under the webhook secret, and sends
   * `x-signature: ts=<ts>,v1=<hex>`. It takes data.id from the notification URL's query string;
   * this interface gets the body and headers only, so data.id comes from the body's data.id, which
   * for payment notifications holds the same value.
   *
   * The signature covers neither the body's type nor its action, and the body carries no status and
   * no checkout id; so once the signature holds, the adapter reads the payment itself from
   * Mercado Pago: kind and checkoutId come from Mercado Pago's own answer, never from unsigned
   * fields. That read may throw GatewayUnavailableError: answer 5xx and Mercado Pago delivers again.
   */
  async verifyWebhook(request: WebhookRequest): Promise<WebhookEvent> {
    const signature = parseSignature(request.headers["x-signature"]);
    let body: MpWebhookBody;
    try {
      body = JSON.parse(request.rawBody) as MpWebhookBody;
    } catch {
      throw new WebhookVerificationError("the webhook body is not JSON");
    }
    if (!body || typeof body !== "object") throw new WebhookVerificationError("the webhook body is not an object");

    const requestId = request.headers["x-request-id"];
    const dataId = body.data?.id === undefined || body.data.id === null ? undefined : normaliseDataId(String(body.data.id));
    const manifest = `${dataId ? `id:${dataId};` : ""}${requestId ? `request-id:${requestId};` : ""}ts:${signature.ts};`;
    const expected = createHmac("sha256", this.settings.webhookSecret).update(manifest).digest();
    const matches = signature.v1.some((hex) => {
      const given = Buffer.from(hex, "hex");
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    if (!matches) throw new WebhookVerificationError("the x-signature does not match");
    const signedAt = tsToMs(signature.ts);
    if (!withinTolerance(signedAt)) {
      throw new WebhookVerificationError(
        `the x-signature timestamp is ${Math.round((Date.now() - signedAt) / 1000)} s away from now`,
      );
    }

    const providerType = body.action ?? body.type ?? body.topic ?? "unknown";
    // The body's id is not signed: the id is the signed manifest's hash (data.id, x-request-id, ts).
    if (!dataId && !requestId) throw new WebhookVerificationError("the webhook carries neither a data.id nor an x-request-id");
    const id = `sha256:${createHash("sha256").update(manifest).digest("hex")}`;
    const type = body.type ?? body.topic;
    if (type !== "payment" || !dataId) return { id, kind: "other", providerType, reference: dataId };

    const { status, json } = await this.send("GET", `/v1/payments/${encodeURIComponent(dataId)}`, { accept: [404] });
    // A payment this account cannot read (a dashboard test notification, say): nothing to signal.
    if (status === 404) return { id, kind: "other", providerType, reference: dataId };
    const payment = asPayment(json, false);
    return {
      id,
      kind: webhookKind(payment.status),
      checkoutId: checkoutIdOf(payment),
      reference: String(payment.id),
      providerType,
    };
  }

  private paymentBody(request: ChargeRequest): Record<string, unknown> {
    const common = {
      transaction_amount: transactionAmount(request),
      description: `Checkout ${request.checkoutId}`,
      external_reference: request.checkoutId,
      metadata: { checkout_id: request.checkoutId, idempotency_key: request.idempotencyKey },
      payer: { email: request.customerEmail },
      ...(this.settings.notificationUrl ? { notification_url: this.settings.notificationUrl } : {}),
    };
    switch (request.method) {
      case "card": {
        const card = splitCardToken(request.token);
        return {
          ...common,
          token: card.token,
          installments: 1,
          ...(card.paymentMethodId ? { payment_method_id: card.paymentMethodId } : {}),
        };
      }
      case "qr":
        return { ...common, payment_method_id: "pix" };
      default:
        throw new GatewayRequestError(`Mercado Pago takes the methods "card" and "qr", not "${request.method}"`);
    }
  }

  /** The newest payment of this checkout made under this idempotency key, if any. */
  private async findByKey(checkoutId: string, idempotencyKey: string): Promise<MpPayment | null> {
    for (let page = 0; page < SEARCH_MAX_PAGES; page++) {
      const query = new URLSearchParams({
        external_reference: checkoutId,
        sort: "date_created",
        criteria: "desc",
        limit: String(SEARCH_PAGE_SIZE),
        offset: String(page * SEARCH_PAGE_SIZE),
      });
      const { json } = await this.send("GET", `/v1/payments/search?${query}`, {});
      const search = json as MpSearch;
      const results = Array.isArray(search?.results) ? search.results : [];
      const found = results.find((p) => p?.metadata?.idempotency_key === idempotencyKey);
      if (found) return asPayment(found, false);
      const total = search?.paging?.total ?? 0;
      if (results.length < SEARCH_PAGE_SIZE || (page + 1) * SEARCH_PAGE_SIZE >= total) return null;
    }
    return null;
  }

  /** One request to Mercado Pago: 2xx and the statuses in `accept` are returned, the rest throw. */
  private async send(
    method: "GET" | "POST" | "PUT",
    path: string,
    options: { body?: unknown; idempotencyKey?: string; accept?: number[] },
  ): Promise<HttpAnswer> {
    const headers = options.idempotencyKey ? { "x-idempotency-key": options.idempotencyKey } : undefined;
    const answer = await this.http.send({ method, path, body: options.body, headers });
    if (answer.ok || options.accept?.includes(answer.status)) return answer;
    throw this.http.refusal(answer, describeError(answer.json as MpError, answer.text));
  }
}

export const mercadopagoProvider: ProviderDefinition = {
  provider: "mercadopago",
  requiredVariables: ["MERCADOPAGO_ACCESS_TOKEN", "MERCADOPAGO_WEBHOOK_SECRET"],
  create(env) {
    return new MercadoPagoGateway({
      accessToken: env.MERCADOPAGO_ACCESS_TOKEN!,
      webhookSecret: env.MERCADOPAGO_WEBHOOK_SECRET!,
      baseUrl: env.MERCADOPAGO_API_BASE || undefined,
      notificationUrl: env.MERCADOPAGO_NOTIFICATION_URL || undefined,
    });
  },
};

/**
 * Our amount as Mercado Pago's decimal in major units (whole CLP and COP: currency-rules.ts), as
 * the JSON number its API takes. Exact: Number() gives the double nearest to the decimal, and
 * JSON.stringify writes the shortest text that reads back as that double, which is the decimal
 * itself (less trailing zeros) for any decimal of at most 15 significant digits; MAX_AMOUNT keeps
 * every amount within them.
 */
function transactionAmount(money: { amount: number; currency: string }): number {
  return Number(toProviderDecimal("mercadopago", money.currency, money.amount));
}

/** "<payment_method_id>-<card token>" (see the top of this file), or a bare token. */
function splitCardToken(token: string): { token: string; paymentMethodId?: string } {
  const match = /^([a-z]+)-(.+)$/.exec(token);
  return match ? { paymentMethodId: match[1], token: match[2] } : { token };
}

function asPayment(json: unknown, mutating: boolean): MpPayment {
  const payment = json as MpPayment | undefined;
  if (!payment || (typeof payment.id !== "number" && typeof payment.id !== "string") || typeof payment.status !== "string") {
    throw new GatewayUnavailableError("Mercado Pago answered without a payment id and status", undefined, mutating);
  }
  return payment;
}

function toChargeOutcome(payment: MpPayment): ChargeOutcome {
  const reference = String(payment.id);
  switch (payment.status) {
    case "approved":
    // The charge went through and money moved since: it must never be charged again.
    case "refunded":
    case "charged_back":
      return { status: "succeeded", reference };
    case "rejected":
    case "cancelled": {
      const code = payment.status_detail || payment.status;
      return { status: "declined", reference, declineCode: code, declineReason: declineReason(code) };
    }
    case "pending": {
      const data = payment.point_of_interaction?.transaction_data;
      if (data?.qr_code) {
        return {
          status: "requires_action",
          reference,
          action: { type: "qr", qrData: data.qr_code, url: data.ticket_url ?? undefined },
        };
      }
      const url = data?.ticket_url ?? payment.transaction_details?.external_resource_url;
      if (url) return { status: "requires_action", reference, action: { type: "redirect", url } };
      return { status: "processing", reference };
    }
    default:
      // in_process, in_mediation, authorized: Mercado Pago has not decided yet.
      return { status: "processing", reference };
  }
}

function webhookKind(status: string): WebhookEvent["kind"] {
  switch (status) {
    case "approved":
      return "payment.succeeded";
    case "rejected":
    case "cancelled":
      return "payment.failed";
    case "refunded":
      return "refund.succeeded";
    case "charged_back":
      return "other";
    default:
      return "payment.pending";
  }
}

function checkoutIdOf(payment: MpPayment): string | undefined {
  const fromMetadata = payment.metadata?.checkout_id;
  return payment.external_reference || (typeof fromMetadata === "string" ? fromMetadata : undefined);
}

const DECLINE_REASONS: Record<string, string> = {
  cc_rejected_insufficient_amount: "The card has insufficient funds.",
  cc_rejected_bad_filled_card_number: "The card number is wrong.",
  cc_rejected_bad_filled_date: "The card's expiry date is wrong.",
  cc_rejected_bad_filled_security_code: "The card's security code is wrong.",
  cc_rejected_bad_filled_other: "Some of the card's details are wrong.",
  cc_rejected_call_for_authorize: "The card issuer asks the customer to authorise this payment with them.",
  cc_rejected_card_disabled: "The card is not active yet; the customer must activate it with the issuer.",
  cc_rejected_card_error: "The card could not be processed.",
  cc_rejected_duplicated_payment: "An identical payment was made a moment ago.",
  cc_rejected_high_risk: "The payment was refused by fraud prevention.",
  cc_rejected_blacklist: "The payment was refused by fraud prevention.",
  cc_rejected_invalid_installments: "The card does not take this number of installments.",
  cc_rejected_max_attempts: "Too many attempts with this card.",
  cc_rejected_other_reason: "The card issuer declined the payment.",
  expired: "The payment expired before the customer paid.",
  cancelled: "The payment was cancelled.",
};

function declineReason(code: string): string {
  return DECLINE_REASONS[code] ?? `Mercado Pago rejected the payment (${code}).`;
}

function describeError(error: MpError | undefined, fallback = ""): string {
  if (!error || typeof error !== "object") return fallback.slice(0, 300) || "no details";
  const causes = (Array.isArray(error.cause) ? error.cause : [])
    .map((c) => [c?.code, c?.description].filter((part) => part !== undefined && part !== "").join(" "))
    .filter(Boolean);
  const message = error.message || error.error || fallback.slice(0, 300) || "no details";
  return causes.length > 0 ? `${message} (${causes.join("; ")})` : message;
}

function parseSignature(header: string | undefined): { ts: string; v1: string[] } {
  if (!header) throw new WebhookVerificationError("the x-signature header is missing");
  let ts: string | undefined;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "ts") ts = value;
    else if (key === "v1" && /^[0-9a-f]+$/i.test(value)) v1.push(value);
  }
  if (!ts || !/^\d+$/.test(ts) || v1.length === 0) throw new WebhookVerificationError("the x-signature header is malformed");
  return { ts, v1 };
}

/** Mercado Pago's ts has been seen both in seconds and in milliseconds: 13 digits or more are ms. */
function tsToMs(ts: string): number {
  const n = Number(ts);
  return n >= 1e12 ? n : n * 1000;
}

/** Alphanumeric ids are signed in lower case. */
function normaliseDataId(id: string): string {
  return /^[a-z0-9]+$/i.test(id) ? id.toLowerCase() : id;
}
