// The Razorpay adapter. Razorpay takes payments in two halves: our server creates an Order, and
// the customer pays it in Razorpay Checkout (a page we send them to). The payment then comes back
// `authorized` (we capture it) or `captured` (the account captures automatically), or `failed`.
//
// Why plain fetch and not the official `razorpay` SDK: the SDK hard-codes its host
// (https://api.razorpay.com) with no option to change it, so it could never talk to anything but
// the real Razorpay (a regional endpoint, a recording proxy, the local fake the tests run against).
// The REST API is small and documented; fetch with Basic auth (key_id:key_secret) is all it takes,
// and RAZORPAY_API_BASE points it elsewhere.
//
// Idempotency: Razorpay's Orders API has no idempotency header. Our key becomes the order's
// `receipt` (at most 40 characters: longer keys are hashed, deterministically), and every charge
// first asks for an order with that receipt, so a retry (or a retry after a timeout) finds the
// order it made before instead of making a second one. Refunds carry the key in their notes and
// are looked for the same way before a new one is made; the documented X-Refund-Idempotency
// header is sent as well (India and Malaysia accounts honour it).
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { toProviderUnits } from "./currency-rules.ts";
import type {
  Collection,
  Notes,
  RazorpayErrorBody,
  RazorpayOrder,
  RazorpayPayment,
  RazorpayRefund,
  RazorpayWebhookBody,
} from "./razorpay-wire.ts";
import { type HttpAnswer, HttpTransport } from "./transport.ts";
import {
  type ChargeLookup,
  type ChargeOutcome,
  type ChargeRequest,
  GatewayRequestError,
  type PaymentGateway,
  type ProviderDefinition,
  type RefundOutcome,
  type RefundRequest,
  type WebhookEvent,
  type WebhookRequest,
  WebhookVerificationError,
} from "./types.ts";

export const RAZORPAY_DEFAULT_API_BASE = "https://api.razorpay.com";

export interface RazorpaySettings {
  keyId: string;
  keySecret: string;
  webhookSecret: string;
  /** Where the REST API lives; https://api.razorpay.com unless told otherwise. */
  apiBase?: string;
  /**
   * The page that opens Razorpay Checkout for an order: the customer is sent to
   * `<checkoutUrl>?key_id=…&order_id=…[&callback_url=…]`. Razorpay has no GET page for an order:
   * its Hosted Checkout (`<apiBase>/v1/checkout/embedded`, the default here) takes these fields as a
   * POST form, and Standard Checkout is a script on a page of ours. So in production this should
   * name a page of ours that posts that form or loads checkout.js with these query parameters.
   */
  checkoutUrl?: string;
  /** Per request; a request that takes longer counts as an unknown outcome. */
  timeoutMs?: number;
}

/**
 * An answer from Razorpay that is not a 2xx, for the callers that read some of them (a 400) as an
 * answer; `mapError` turns it into the interface's error, `mapped`.
 */
class RazorpayApiError extends Error {
  override name = "RazorpayApiError";
  constructor(
    readonly status: number,
    readonly error: RazorpayErrorBody,
    readonly mapped: Error,
  ) {
    super(mapped.message);
  }
}

/** Razorpay's largest page; lists are walked page by page with `skip`. */
const PAGE = 100;
const RECEIPT_MAX = 40;

/**
 * The order receipt for an idempotency key: the key itself when it fits Razorpay's 40 characters,
 * else the first 40 hex digits of its SHA-256 (always the same for the same key).
 */
export function receiptFor(idempotencyKey: string): string {
  if (idempotencyKey.length <= RECEIPT_MAX) return idempotencyKey;
  return createHash("sha256").update(idempotencyKey).digest("hex").slice(0, RECEIPT_MAX);
}

/** The X-Refund-Idempotency value: Razorpay wants 10+ characters of [A-Za-z0-9_-]. */
function refundIdempotencyHeader(idempotencyKey: string): string {
  return createHash("sha256").update(`refund:${idempotencyKey}`).digest("hex");
}

function note(notes: Notes | undefined, key: string): string | undefined {
  if (!notes || Array.isArray(notes)) return undefined;
  const value = notes[key];
  return typeof value === "string" ? value : undefined;
}

export class RazorpayGateway implements PaymentGateway {
  readonly provider = "razorpay";
  /** Orders are found by their receipt (our key) in Razorpay's own store: consistent. */
  readonly searchLagSeconds = 0;
  /** The receipt is a field of the order, never forgotten. */
  readonly keyRetentionSeconds = Number.POSITIVE_INFINITY;
  private readonly http: HttpTransport;
  private readonly checkoutUrl: string;

  constructor(private readonly settings: RazorpaySettings) {
    this.http = new HttpTransport({
      provider: "Razorpay",
      baseUrl: settings.apiBase ?? RAZORPAY_DEFAULT_API_BASE,
      timeoutMs: settings.timeoutMs,
      headers: { authorization: `Basic ${Buffer.from(`${settings.keyId}:${settings.keySecret}`).toString("base64")}` },
      // 409: a refund under the same idempotency header is still being processed.
      retryStatuses: [409],
    });
    this.checkoutUrl = settings.checkoutUrl ?? `${this.http.baseUrl}/v1/checkout/embedded`;
  }

  /**
   * Finds or creates the order for this key and says where it stands. A new order always needs
   * the customer in Checkout: the token is not used to pay server-side (saved cards and recurring
   * tokens go through Checkout too here), so `requires_action` with the Checkout page.
   */
  async charge(request: ChargeRequest): Promise<ChargeOutcome> {
    const amount = razorpayUnits(request);
    const receipt = receiptFor(request.idempotencyKey);
    const existing = await this.findOrderByReceipt(receipt);
    if (existing) {
      assertSameCharge(existing, request);
      return this.settle(existing, request, request.returnUrl);
    }
    let order: RazorpayOrder;
    try {
      order = await this.request<RazorpayOrder>("POST", "/v1/orders", {
        amount,
        currency: request.currency,
        receipt,
        notes: {
          checkout_id: request.checkoutId,
          // Informational (notes hold 256 characters at most); the receipt is what we look up by.
          idempotency_key: request.idempotencyKey.slice(0, 256),
        },
      });
    } catch (err) {
      throw this.mapError(err);
    }
    return this.requiresAction(order, request.returnUrl);
  }

  /**
   * What became of the charge under this key: the order by its reference (an order id, or a
   * payment id whose order it is) or else by receipt; null when there is no order at all.
   */
  async reconcile(lookup: ChargeLookup): Promise<ChargeOutcome | null> {
    const order = await this.findOrder(lookup);
    if (!order) return null;
    assertSameCharge(order, lookup);
    return this.settle(order, lookup);
  }

  /**
   * Refunds once per key: an earlier refund of this payment carrying the key in its notes is
   * answered instead of refunding again. Razorpay refusing the refund (more than what is left of
   * the captured amount, a payment that was never captured) is a final answer: `failed`, with
   * Razorpay's description as the reason, rather than an error to retry.
   */
  async refund(request: RefundRequest): Promise<RefundOutcome> {
    const amount = razorpayUnits(request);
    const path = `/v1/payments/${encodeURIComponent(request.chargeReference)}`;
    try {
      const earlier = await this.refundUnderKey(request.chargeReference, request.idempotencyKey);
      if (earlier) return toRefundOutcome(earlier);
      const refund = await this.request<RazorpayRefund>(
        "POST",
        `${path}/refund`,
        {
          amount,
          receipt: receiptFor(request.idempotencyKey),
          notes: { checkout_id: request.checkoutId, idempotency_key: request.idempotencyKey.slice(0, 256) },
        },
        { "x-refund-idempotency": refundIdempotencyHeader(request.idempotencyKey) },
      );
      return toRefundOutcome(refund);
    } catch (err) {
      if (err instanceof RazorpayApiError && err.status === 400) {
        return { status: "failed", reason: err.error.description ?? err.error.code ?? "refused by Razorpay" };
      }
      throw this.mapError(err);
    }
  }

  async findRefund(request: RefundRequest): Promise<RefundOutcome | null> {
    try {
      const found = await this.refundUnderKey(request.chargeReference, request.idempotencyKey);
      return found ? toRefundOutcome(found) : null;
    } catch (err) {
      throw this.mapError(err);
    }
  }

  /**
   * `x-razorpay-signature` is the HMAC-SHA256 (hex) of the raw body under the webhook secret. We
   * compute it with node:crypto rather than the SDK's `Razorpay.validateWebhookSignature` (which
   * imports fine from ESM) because that helper compares the strings with `===`, which is not
   * constant-time; timingSafeEqual is. Razorpay signs no timestamp, so a replayed old delivery
   * verifies: it carries the same `x-razorpay-event-id`, and the duplicate-event check upstream
   * drops it.
   */
  async verifyWebhook(request: WebhookRequest): Promise<WebhookEvent> {
    const signature = request.headers["x-razorpay-signature"];
    if (!signature) throw new WebhookVerificationError("missing x-razorpay-signature header");
    const expected = createHmac("sha256", this.settings.webhookSecret).update(request.rawBody, "utf8").digest();
    const given = /^[0-9a-f]+$/i.test(signature) ? Buffer.from(signature, "hex") : Buffer.alloc(0);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new WebhookVerificationError("x-razorpay-signature does not match the body");
    }

    let body: RazorpayWebhookBody;
    try {
      body = JSON.parse(request.rawBody) as RazorpayWebhookBody;
    } catch {
      throw new WebhookVerificationError("webhook body is not JSON");
    }
    if (!body || typeof body.event !== "string") throw new WebhookVerificationError("webhook body has no event");

    const payment = body.payload?.payment?.entity;
    const order = body.payload?.order?.entity;
    const refund = body.payload?.refund?.entity;
    return {
      // What the signature covers: the body. The x-razorpay-event-id header is not signed, so a
      // replay under another one would pass as a new event; a hash of the signed body does not.
      id: `sha256:${createHash("sha256").update(request.rawBody).digest("hex")}`,
      kind: KINDS[body.event] ?? "other",
      checkoutId: note(payment?.notes, "checkout_id") ?? note(order?.notes, "checkout_id") ?? note(refund?.notes, "checkout_id"),
      reference: payment?.id ?? refund?.payment_id,
      providerType: body.event,
    };
  }

  // --- orders and payments ---------------------------------------------------------------

  /** Where the order stands, capturing an authorized payment on the way. */
  private async settle(
    order: RazorpayOrder,
    expected: { amount: number; currency: string },
    returnUrl?: string,
  ): Promise<ChargeOutcome> {
    let payments: RazorpayPayment[];
    try {
      payments = (await this.request<Collection<RazorpayPayment>>("GET", `/v1/orders/${encodeURIComponent(order.id)}/payments`))
        .items;
    } catch (err) {
      throw this.mapError(err);
    }

    // A payment refunded after capture was still a success (the refund is another matter); one
    // Razorpay refunded because nobody captured it in time was not.
    const captured = payments.find((p) => p.status === "captured" || (p.status === "refunded" && p.captured));
    if (captured) return { status: "succeeded", reference: captured.id };

    // Razorpay allows one authorized payment per order at a time.
    const authorized = payments.find((p) => p.status === "authorized");
    if (authorized) return this.capture(authorized, expected);

    const pending = payments.find((p) => p.status === "pending");
    if (pending) return { status: "processing", reference: pending.id };

    if (order.status === "paid") return { status: "processing", reference: order.id };

    // Nothing paid yet, or the customer is still on the payment page (a `created` payment).
    if (payments.length === 0 || payments.some((p) => p.status === "created")) return this.requiresAction(order, returnUrl);

    // Only failed attempts (or authorizations Razorpay gave back): the latest says why.
    const latest = [...payments].sort((a, b) => b.created_at - a.created_at)[0];
    if (latest.status === "refunded") {
      return {
        status: "declined",
        reference: latest.id,
        declineCode: "authorization_refunded",
        declineReason: "Razorpay gave the authorized payment back because it was not captured in time.",
      };
    }
    return {
      status: "declined",
      reference: latest.id,
      declineCode: latest.error_reason || latest.error_code || "payment_failed",
      declineReason: latest.error_description || "The payment failed.",
    };
  }

  private async capture(payment: RazorpayPayment, expected: { amount: number; currency: string }): Promise<ChargeOutcome> {
    const amount = razorpayUnits(expected);
    // Razorpay's advice: check the authorized amount is the amount asked for before capturing.
    if (payment.amount !== amount || payment.currency !== expected.currency) {
      throw new GatewayRequestError(
        `Razorpay payment ${payment.id} is for ${payment.amount} ${payment.currency}, expected ${amount} ${expected.currency} (in Razorpay's units): not capturing it`,
      );
    }
    const path = `/v1/payments/${encodeURIComponent(payment.id)}`;
    try {
      const done = await this.request<RazorpayPayment>("POST", `${path}/capture`, {
        amount,
        currency: expected.currency,
      });
      if (done.status === "captured") return { status: "succeeded", reference: done.id };
      return { status: "processing", reference: done.id };
    } catch (err) {
      // Refused: perhaps an earlier capture whose answer was lost already went through.
      if (err instanceof RazorpayApiError && err.status === 400) {
        const now = await this.request<RazorpayPayment>("GET", path).catch((again) => {
          throw this.mapError(again);
        });
        if (now.status === "captured" || (now.status === "refunded" && now.captured))
          return { status: "succeeded", reference: now.id };
      }
      throw this.mapError(err);
    }
  }

  private requiresAction(order: RazorpayOrder, returnUrl?: string): ChargeOutcome {
    const url = new URL(this.checkoutUrl);
    url.searchParams.set("key_id", this.settings.keyId);
    url.searchParams.set("order_id", order.id);
    if (returnUrl) url.searchParams.set("callback_url", returnUrl);
    return { status: "requires_action", reference: order.id, action: { type: "redirect", url: url.toString() } };
  }

  private async findOrder(lookup: ChargeLookup): Promise<RazorpayOrder | null> {
    try {
      const ref = lookup.reference;
      if (ref?.startsWith("order_")) {
        return await this.request<RazorpayOrder>("GET", `/v1/orders/${encodeURIComponent(ref)}`);
      }
      if (ref?.startsWith("pay_")) {
        const payment = await this.request<RazorpayPayment>("GET", `/v1/payments/${encodeURIComponent(ref)}`);
        if (payment.order_id)
          return await this.request<RazorpayOrder>("GET", `/v1/orders/${encodeURIComponent(payment.order_id)}`);
      }
    } catch (err) {
      // An id Razorpay does not know (it answers 400 for those): fall back to the receipt.
      if (!(err instanceof RazorpayApiError && err.status === 400)) throw this.mapError(err);
    }
    return this.findOrderByReceipt(receiptFor(lookup.idempotencyKey));
  }

  /**
   * The order with this receipt. Razorpay's filter matches receipts that contain the value, so
   * the match is checked exactly here. Should there be more than one (only a race between two
   * attempts could do it), the most advanced wins, then the oldest.
   */
  private async findOrderByReceipt(receipt: string): Promise<RazorpayOrder | null> {
    const found: RazorpayOrder[] = [];
    try {
      for (let skip = 0; ; skip += PAGE) {
        const query = new URLSearchParams({ receipt, count: String(PAGE), skip: String(skip) });
        const page = await this.request<Collection<RazorpayOrder>>("GET", `/v1/orders?${query}`);
        found.push(...page.items.filter((o) => o.receipt === receipt));
        if (page.items.length < PAGE) break;
      }
    } catch (err) {
      throw this.mapError(err);
    }
    const rank = { paid: 0, attempted: 1, created: 2 } as const;
    found.sort((a, b) => (rank[a.status] ?? 3) - (rank[b.status] ?? 3) || a.created_at - b.created_at);
    return found[0] ?? null;
  }

  private async refundUnderKey(paymentId: string, idempotencyKey: string): Promise<RazorpayRefund | null> {
    const key = idempotencyKey.slice(0, 256);
    for (let skip = 0; ; skip += PAGE) {
      const query = new URLSearchParams({ count: String(PAGE), skip: String(skip) });
      const page = await this.request<Collection<RazorpayRefund>>(
        "GET",
        `/v1/payments/${encodeURIComponent(paymentId)}/refunds?${query}`,
      );
      const match = page.items.find((r) => note(r.notes, "idempotency_key") === key);
      if (match) return match;
      if (page.items.length < PAGE) return null;
    }
  }

  // --- HTTP --------------------------------------------------------------------------------

  /** The JSON of a 2xx answer; any other answer throws a RazorpayApiError. */
  private async request<T>(method: "GET" | "POST", path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    const answer = await this.http.send({ method, path, body, headers });
    if (answer.ok) return answer.json as T;
    const error = errorBodyOf(answer);
    // 5xx, 429 and 409: retry later; 401 (bad keys), 400 BAD_REQUEST_ERROR (invalid parameters,
    // unknown ids) and the rest: refusals.
    const mapped = this.http.refusal(answer, `${error.code ?? "?"}: ${error.description ?? "(no description)"}`);
    throw new RazorpayApiError(answer.status, error, mapped);
  }

  /** Razorpay's answers to the interface's errors; errors already mapped pass through. */
  private mapError(err: unknown): Error {
    return err instanceof RazorpayApiError ? err.mapped : (err as Error);
  }
}

/** Razorpay's `{ error: {...} }`, or the start of a body that is not JSON. */
function errorBodyOf(answer: HttpAnswer): RazorpayErrorBody {
  if (answer.json === undefined) return { description: answer.text.slice(0, 200) };
  return (answer.json as { error?: RazorpayErrorBody } | null)?.error ?? {};
}

/** Our amount (ISO minor units) in Razorpay's units; throws CurrencyRuleError where Razorpay cannot take it. */
function razorpayUnits(money: { amount: number; currency: string }): number {
  return toProviderUnits("razorpay", money.currency, money.amount);
}

/** An order found under our key must be for the same money, as with any idempotency key. */
function assertSameCharge(order: RazorpayOrder, expected: { amount: number; currency: string }) {
  const amount = razorpayUnits(expected);
  if (order.amount !== amount || order.currency !== expected.currency) {
    throw new GatewayRequestError(
      `Razorpay order ${order.id} under this idempotency key is for ${order.amount} ${order.currency}, not ${amount} ${expected.currency} (in Razorpay's units)`,
    );
  }
}

function toRefundOutcome(refund: RazorpayRefund): RefundOutcome {
  if (refund.status === "processed") return { status: "succeeded", reference: refund.id };
  if (refund.status === "failed")
    return { status: "failed", reference: refund.id, reason: "Razorpay could not process the refund" };
  return { status: "pending", reference: refund.id };
}

const KINDS: Record<string, WebhookEvent["kind"]> = {
  "payment.captured": "payment.succeeded",
  "order.paid": "payment.succeeded",
  "payment.failed": "payment.failed",
  // Authorized: the customer is done and a capture is ours to make (reconcile makes it).
  "payment.authorized": "payment.pending",
  "payment.pending": "payment.pending",
  "refund.processed": "refund.succeeded",
  "refund.failed": "refund.failed",
};

export const razorpayProvider: ProviderDefinition = {
  provider: "razorpay",
  requiredVariables: ["RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET"],
  create(env) {
    return new RazorpayGateway({
      keyId: env.RAZORPAY_KEY_ID!,
      keySecret: env.RAZORPAY_KEY_SECRET!,
      webhookSecret: env.RAZORPAY_WEBHOOK_SECRET!,
      apiBase: env.RAZORPAY_API_BASE || undefined,
      checkoutUrl: env.RAZORPAY_CHECKOUT_URL || undefined,
    });
  },
};
