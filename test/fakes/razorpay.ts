// A local stand-in for Razorpay's REST API, over real HTTP on 127.0.0.1, following the documented
// shapes: entities with `id` (order_…, pay_…, rfnd_…), `entity`, `amount`, `currency`, `status`,
// `receipt`, `notes`, `created_at`; collections `{ entity: "collection", count, items }`; errors
// `{ error: { code, description, source, step, reason, metadata } }`, with 400 for unknown ids as
// Razorpay does. Basic auth with the key pair it was started with.
//
// Currencies and amounts follow Razorpay's own rules (REFUSED_CURRENCIES and THREE_DECIMALS below,
// from Razorpay's documentation, not from providers/currency-rules.ts): amounts are integers in the
// currency's subunit, three-decimal ones ending in 0, and the sanctioned currencies are refused.
//
// What the customer does in Checkout is played with `payOrder`; outages with `failNext` (answer
// errors without doing anything) and `delayNext` (do it, answer late: the client's timeout then
// leaves it not knowing).
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

type Notes = Record<string, string> | never[];

export interface FakeOrder {
  id: string;
  entity: "order";
  amount: number;
  amount_paid: number;
  amount_due: number;
  currency: string;
  receipt: string | null;
  offer_id: null;
  status: "created" | "attempted" | "paid";
  attempts: number;
  notes: Notes;
  created_at: number;
}

export interface FakePayment {
  id: string;
  entity: "payment";
  amount: number;
  currency: string;
  status: "created" | "authorized" | "captured" | "refunded" | "failed";
  order_id: string;
  invoice_id: null;
  international: boolean;
  method: string;
  amount_refunded: number;
  refund_status: "partial" | "full" | null;
  captured: boolean;
  description: string | null;
  email: string;
  contact: string;
  notes: Notes;
  fee: number | null;
  tax: number | null;
  error_code: string | null;
  error_description: string | null;
  error_source: string | null;
  error_step: string | null;
  error_reason: string | null;
  created_at: number;
}

export interface FakeRefund {
  id: string;
  entity: "refund";
  amount: number;
  currency: string;
  payment_id: string;
  notes: Notes;
  receipt: string | null;
  acquirer_data: { arn: string | null };
  created_at: number;
  batch_id: null;
  status: "pending" | "processed" | "failed";
  speed_processed: "normal";
  speed_requested: "normal" | "optimum";
}

export interface RequestMatch {
  method?: string;
  /** Matched against the path without its query string. */
  path?: string | RegExp;
}

export interface PaymentFailure {
  code?: string;
  description?: string;
  reason?: string;
}

export interface SignedWebhook {
  rawBody: string;
  /** Lower-case names, as the adapter receives them. */
  headers: Record<string, string>;
  eventId: string;
}

/** A webhook to build from the fake's own entities (by id) as they are now. */
export interface FakeWebhookEvent {
  event: string;
  payment?: string;
  order?: string;
  refund?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export interface FakeRazorpay {
  url: string;
  keyId: string;
  keySecret: string;
  /** The customer pays the order in Checkout, with this result. */
  payOrder(orderId: string, outcome: "captured" | "authorized" | "failed", failure?: PaymentFailure): FakePayment;
  /** The next `n` requests (that match) are answered `status` and do nothing. */
  failNext(n: number, status?: number, match?: RequestMatch): void;
  /** The next request (that matches) is carried out at once but answered `ms` later. */
  delayNext(ms: number, match?: RequestMatch): void;
  orders(): FakeOrder[];
  payments(): FakePayment[];
  refunds(): FakeRefund[];
  /** Every request that reached the routes (after auth and injected failures), in order. */
  requests: RecordedRequest[];
  signedWebhook(event: FakeWebhookEvent, secret: string): SignedWebhook;
  close(): Promise<void>;
}

const ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
function newId(prefix: string): string {
  const bytes = randomBytes(14);
  let id = "";
  for (const b of bytes) id += ID_CHARS[b % ID_CHARS.length];
  return `${prefix}_${id}`;
}

const now = () => Math.floor(Date.now() / 1000);

/** Currencies Razorpay does not process (https://razorpay.com/docs/payments/international-payments/#supported-currencies). */
const REFUSED_CURRENCIES = new Set(["KPW", "IRR", "SYP", "CUP", "VES", "VED"]);
/** "For three decimal currencies ... the last decimal must be 0": 295.991 KWD cannot be charged, 295.990 can. */
const THREE_DECIMALS = new Set(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]);

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    readonly reason = "input_validation_failed",
    readonly field?: string,
  ) {
    super(description);
  }

  body() {
    const business = this.status === 400 && this.code === "BAD_REQUEST_ERROR" && this.reason !== "NA";
    return {
      error: {
        code: this.code,
        description: this.description,
        source: business ? "business" : "NA",
        step: business ? "payment_initiation" : "NA",
        reason: this.reason,
        metadata: {},
        ...(this.field ? { field: this.field } : {}),
      },
    };
  }
}

const badRequest = (description: string, field?: string) =>
  new ApiError(400, "BAD_REQUEST_ERROR", description, "input_validation_failed", field);
const noSuchId = () => badRequest("The id provided does not exist");
const notFound = () => new ApiError(404, "BAD_REQUEST_ERROR", "The requested URL was not found on the server.", "NA");

function errorFor(status: number): ApiError {
  if (status === 429) return new ApiError(429, "BAD_REQUEST_ERROR", "Too many requests", "NA");
  if (status >= 500)
    return new ApiError(
      status,
      "SERVER_ERROR",
      "The server encountered an error. The incident has been reported to admins.",
      "NA",
    );
  return new ApiError(status, "BAD_REQUEST_ERROR", `Injected failure ${status}`, "NA");
}

function matches(match: RequestMatch | undefined, method: string, path: string): boolean {
  if (!match) return true;
  if (match.method && match.method.toUpperCase() !== method) return false;
  if (match.path instanceof RegExp) return match.path.test(path);
  if (typeof match.path === "string") return match.path === path;
  return true;
}

function readNotes(value: unknown): Notes {
  if (value === undefined || value === null) return [];
  if (typeof value !== "object" || Array.isArray(value)) throw badRequest("notes should be an object", "notes");
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 15) throw badRequest("Number of fields in notes should be less than or equal to 15", "notes");
  const notes: Record<string, string> = {};
  for (const [k, v] of entries) {
    const s = String(v);
    if (s.length > 256) throw badRequest("notes values may be 256 characters at most", "notes");
    notes[k] = s;
  }
  return entries.length ? notes : [];
}

/** An amount Razorpay refuses in this currency, as it answers it. */
function checkAmountRules(amount: number, currency: string) {
  if (THREE_DECIMALS.has(currency) && amount % 10 !== 0) {
    throw badRequest(
      `The amount for ${currency} must end in 0: three-decimal currencies take multiples of 10 subunits.`,
      "amount",
    );
  }
}

function rejectExtraFields(body: Record<string, unknown>, allowed: string[]) {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key))
      throw new ApiError(400, "BAD_REQUEST_ERROR", `${key} is/are not required and should not be sent`, "extra_field_sent", key);
  }
}

function intParam(query: URLSearchParams, name: string, fallback: number, max = 100): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) throw badRequest(`The ${name} must be an integer between 0 and ${max}.`, name);
  return n;
}

function collection<T>(items: T[], query: URLSearchParams) {
  const count = intParam(query, "count", 10);
  const skip = intParam(query, "skip", 0, Number.MAX_SAFE_INTEGER);
  // Newest first, as Razorpay lists.
  const page = [...items].reverse().slice(skip, skip + count);
  return { entity: "collection", count: page.length, items: page };
}

export async function startFakeRazorpay(options: { keyId?: string; keySecret?: string } = {}): Promise<FakeRazorpay> {
  const keyId = options.keyId ?? "rzp_test_fakekey0001";
  const keySecret = options.keySecret ?? "fake_secret_0123456789";
  const expectedAuth = `Basic ${Buffer.from(`${keyId}:${keySecret}`).toString("base64")}`;

  const orders = new Map<string, FakeOrder>();
  const payments = new Map<string, FakePayment>();
  const refunds = new Map<string, FakeRefund>();
  const refundKeys = new Map<string, { body: string; refundId: string }>();
  const requests: RecordedRequest[] = [];
  const failures: Array<{ status: number; match?: RequestMatch }> = [];
  const delays: Array<{ ms: number; match?: RequestMatch }> = [];

  const clone = <T>(v: T): T => structuredClone(v);

  function order(id: string): FakeOrder {
    const o = orders.get(id);
    if (!o) throw noSuchId();
    return o;
  }
  function payment(id: string): FakePayment {
    const p = payments.get(id);
    if (!p) throw noSuchId();
    return p;
  }

  function createOrder(body: Record<string, unknown>): FakeOrder {
    rejectExtraFields(body, [
      "amount",
      "currency",
      "receipt",
      "notes",
      "partial_payment",
      "payment_capture",
      "first_payment_min_amount",
    ]);
    const { amount, currency, receipt } = body;
    if (amount === undefined) throw badRequest("The amount field is required.", "amount");
    if (!Number.isInteger(amount)) throw badRequest("The amount must be an integer.", "amount");
    if (typeof currency !== "string" || !/^[A-Z]{3}$/.test(currency))
      throw badRequest("The currency field is invalid.", "currency");
    if (REFUSED_CURRENCIES.has(currency)) throw badRequest(`Currency ${currency} is not supported.`, "currency");
    checkAmountRules(amount as number, currency);
    if ((amount as number) < 100) throw badRequest(`The amount must be at least ${currency} 1.00`, "amount");
    if (receipt !== undefined && (typeof receipt !== "string" || receipt.length > 40)) {
      throw badRequest("The receipt may not be greater than 40 characters.", "receipt");
    }
    const created: FakeOrder = {
      id: newId("order"),
      entity: "order",
      amount: amount as number,
      amount_paid: 0,
      amount_due: amount as number,
      currency,
      receipt: (receipt as string | undefined) ?? null,
      offer_id: null,
      status: "created",
      attempts: 0,
      notes: readNotes(body.notes),
      created_at: now(),
    };
    orders.set(created.id, created);
    return created;
  }

  function capture(id: string, body: Record<string, unknown>): FakePayment {
    const p = payment(id);
    rejectExtraFields(body, ["amount", "currency"]);
    if (!Number.isInteger(body.amount)) throw badRequest("The amount must be an integer.", "amount");
    if (p.status === "captured" || (p.status === "refunded" && p.captured))
      throw badRequest("This payment has already been captured");
    if (p.status !== "authorized")
      throw badRequest("Only payments which have been authorized and not yet captured can be captured");
    if (body.amount !== p.amount) throw badRequest("Capture amount must be equal to the amount authorized", "amount");
    if (body.currency !== undefined && body.currency !== p.currency)
      throw badRequest("The currency should be the same as the payment currency", "currency");
    p.status = "captured";
    p.captured = true;
    markPaid(order(p.order_id), p);
    return p;
  }

  function markPaid(o: FakeOrder, p: FakePayment) {
    o.status = "paid";
    o.amount_paid = p.amount;
    o.amount_due = 0;
  }

  function refund(id: string, body: Record<string, unknown>, idempotencyKey: string | undefined): FakeRefund {
    const p = payment(id);
    rejectExtraFields(body, ["amount", "speed", "notes", "receipt"]);
    const serialized = JSON.stringify(body);
    if (idempotencyKey !== undefined) {
      if (!/^[A-Za-z0-9_-]{10,}$/.test(idempotencyKey)) throw badRequest("The idempotency key is invalid.");
      const earlier = refundKeys.get(idempotencyKey);
      if (earlier) {
        if (earlier.body !== serialized)
          throw new ApiError(
            400,
            "BAD_REQUEST_ERROR",
            "Different request with the same idempotency key has already been processed.",
            "NA",
          );
        return refunds.get(earlier.refundId)!;
      }
    }
    if (!p.captured) throw badRequest("The payment has not been captured and cannot be refunded");
    const remaining = p.amount - p.amount_refunded;
    const amount = body.amount === undefined ? remaining : body.amount;
    if (!Number.isInteger(amount) || (amount as number) < 100)
      throw badRequest(`The amount must be at least ${p.currency} 1.00`, "amount");
    checkAmountRules(amount as number, p.currency);
    if (remaining === 0) throw badRequest("The payment has been fully refunded already");
    if ((amount as number) > remaining) throw badRequest("The refund amount provided is greater than amount captured", "amount");
    const r: FakeRefund = {
      id: newId("rfnd"),
      entity: "refund",
      amount: amount as number,
      currency: p.currency,
      payment_id: p.id,
      notes: readNotes(body.notes),
      receipt: typeof body.receipt === "string" ? body.receipt : null,
      acquirer_data: { arn: null },
      created_at: now(),
      batch_id: null,
      status: "processed",
      speed_processed: "normal",
      speed_requested: body.speed === "optimum" ? "optimum" : "normal",
    };
    refunds.set(r.id, r);
    if (idempotencyKey !== undefined) refundKeys.set(idempotencyKey, { body: serialized, refundId: r.id });
    p.amount_refunded += r.amount;
    p.refund_status = p.amount_refunded === p.amount ? "full" : "partial";
    if (p.amount_refunded === p.amount) p.status = "refunded";
    return r;
  }

  /** The routes; what they return is the JSON answer (200). */
  function route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
    req: IncomingMessage,
  ): unknown {
    const [, v1, resource, id, sub, ...rest] = path.split("/");
    if (v1 !== "v1" || rest.length > 0) throw notFound();
    const at = `${method} ${resource}${id === undefined ? "" : "/:id"}${sub === undefined ? "" : `/${sub}`}`;
    switch (at) {
      case "POST orders":
        return createOrder(body);
      case "GET orders": {
        const receipt = query.get("receipt");
        // "Orders that contain the provided value for receipt", as documented.
        return collection(
          [...orders.values()].filter((o) => receipt === null || (o.receipt ?? "").includes(receipt)),
          query,
        );
      }
      case "GET orders/:id":
        return order(id);
      case "GET orders/:id/payments": {
        const o = order(id);
        return collection(
          [...payments.values()].filter((p) => p.order_id === o.id),
          query,
        );
      }
      case "GET payments/:id":
        return payment(id);
      case "POST payments/:id/capture":
        return capture(id, body);
      case "POST payments/:id/refund": {
        const key = req.headers["x-refund-idempotency"];
        return refund(id, body, typeof key === "string" ? key : undefined);
      }
      case "GET payments/:id/refunds": {
        const p = payment(id);
        return collection(
          [...refunds.values()].filter((r) => r.payment_id === p.id),
          query,
        );
      }
      default:
        throw notFound();
    }
  }

  /** Stands in for the Checkout page the adapter sends customers to (no auth: it is the browser). */
  function checkoutPage(query: URLSearchParams): string | null {
    const o = orders.get(query.get("order_id") ?? "");
    if (!o || query.get("key_id") !== keyId) return null;
    return `<!doctype html><title>Razorpay Checkout (fake)</title><p>Pay ${o.amount} ${o.currency} for ${o.id}</p>`;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");

    const send = (status: number, payload: unknown, contentType = "application/json") => {
      if (res.destroyed) return;
      res.writeHead(status, { "content-type": contentType });
      res.end(typeof payload === "string" ? payload : JSON.stringify(payload));
    };

    if (url.pathname === "/v1/checkout/embedded" && method === "GET") {
      const page = checkoutPage(url.searchParams);
      return page ? send(200, page, "text/html") : send(400, "unknown order or key", "text/plain");
    }

    if (req.headers.authorization !== expectedAuth) {
      return send(401, new ApiError(401, "BAD_REQUEST_ERROR", "Authentication failed", "NA").body());
    }

    const failure = failures.findIndex((f) => matches(f.match, method, url.pathname));
    if (failure >= 0) {
      const [f] = failures.splice(failure, 1);
      return send(f.status, errorFor(f.status).body());
    }
    const delay = delays.findIndex((d) => matches(d.match, method, url.pathname));
    const ms = delay >= 0 ? delays.splice(delay, 1)[0].ms : 0;

    let status = 200;
    let answer: unknown;
    try {
      let body: Record<string, unknown> = {};
      if (raw) {
        try {
          body = JSON.parse(raw);
        } catch {
          throw badRequest("The request body is not valid JSON.");
        }
      }
      requests.push({ method, path: url.pathname + url.search, body: raw ? body : undefined, headers: req.headers });
      answer = clone(route(method, url.pathname, url.searchParams, body, req));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      status = err.status;
      answer = err.body();
    }
    // Done already; only the answer is late.
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    send(status, answer);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify(errorFor(500).body()));
      console.error("fake Razorpay failed:", err);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  function payOrder(orderId: string, outcome: "captured" | "authorized" | "failed", failure: PaymentFailure = {}): FakePayment {
    const o = orders.get(orderId);
    if (!o) throw new Error(`fake Razorpay: no order ${orderId}`);
    if (o.status === "paid") throw new Error(`fake Razorpay: order ${orderId} is paid already`);
    if ([...payments.values()].some((p) => p.order_id === o.id && p.status === "authorized")) {
      throw new Error(`fake Razorpay: order ${orderId} has an authorized payment already`);
    }
    const failed = outcome === "failed";
    const p: FakePayment = {
      id: newId("pay"),
      entity: "payment",
      amount: o.amount,
      currency: o.currency,
      status: outcome,
      order_id: o.id,
      invoice_id: null,
      international: false,
      method: "card",
      amount_refunded: 0,
      refund_status: null,
      captured: outcome === "captured",
      description: null,
      email: "ada@example.com",
      contact: "+919000090000",
      // Payments made on an order carry the order's notes.
      notes: clone(o.notes),
      fee: outcome === "captured" ? Math.round(o.amount * 0.02) : null,
      tax: outcome === "captured" ? 0 : null,
      error_code: failed ? (failure.code ?? "BAD_REQUEST_ERROR") : null,
      error_description: failed ? (failure.description ?? "Your payment was declined by the bank.") : null,
      error_source: failed ? "bank" : null,
      error_step: failed ? "payment_authorization" : null,
      error_reason: failed ? (failure.reason ?? "payment_declined") : null,
      created_at: now(),
    };
    payments.set(p.id, p);
    o.attempts += 1;
    o.status = "attempted";
    if (outcome === "captured") markPaid(o, p);
    return clone(p);
  }

  function signedWebhook(event: FakeWebhookEvent, secret: string): SignedWebhook {
    const payload: Record<string, { entity: unknown }> = {};
    const contains: string[] = [];
    const add = (name: string, entity: unknown) => {
      contains.push(name);
      payload[name] = { entity: clone(entity) };
    };
    if (event.payment) add("payment", payment(event.payment));
    if (event.order) add("order", order(event.order));
    if (event.refund) {
      const r = refunds.get(event.refund);
      if (!r) throw new Error(`fake Razorpay: no refund ${event.refund}`);
      add("refund", r);
    }
    const rawBody = JSON.stringify({
      entity: "event",
      account_id: "acc_FakeAccount0001",
      event: event.event,
      contains,
      payload,
      created_at: now(),
    });
    const eventId = randomUUID().replaceAll("-", "").slice(0, 14);
    return {
      rawBody,
      eventId,
      headers: {
        "content-type": "application/json",
        "x-razorpay-event-id": eventId,
        "x-razorpay-signature": createHmac("sha256", secret).update(rawBody).digest("hex"),
      },
    };
  }

  return {
    url: `http://127.0.0.1:${port}`,
    keyId,
    keySecret,
    payOrder,
    failNext(n, status = 500, match) {
      for (let i = 0; i < n; i++) failures.push({ status, match });
    },
    delayNext(ms, match) {
      delays.push({ ms, match });
    },
    orders: () => [...orders.values()].map(clone),
    payments: () => [...payments.values()].map(clone),
    refunds: () => [...refunds.values()].map(clone),
    requests,
    signedWebhook,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
