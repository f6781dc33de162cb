// A local stand-in for PayPal's REST API, over real HTTP on 127.0.0.1, answering in PayPal's
// documented shapes: OAuth2 client credentials, Orders v2 (create, get, capture), Payments v2
// (capture refunds) and Webhooks v1 (verify-webhook-signature). It keeps what it was asked in
// memory, plays the buyer (approve / decline an order), fails or delays requests on demand, and
// delivers "signed" webhooks it can later verify.
//
// Not PayPal: webhook signatures are an HMAC with a key only this fake knows (PayPal signs with a
// certificate), over `transmission_id|transmission_time|webhook_id|sha256(event JSON)`; the fake
// verifies only deliveries it made itself. Only intent CAPTURE with one purchase unit is supported.
// It refuses a second order with an invoice_id already used (DUPLICATE_INVOICE_ID) at creation.
// Amounts follow PayPal's own rules (CURRENCY_DECIMALS and MAX_VALUE_HUNDREDTHS below, from PayPal's
// documentation, not from providers/currency-rules.ts): its currencies only, no decimals for HUF,
// JPY and TWD, at most two otherwise, and no value above 9999999.99.
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakePayPalOptions {
  clientId?: string;
  clientSecret?: string;
  webhookId?: string;
  /** expires_in of the access tokens it issues. */
  tokenLifetimeSeconds?: number;
}

/** How the buyer's "no" shows: a funding source declined at capture, a declined capture, or a voided order. */
export type BuyerDecline = "instrument_declined" | "capture_declined" | "voided";

export interface RecordedRequest {
  method: string;
  path: string;
  requestId?: string;
  body: any;
}

interface Money {
  currency_code: string;
  value: string;
}

interface OrderState {
  id: string;
  status: "CREATED" | "PAYER_ACTION_REQUIRED" | "APPROVED" | "COMPLETED" | "VOIDED";
  requestId?: string;
  createTime: string;
  updateTime: string;
  purchaseUnit: { reference_id?: string; custom_id?: string; invoice_id?: string; amount: Money };
  paymentSource?: any;
  /** Set by decline(): what happens when the merchant captures. */
  declineAtCapture?: "instrument_declined" | "capture_declined";
  captureIds: string[];
}

interface CaptureState {
  id: string;
  orderId: string;
  status: "COMPLETED" | "DECLINED" | "PARTIALLY_REFUNDED" | "REFUNDED";
  amount: Money;
  minor: number;
  refundedMinor: number;
  customId?: string;
  invoiceId?: string;
  createTime: string;
  updateTime: string;
}

interface RefundState {
  id: string;
  captureId: string;
  amount: Money;
  customId?: string;
  invoiceId?: string;
  createTime: string;
}

interface Transmission {
  time: string;
  authAlgo: string;
  certUrl: string;
  signature: string;
}

interface Answer {
  status: number;
  body: unknown;
}

/**
 * Currencies PayPal accepts, with how many decimals it takes for each
 * (https://developer.paypal.com/reference/currency-codes/: HUF, JPY, TWD "do not support decimals").
 */
const CURRENCY_DECIMALS: Record<string, number> = Object.fromEntries([
  ...["AUD", "BRL", "CAD", "CNY", "CZK", "DKK", "EUR", "HKD", "ILS", "MYR", "MXN", "NZD", "NOK", "PHP"].map((c) => [c, 2]),
  ...["PLN", "GBP", "SGD", "SEK", "CHF", "THB", "USD"].map((c) => [c, 2]),
  ...["JPY", "HUF", "TWD"].map((c) => [c, 0]),
]);

/** MAX_VALUE_EXCEEDED: "Should be less than or equal to 9999999.99", in hundredths (every currency alike). */
const MAX_VALUE_HUNDREDTHS = 999_999_999n;

const ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/** PayPal ids look like 5O190127TN364715T: 17 upper-case letters and digits. */
const paypalId = () => [...randomBytes(17)].map((b) => ID_ALPHABET[b % ID_ALPHABET.length]).join("");
const debugId = () => randomBytes(7).toString("hex").slice(0, 13);
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function paypalError(status: number, name: string, message: string, issue?: string, description?: string): Answer {
  return {
    status,
    body: {
      name,
      message,
      debug_id: debugId(),
      ...(issue ? { details: [{ issue, ...(description ? { description } : {}) }] } : {}),
      links: [
        {
          href: `https://developer.paypal.com/docs/api/orders/v2/#error-${issue ?? name}`,
          rel: "information_link",
          method: "GET",
        },
      ],
    },
  };
}

const unprocessable = (issue: string, description: string) =>
  paypalError(
    422,
    "UNPROCESSABLE_ENTITY",
    "The requested action could not be performed, semantically incorrect, or failed business validation.",
    issue,
    description,
  );
const invalidRequest = (issue: string, description: string) =>
  paypalError(
    400,
    "INVALID_REQUEST",
    "Request is not well-formed, syntactically incorrect, or violates schema.",
    issue,
    description,
  );
const notFound = (description = "Specified resource ID does not exist. Please check the resource ID and try again.") =>
  paypalError(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.", "INVALID_RESOURCE_ID", description);

/** Minor units of a PayPal amount, or an error answer when PayPal would refuse it. */
function parseAmount(amount: any): { minor: number } | { error: Answer } {
  const currency = amount?.currency_code;
  const value = amount?.value;
  if (typeof currency !== "string" || typeof value !== "string") {
    return { error: invalidRequest("MISSING_REQUIRED_PARAMETER", "amount.currency_code and amount.value are required.") };
  }
  if (!Object.hasOwn(CURRENCY_DECIMALS, currency)) {
    return { error: unprocessable("CURRENCY_NOT_SUPPORTED", `Currency code ${currency} is not supported.`) };
  }
  const match = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (!match) return { error: invalidRequest("INVALID_PARAMETER_SYNTAX", `amount.value "${value}" is not a decimal.`) };
  const decimals = CURRENCY_DECIMALS[currency];
  const fraction = match[2] ?? "";
  if (fraction.length > decimals) {
    return {
      error:
        decimals === 0
          ? unprocessable("DECIMALS_NOT_SUPPORTED", `Currency code ${currency} does not support decimals.`)
          : unprocessable(
              "DECIMAL_PRECISION",
              `If the currency supports decimals, only ${decimals} decimal place precision is supported.`,
            ),
    };
  }
  if (BigInt(match[1]) * 100n + BigInt(fraction.padEnd(2, "0")) > MAX_VALUE_HUNDREDTHS) {
    return { error: unprocessable("MAX_VALUE_EXCEEDED", "Should be less than or equal to 9999999.99.") };
  }
  return { minor: Number(match[1]) * 10 ** decimals + Number(fraction.padEnd(decimals, "0") || "0") };
}

/** A value in the currency's PayPal format, from minor units. */
function formatAmount(minor: number, currency: string): string {
  const decimals = CURRENCY_DECIMALS[currency];
  if (decimals === 0) return String(minor);
  const digits = String(minor).padStart(decimals + 1, "0");
  return `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

export class FakePayPal {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly webhookId: string;
  private readonly tokenLifetimeSeconds: number;
  private server?: Server;
  private baseUrl = "";
  private readonly signingKey = randomBytes(32);
  private readonly tokens = new Map<string, number>();
  private readonly orderStates = new Map<string, OrderState>();
  private readonly captureStates = new Map<string, CaptureState>();
  private readonly refundStates = new Map<string, RefundState>();
  /** PayPal-Request-Id → what it made (or the error it got), by endpoint. */
  private readonly orderByRequestId = new Map<string, string>();
  private readonly captureAnswers = new Map<string, { orderId: string; error?: Answer }>();
  private readonly refundByRequestId = new Map<string, string>();
  private readonly transmissions = new Map<string, Transmission>();
  private readonly log: RecordedRequest[] = [];
  private readonly verifyLog: Array<{ transmissionId: string; status: string }> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private failures: Array<number> = [];
  private delays: Array<{ ms: number; path?: RegExp }> = [];
  private tokenCount = 0;

  constructor(options: FakePayPalOptions = {}) {
    this.clientId = options.clientId ?? "fake-client-id";
    this.clientSecret = options.clientSecret ?? "fake-client-secret";
    this.webhookId = options.webhookId ?? "1JE4291016473214C";
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 32_400;
  }

  static async start(options: FakePayPalOptions = {}): Promise<FakePayPal> {
    const fake = new FakePayPal(options);
    await fake.listen();
    return fake;
  }

  /** Base URL to give the adapter as PAYPAL_API_BASE. */
  get url(): string {
    if (!this.baseUrl) throw new Error("the fake PayPal is not listening");
    return this.baseUrl;
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) this.write(res, { status: 500, body: { name: "INTERNAL_SERVER_ERROR", message: String(err) } });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- The buyer ----

  /** The buyer approved the order on PayPal's page. */
  approve(orderId: string): void {
    const order = this.awaitingBuyer(orderId);
    order.status = "APPROVED";
    order.updateTime = now();
  }

  /**
   * The buyer's payment does not go through: by default they approved with a funding source that
   * is then declined at capture (422 INSTRUMENT_DECLINED); "capture_declined" makes the capture
   * itself come back DECLINED; "voided" voids the order.
   */
  decline(orderId: string, how: BuyerDecline = "instrument_declined"): void {
    const order = this.awaitingBuyer(orderId);
    order.updateTime = now();
    if (how === "voided") {
      order.status = "VOIDED";
      return;
    }
    order.status = "APPROVED";
    order.declineAtCapture = how;
  }

  // ---- Failures ----

  /** The next `count` API requests (not OAuth token requests) fail with `status`, changing nothing. */
  failNext(count: number, status = 500): void {
    for (let i = 0; i < count; i++) this.failures.push(status);
  }

  /**
   * The next API request (the next whose path matches `path`, when given) takes effect at once but
   * its answer comes `ms` later: what a client that times out sees as an unknown outcome.
   */
  delayNext(ms: number, path?: RegExp): void {
    this.delays.push({ ms, path });
  }

  /** Every access token issued so far stops working (PayPal answers 401 invalid_token). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  // ---- Inspection (PayPal-shaped copies) ----

  orders(): any[] {
    return [...this.orderStates.values()].map((o) => this.orderJson(o));
  }

  order(orderId: string): any {
    const order = this.orderStates.get(orderId);
    if (!order) throw new Error(`no order ${orderId}`);
    return this.orderJson(order);
  }

  captures(): any[] {
    return [...this.captureStates.values()].map((c) => this.captureJson(c));
  }

  refunds(): any[] {
    return [...this.refundStates.values()].map((r) => this.refundJson(r));
  }

  /** API requests received (OAuth token requests are counted by tokenRequests()). */
  requests(): RecordedRequest[] {
    return structuredClone(this.log);
  }

  tokenRequests(): number {
    return this.tokenCount;
  }

  /** Calls to verify-webhook-signature and what they were told. */
  verifications(): Array<{ transmissionId: string; status: string }> {
    return structuredClone(this.verifyLog);
  }

  // ---- Webhooks ----

  /**
   * A webhook delivery as PayPal would POST it to the merchant: the raw body and the paypal-*
   * headers (lower case), "signed" so that verify-webhook-signature answers SUCCESS for exactly
   * these bytes. `time` sets paypal-transmission-time (default now).
   */
  webhook(
    eventType: string,
    resource: unknown,
    options: { time?: Date } = {},
  ): { rawBody: string; headers: Record<string, string> } {
    const time = (options.time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z");
    const id = `WH-${paypalId()}-${paypalId()}`;
    const resourceType = eventType.startsWith("CHECKOUT.ORDER.")
      ? "checkout-order"
      : eventType === "PAYMENT.CAPTURE.REFUNDED"
        ? "refund"
        : eventType.startsWith("PAYMENT.CAPTURE.")
          ? "capture"
          : "unknown";
    const event = {
      id,
      event_version: "1.0",
      create_time: time,
      resource_type: resourceType,
      resource_version: "2.0",
      event_type: eventType,
      summary: `${eventType} (fake)`,
      resource,
      links: [
        { href: `${this.url}/v1/notifications/webhooks-events/${id}`, rel: "self", method: "GET" },
        { href: `${this.url}/v1/notifications/webhooks-events/${id}/resend`, rel: "resend", method: "POST" },
      ],
    };
    const rawBody = JSON.stringify(event);
    const transmissionId = randomUUID();
    const transmission: Transmission = {
      time,
      authAlgo: "SHA256withRSA",
      certUrl: `${this.url}/v1/notifications/certs/CERT-360caa42-fca2a594-fake`,
      signature: this.sign(transmissionId, time, this.webhookId, event),
    };
    this.transmissions.set(transmissionId, transmission);
    return {
      rawBody,
      headers: {
        "content-type": "application/json",
        "user-agent": "PayPal/AUHD-214.0-fake",
        "paypal-auth-algo": transmission.authAlgo,
        "paypal-auth-version": "v2",
        "paypal-cert-url": transmission.certUrl,
        "paypal-transmission-id": transmissionId,
        "paypal-transmission-sig": transmission.signature,
        "paypal-transmission-time": time,
      },
    };
  }

  private sign(transmissionId: string, time: string, webhookId: string, event: unknown): string {
    const digest = sha256(JSON.stringify(event));
    return createHmac("sha256", this.signingKey).update(`${transmissionId}|${time}|${webhookId}|${digest}`).digest("base64");
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";

    if (method === "POST" && url.pathname === "/v1/oauth2/token") {
      this.write(res, this.issueToken(req, text));
      return;
    }

    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      this.write(res, invalidRequest("MALFORMED_REQUEST_JSON", "The request JSON is not well formed."));
      return;
    }
    const requestId = header(req, "paypal-request-id");
    this.log.push({ method, path: url.pathname, requestId, body: structuredClone(body) });

    const delayAt = this.delays.findIndex((d) => !d.path || d.path.test(url.pathname));
    const delay = delayAt === -1 ? undefined : this.delays.splice(delayAt, 1)[0].ms;
    let answer: Answer;
    const failure = this.failures.shift();
    if (failure !== undefined) {
      answer = failureAnswer(failure);
    } else if (!this.authorized(req)) {
      answer = { status: 401, body: { error: "invalid_token", error_description: "Token signature verification failed" } };
    } else {
      answer = this.route(method, url.pathname, body, requestId);
    }
    if (delay === undefined) {
      this.write(res, answer);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.write(res, answer);
    }, delay);
    this.timers.add(timer);
  }

  private route(method: string, path: string, body: any, requestId: string | undefined): Answer {
    const routes: Array<[string, RegExp, (id: string) => Answer]> = [
      ["POST", /^\/v2\/checkout\/orders$/, () => this.createOrder(body, requestId)],
      ["GET", /^\/v2\/checkout\/orders\/([^/]+)$/, (id) => this.found(this.orderStates.get(id), (o) => this.orderJson(o))],
      ["POST", /^\/v2\/checkout\/orders\/([^/]+)\/capture$/, (id) => this.captureOrder(id, requestId)],
      ["GET", /^\/v2\/payments\/captures\/([^/]+)$/, (id) => this.found(this.captureStates.get(id), (c) => this.captureJson(c))],
      ["POST", /^\/v2\/payments\/captures\/([^/]+)\/refund$/, (id) => this.refundCapture(id, body, requestId)],
      ["GET", /^\/v2\/payments\/refunds\/([^/]+)$/, (id) => this.found(this.refundStates.get(id), (r) => this.refundJson(r))],
      ["POST", /^\/v1\/notifications\/verify-webhook-signature$/, () => this.verifySignature(body)],
    ];
    for (const [routeMethod, pattern, answer] of routes) {
      const match = routeMethod === method ? pattern.exec(path) : null;
      if (match) return answer(decodeURIComponent(match[1] ?? ""));
    }
    return notFound(`No route for ${method} ${path}.`);
  }

  private found<T>(state: T | undefined, json: (state: T) => unknown): Answer {
    return state === undefined ? notFound() : { status: 200, body: json(state) };
  }

  private write(res: ServerResponse, answer: Answer): void {
    if (res.destroyed || res.writableEnded) return;
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, { "content-type": "application/json", "paypal-debug-id": debugId() });
    res.end(text);
  }

  private issueToken(req: IncomingMessage, text: string): Answer {
    this.tokenCount++;
    const expected = `Basic ${Buffer.from(`${this.clientId}:${this.clientSecret}`).toString("base64")}`;
    if (header(req, "authorization") !== expected) {
      return { status: 401, body: { error: "invalid_client", error_description: "Client Authentication failed" } };
    }
    if (new URLSearchParams(text).get("grant_type") !== "client_credentials") {
      return { status: 400, body: { error: "unsupported_grant_type", error_description: "Grant Type is NULL" } };
    }
    const token = `A21AA${randomBytes(24).toString("base64url")}`;
    this.tokens.set(token, Date.now() + this.tokenLifetimeSeconds * 1000);
    return {
      status: 200,
      body: {
        scope: "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund",
        access_token: token,
        token_type: "Bearer",
        app_id: "APP-80W284485P519543T",
        expires_in: this.tokenLifetimeSeconds,
        nonce: `${now()}${randomBytes(8).toString("hex")}`,
      },
    };
  }

  private authorized(req: IncomingMessage): boolean {
    const match = /^Bearer (.+)$/.exec(header(req, "authorization") ?? "");
    const expiresAt = match ? this.tokens.get(match[1]) : undefined;
    return expiresAt !== undefined && expiresAt > Date.now();
  }

  // ---- Orders ----

  private createOrder(body: any, requestId: string | undefined): Answer {
    if (requestId !== undefined && requestId.length > 108) {
      return invalidRequest("INVALID_PARAMETER_SYNTAX", "PayPal-Request-Id is longer than 108 characters.");
    }
    // Idempotency: the same PayPal-Request-Id gets the order it made, in its latest status.
    const existing = requestId === undefined ? undefined : this.orderByRequestId.get(requestId);
    if (existing) return { status: 200, body: this.orderJson(this.orderStates.get(existing)!) };

    if (body?.intent !== "CAPTURE") {
      return invalidRequest("INVALID_PARAMETER_VALUE", "The fake supports intent CAPTURE only.");
    }
    const units = body.purchase_units;
    if (!Array.isArray(units) || units.length !== 1) {
      return invalidRequest("INVALID_ARRAY_LENGTH", "The fake supports exactly one purchase unit.");
    }
    const unit = units[0];
    const amount = parseAmount(unit?.amount);
    if ("error" in amount) return amount.error;
    for (const [field, max] of [
      ["reference_id", 256],
      ["custom_id", 127],
      ["invoice_id", 127],
    ] as const) {
      if (unit[field] !== undefined && (typeof unit[field] !== "string" || unit[field].length > max)) {
        return invalidRequest(
          "INVALID_STRING_LENGTH",
          `purchase_units[0].${field} must be a string of at most ${max} characters.`,
        );
      }
    }
    if (unit.invoice_id && [...this.orderStates.values()].some((o) => o.purchaseUnit.invoice_id === unit.invoice_id)) {
      return unprocessable("DUPLICATE_INVOICE_ID", "Duplicate Invoice ID detected. To avoid a potential duplicate transaction.");
    }
    const experience = body.payment_source?.paypal?.experience_context;
    if (
      body.payment_source?.paypal &&
      (typeof experience?.return_url !== "string" || typeof experience?.cancel_url !== "string")
    ) {
      return unprocessable("MISSING_REQUIRED_PARAMETER", "experience_context.return_url and cancel_url are required.");
    }
    const time = now();
    const order: OrderState = {
      id: paypalId(),
      // A PayPal payment source with an experience context starts at PAYER_ACTION_REQUIRED (a
      // payer-action link); without one, at CREATED (an approve link).
      status: body.payment_source ? "PAYER_ACTION_REQUIRED" : "CREATED",
      requestId,
      createTime: time,
      updateTime: time,
      purchaseUnit: {
        reference_id: unit.reference_id ?? "default",
        custom_id: unit.custom_id,
        invoice_id: unit.invoice_id,
        amount: { currency_code: unit.amount.currency_code, value: unit.amount.value },
      },
      paymentSource: body.payment_source,
      captureIds: [],
    };
    this.orderStates.set(order.id, order);
    if (requestId !== undefined) this.orderByRequestId.set(requestId, order.id);
    return { status: 201, body: this.orderJson(order) };
  }

  private captureOrder(orderId: string, requestId: string | undefined): Answer {
    const order = this.orderStates.get(orderId);
    if (!order) return notFound();
    // Idempotency: a capture sent again under its PayPal-Request-Id gets the first one's result.
    const previous = requestId === undefined ? undefined : this.captureAnswers.get(requestId);
    if (previous && previous.orderId === orderId) {
      return previous.error ?? { status: 201, body: this.orderJson(order) };
    }
    const answer = this.captureOnce(order);
    if (requestId !== undefined) {
      this.captureAnswers.set(requestId, { orderId, error: answer.status >= 400 ? answer : undefined });
    }
    return answer;
  }

  private captureOnce(order: OrderState): Answer {
    if (order.status === "COMPLETED") {
      return unprocessable(
        "ORDER_ALREADY_CAPTURED",
        "Order already captured. If 'intent=CAPTURE' only one capture per order is allowed.",
      );
    }
    if (order.status !== "APPROVED") {
      return unprocessable(
        "ORDER_NOT_APPROVED",
        "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call or provide a valid payment_source in the request.",
      );
    }
    if (order.declineAtCapture === "instrument_declined") {
      return unprocessable(
        "INSTRUMENT_DECLINED",
        "The instrument presented was either declined by the processor or bank, or it can't be used for this payment.",
      );
    }
    const time = now();
    const amount = order.purchaseUnit.amount;
    const parsed = parseAmount(amount);
    const capture: CaptureState = {
      id: paypalId(),
      orderId: order.id,
      status: order.declineAtCapture === "capture_declined" ? "DECLINED" : "COMPLETED",
      amount,
      minor: "minor" in parsed ? parsed.minor : 0,
      refundedMinor: 0,
      customId: order.purchaseUnit.custom_id,
      invoiceId: order.purchaseUnit.invoice_id,
      createTime: time,
      updateTime: time,
    };
    this.captureStates.set(capture.id, capture);
    order.captureIds.push(capture.id);
    order.status = "COMPLETED";
    order.updateTime = time;
    return { status: 201, body: this.orderJson(order) };
  }

  private refundCapture(captureId: string, body: any, requestId: string | undefined): Answer {
    const capture = this.captureStates.get(captureId);
    if (!capture) return notFound();
    const existing = requestId === undefined ? undefined : this.refundByRequestId.get(requestId);
    if (existing) return { status: 201, body: this.refundJson(this.refundStates.get(existing)!) };
    if (capture.status === "REFUNDED")
      return unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded.");
    if (capture.status !== "COMPLETED" && capture.status !== "PARTIALLY_REFUNDED") {
      return unprocessable("REFUND_NOT_ALLOWED", `A capture in status ${capture.status} cannot be refunded.`);
    }
    const remaining = capture.minor - capture.refundedMinor;
    let minor = remaining;
    let amount = { currency_code: capture.amount.currency_code, value: formatAmount(remaining, capture.amount.currency_code) };
    if (body?.amount !== undefined) {
      const parsed = parseAmount(body.amount);
      if ("error" in parsed) return parsed.error;
      if (body.amount.currency_code !== capture.amount.currency_code) {
        return unprocessable("REFUND_CAPTURE_CURRENCY_MISMATCH", "Refund must be in the same currency as the capture.");
      }
      if (parsed.minor <= 0) return unprocessable("INVALID_REFUND_AMOUNT", "The refund amount must be positive.");
      if (parsed.minor > remaining) {
        return unprocessable(
          "REFUND_AMOUNT_EXCEEDED",
          "The refund amount must be less than or equal to the capture amount that has not yet been refunded.",
        );
      }
      minor = parsed.minor;
      amount = { currency_code: body.amount.currency_code, value: body.amount.value };
    }
    const refund: RefundState = {
      id: paypalId(),
      captureId,
      amount,
      customId: body?.custom_id ?? capture.customId,
      invoiceId: body?.invoice_id ?? capture.invoiceId,
      createTime: now(),
    };
    this.refundStates.set(refund.id, refund);
    if (requestId !== undefined) this.refundByRequestId.set(requestId, refund.id);
    capture.refundedMinor += minor;
    capture.status = capture.refundedMinor === capture.minor ? "REFUNDED" : "PARTIALLY_REFUNDED";
    capture.updateTime = refund.createTime;
    return { status: 201, body: this.refundJson(refund) };
  }

  private verifySignature(body: any): Answer {
    const fields = ["auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time", "webhook_id"];
    for (const field of fields) {
      if (typeof body?.[field] !== "string" || !body[field]) {
        return invalidRequest("MISSING_REQUIRED_PARAMETER", `${field} is required.`);
      }
    }
    if (typeof body.webhook_event !== "object" || body.webhook_event === null) {
      return invalidRequest("MISSING_REQUIRED_PARAMETER", "webhook_event is required.");
    }
    const sent = this.transmissions.get(body.transmission_id);
    let ok =
      sent !== undefined &&
      body.webhook_id === this.webhookId &&
      body.auth_algo === sent.authAlgo &&
      body.cert_url === sent.certUrl &&
      body.transmission_time === sent.time;
    if (ok && sent) {
      const expected = Buffer.from(this.sign(body.transmission_id, body.transmission_time, body.webhook_id, body.webhook_event));
      const given = Buffer.from(body.transmission_sig);
      ok = expected.length === given.length && timingSafeEqual(expected, given);
    }
    const status = ok ? "SUCCESS" : "FAILURE";
    this.verifyLog.push({ transmissionId: body.transmission_id, status });
    return { status: 200, body: { verification_status: status } };
  }

  // ---- PayPal-shaped views ----

  private awaitingBuyer(orderId: string): OrderState {
    const order = this.orderStates.get(orderId);
    if (!order) throw new Error(`no order ${orderId}`);
    if (order.status !== "CREATED" && order.status !== "PAYER_ACTION_REQUIRED") {
      throw new Error(`order ${orderId} is ${order.status}: the buyer has nothing to approve`);
    }
    return order;
  }

  private orderJson(order: OrderState): any {
    const self = `${this.url}/v2/checkout/orders/${order.id}`;
    const links: Array<{ href: string; rel: string; method: string }> = [{ href: self, rel: "self", method: "GET" }];
    if (order.status === "CREATED" || order.status === "PAYER_ACTION_REQUIRED") {
      links.push({
        href: `${this.url}/checkoutnow?token=${order.id}`,
        rel: order.status === "CREATED" ? "approve" : "payer-action",
        method: "GET",
      });
      links.push({ href: self, rel: "update", method: "PATCH" });
    }
    if (order.status === "APPROVED") links.push({ href: `${self}/capture`, rel: "capture", method: "POST" });
    const captures = order.captureIds.map((id) => this.captureJson(this.captureStates.get(id)!));
    const paypalSource = order.paymentSource?.paypal;
    return structuredClone({
      id: order.id,
      intent: "CAPTURE",
      status: order.status,
      ...(paypalSource
        ? { payment_source: { paypal: paypalSource.email_address ? { email_address: paypalSource.email_address } : {} } }
        : {}),
      purchase_units: [
        {
          reference_id: order.purchaseUnit.reference_id,
          amount: order.purchaseUnit.amount,
          payee: { email_address: "merchant@example.com", merchant_id: "C7CYMKZDG8D6E" },
          ...(order.purchaseUnit.custom_id ? { custom_id: order.purchaseUnit.custom_id } : {}),
          ...(order.purchaseUnit.invoice_id ? { invoice_id: order.purchaseUnit.invoice_id } : {}),
          ...(captures.length ? { payments: { captures } } : {}),
        },
      ],
      create_time: order.createTime,
      update_time: order.updateTime,
      links,
    });
  }

  private captureJson(capture: CaptureState): any {
    const self = `${this.url}/v2/payments/captures/${capture.id}`;
    return structuredClone({
      id: capture.id,
      status: capture.status,
      ...(capture.status === "DECLINED" ? { status_details: { reason: "DECLINED_BY_RISK_FRAUD_FILTERS" } } : {}),
      amount: capture.amount,
      final_capture: true,
      seller_protection: { status: "ELIGIBLE", dispute_categories: ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"] },
      ...(capture.customId ? { custom_id: capture.customId } : {}),
      ...(capture.invoiceId ? { invoice_id: capture.invoiceId } : {}),
      supplementary_data: { related_ids: { order_id: capture.orderId } },
      create_time: capture.createTime,
      update_time: capture.updateTime,
      links: [
        { href: self, rel: "self", method: "GET" },
        { href: `${self}/refund`, rel: "refund", method: "POST" },
        { href: `${this.url}/v2/checkout/orders/${capture.orderId}`, rel: "up", method: "GET" },
      ],
    });
  }

  private refundJson(refund: RefundState): any {
    return structuredClone({
      id: refund.id,
      status: "COMPLETED",
      amount: refund.amount,
      ...(refund.customId ? { custom_id: refund.customId } : {}),
      ...(refund.invoiceId ? { invoice_id: refund.invoiceId } : {}),
      create_time: refund.createTime,
      update_time: refund.createTime,
      links: [
        { href: `${this.url}/v2/payments/refunds/${refund.id}`, rel: "self", method: "GET" },
        { href: `${this.url}/v2/payments/captures/${refund.captureId}`, rel: "up", method: "GET" },
      ],
    });
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function failureAnswer(status: number): Answer {
  if (status === 429) {
    return {
      status,
      body: { name: "RATE_LIMIT_REACHED", message: "Too many requests. Blocked due to rate limiting.", debug_id: debugId() },
    };
  }
  if (status === 503) {
    return { status, body: { name: "SERVICE_UNAVAILABLE", message: "Service Unavailable.", debug_id: debugId() } };
  }
  if (status >= 500) {
    return {
      status,
      body: { name: "INTERNAL_SERVER_ERROR", message: "An internal server error has occurred.", debug_id: debugId() },
    };
  }
  return { status, body: { name: "FAKE_FAILURE", message: `Failure injected by failNext (${status}).`, debug_id: debugId() } };
}
