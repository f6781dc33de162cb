// A local stand-in for Mercado Pago's payments API, over real HTTP on 127.0.0.1: the request and
// answer shapes follow Mercado Pago's documentation (POST /v1/payments with X-Idempotency-Key,
// GET /v1/payments/{id}, GET /v1/payments/search, POST /v1/payments/{id}/refunds, error bodies
// {message, error, status, cause}, webhooks signed with `x-signature`). Amounts are decimals on
// the wire, as there; the fake keeps them in the site currency's subunits. Its site is Brazil (BRL)
// unless started with another `siteCurrency`; like Mercado Pago it takes whole units only in Chile
// (CLP) and Colombia (COP), a rule written here on its own, not taken from providers/currency-rules.ts.
//
// Card outcomes by token: "tok_approved" approved; "tok_rejected" rejected
// (cc_rejected_insufficient_amount); "tok_in_process" in_process; any other token 400. A card
// payment needs payment_method_id, as Mercado Pago documents it. payment_method_id "pix" makes a
// pending payment with a QR code, which `settle` approves or rejects. The numeric `cause` codes
// in its error bodies are the fake's own, not a copy of Mercado Pago's catalogue.
import { createHmac, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakePayment {
  id: number;
  status: "pending" | "approved" | "in_process" | "rejected" | "cancelled" | "refunded";
  status_detail: string;
  transaction_amount: number;
  transaction_amount_refunded: number;
  currency_id: string;
  description: string | null;
  external_reference: string | null;
  metadata: Record<string, unknown>;
  payer: { email: string | null };
  payment_method_id: string;
  payment_type_id: string;
  installments: number | null;
  notification_url: string | null;
  date_created: string;
  date_approved: string | null;
  date_last_updated: string;
  live_mode: false;
  point_of_interaction: {
    type: string;
    transaction_data: { qr_code: string; qr_code_base64: string; ticket_url: string };
  } | null;
  refunds: FakeRefund[];
}

export interface FakeRefund {
  id: number;
  payment_id: number;
  amount: number;
  status: "approved";
  source: { type: string };
  date_created: string;
  refund_mode: "standard";
  adjustment_amount: number;
  unique_sequence_number: null;
  metadata: Record<string, unknown>;
  reason: null;
}

interface StoredPayment {
  payment: FakePayment;
  /** The amounts in the site currency's subunits, so refunds add up exactly. */
  amountCents: number;
  refundedCents: number;
  idempotencyKey: string;
}

export interface FakeMercadoPagoOptions {
  accessToken?: string;
  /** The currency of the account's site, in which every payment is made (default BRL). */
  siteCurrency?: "ARS" | "BRL" | "CLP" | "COP" | "MXN" | "PEN" | "UYU";
}

/** Decimals transaction_amount may carry, by site currency: none in Chile and Colombia. */
const SITE_DECIMALS: Record<string, number> = { ARS: 2, BRL: 2, CLP: 0, COP: 0, MXN: 2, PEN: 2, UYU: 2 };

/**
 * The subunits a JSON number stands for with `decimals` decimals, or undefined when it has more
 * (from its shortest decimal text, which is what was sent; no float arithmetic).
 */
function subunits(amount: number, decimals: number): number | undefined {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(String(amount));
  if (!match || (match[2] ?? "").length > decimals) return undefined;
  return Number(match[1] + (match[2] ?? "").padEnd(decimals, "0"));
}

export class FakeMercadoPago {
  readonly accessToken: string;
  readonly siteCurrency: string;
  url = "";
  private server: Server | undefined;
  private readonly stored = new Map<number, StoredPayment>();
  private readonly paymentKeys = new Map<string, number>();
  private readonly refundKeys = new Map<string, FakeRefund>();
  private nextPaymentId = 1_318_000_001;
  private nextRefundId = 2_100_000_001;
  private nextNotificationId = 120_000_000_001;
  private failures: Array<number> = [];
  private delayMs = 0;
  /** Every request the fake received, for assertions on headers and bodies. */
  readonly requests: Array<{
    method: string;
    path: string;
    headers: Record<string, string | string[] | undefined>;
    body: unknown;
  }> = [];

  constructor(options: FakeMercadoPagoOptions = {}) {
    this.accessToken = options.accessToken ?? "TEST-fake-access-token";
    this.siteCurrency = options.siteCurrency ?? "BRL";
  }

  static async start(options: FakeMercadoPagoOptions = {}): Promise<FakeMercadoPago> {
    const fake = new FakeMercadoPago(options);
    await fake.listen();
    return fake;
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) send(res, 500, mpError(500, "internal_error", String(err)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  }

  // ---- controls ----

  /** The next `n` requests (any route) are answered with `status` and Mercado Pago's error body. */
  failNext(n: number, status = 500): void {
    for (let i = 0; i < n; i++) this.failures.push(status);
  }

  /** The next request is processed at once but answered only after `ms` (a slow or lost answer). */
  delayNext(ms: number): void {
    this.delayMs = ms;
  }

  /** Settles a pending (PIX) or in-process payment, as the customer's bank would. */
  settle(paymentId: number | string, outcome: "approved" | "rejected"): FakePayment {
    const entry = this.stored.get(Number(paymentId));
    if (!entry) throw new Error(`no payment ${paymentId}`);
    const { payment } = entry;
    if (payment.status !== "pending" && payment.status !== "in_process") {
      throw new Error(`payment ${paymentId} is ${payment.status}, not pending`);
    }
    const now = new Date().toISOString();
    payment.status = outcome;
    payment.status_detail = outcome === "approved" ? "accredited" : "cc_rejected_other_reason";
    payment.date_last_updated = now;
    if (outcome === "approved") payment.date_approved = now;
    return structuredClone(payment);
  }

  payments(): FakePayment[] {
    return [...this.stored.values()].map((s) => structuredClone(s.payment));
  }

  refunds(): FakeRefund[] {
    return [...this.stored.values()].flatMap((s) => s.payment.refunds.map((r) => structuredClone(r)));
  }

  /**
   * A payment notification as Mercado Pago sends it: the body, the query string it appends to the
   * notification URL, and the headers, with `x-signature: ts=…,v1=…` computed over
   * `id:<data.id>;request-id:<x-request-id>;ts:<ts>;` under `secret`.
   */
  signedWebhook(
    paymentId: number | string,
    options: { secret: string; ts?: number | string; requestId?: string; action?: string },
  ): { rawBody: string; headers: Record<string, string>; query: Record<string, string> } {
    const dataId = String(paymentId);
    const ts = String(options.ts ?? Math.floor(Date.now() / 1000));
    const requestId = options.requestId ?? randomUUID();
    const manifest = `id:${dataId.toLowerCase()};request-id:${requestId};ts:${ts};`;
    const v1 = createHmac("sha256", options.secret).update(manifest).digest("hex");
    const rawBody = JSON.stringify({
      id: this.nextNotificationId++,
      live_mode: false,
      type: "payment",
      date_created: new Date().toISOString(),
      user_id: 44_000_001,
      api_version: "v1",
      action: options.action ?? "payment.updated",
      data: { id: dataId },
    });
    return {
      rawBody,
      headers: { "content-type": "application/json", "x-signature": `ts=${ts},v1=${v1}`, "x-request-id": requestId },
      query: { "data.id": dataId, type: "payment" },
    };
  }

  private get decimals(): number {
    return SITE_DECIMALS[this.siteCurrency];
  }

  /** Subunits as the JSON number Mercado Pago answers with (39.9, 5000). */
  private major(subunitCount: number): number {
    const text = String(subunitCount).padStart(this.decimals + 1, "0");
    return Number(this.decimals === 0 ? text : `${text.slice(0, -this.decimals)}.${text.slice(-this.decimals)}`);
  }

  // ---- the API ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://fake");
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return send(res, 400, mpError(400, "bad_request", "Malformed JSON body"));
    }
    this.requests.push({ method: req.method ?? "", path: url.pathname + url.search, headers: req.headers, body });

    const failure = this.failures.shift();
    if (failure !== undefined) {
      return send(res, failure, mpError(failure, failure === 429 ? "too_many_requests" : "internal_error", "Injected failure"));
    }
    if (req.headers.authorization !== `Bearer ${this.accessToken}`) {
      return send(res, 401, mpError(401, "unauthorized", "invalid access token"));
    }

    const [status, answer] = this.route(req.method ?? "GET", url, body, req.headers);
    const delay = this.delayMs;
    this.delayMs = 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (!res.destroyed) send(res, status, answer);
  }

  private route(method: string, url: URL, body: any, headers: IncomingMessage["headers"]): [number, unknown] {
    const path = url.pathname;
    const key = headerValue(headers["x-idempotency-key"]);
    if (method === "POST" && path === "/v1/payments") return this.createPayment(body, key);
    if (method === "GET" && path === "/v1/payments/search") return this.search(url.searchParams);
    const one = /^\/v1\/payments\/(\d+)$/.exec(path);
    if (method === "GET" && one) {
      const entry = this.stored.get(Number(one[1]));
      return entry ? [200, entry.payment] : [404, mpError(404, "not_found", `Payment not found`)];
    }
    if (method === "PUT" && one) return this.updatePayment(Number(one[1]), body);
    const refunds = /^\/v1\/payments\/(\d+)\/refunds$/.exec(path);
    if (method === "POST" && refunds) return this.createRefund(Number(refunds[1]), body, key);
    return [404, mpError(404, "not_found", `No route ${method} ${path}`)];
  }

  /** PUT /v1/payments/{id} {status:"cancelled"}: only a pending or in-process payment can be. */
  private updatePayment(id: number, body: any): [number, unknown] {
    const entry = this.stored.get(id);
    if (!entry) return [404, mpError(404, "not_found", "Payment not found")];
    if (body?.status !== "cancelled") return [400, mpError(400, "bad_request", "Only status cancelled can be set")];
    const { payment } = entry;
    if (payment.status !== "pending" && payment.status !== "in_process") {
      return [400, mpError(400, "bad_request", `Payment is ${payment.status} and cannot be cancelled`)];
    }
    payment.status = "cancelled";
    payment.status_detail = "by_collector";
    payment.date_last_updated = new Date().toISOString();
    return [200, payment];
  }

  private createPayment(body: any, key: string | undefined): [number, unknown] {
    if (!key) return [400, mpError(400, "bad_request", "X-Idempotency-Key header is required")];
    const replayed = this.paymentKeys.get(key);
    if (replayed !== undefined) return [201, this.stored.get(replayed)!.payment];

    const amount = body?.transaction_amount;
    if (typeof amount !== "number" || !(amount > 0)) {
      return [400, mpError(400, "bad_request", "transaction_amount must be a positive number", 4037)];
    }
    const amountCents = subunits(amount, this.decimals);
    if (amountCents === undefined) {
      return [
        400,
        mpError(400, "bad_request", `transaction_amount ${amount} has more decimals than ${this.siteCurrency} takes`, 4038),
      ];
    }
    if (typeof body?.payer?.email !== "string") return [400, mpError(400, "bad_request", "payer.email is required", 4050)];
    const methodId = body?.payment_method_id;
    if (typeof methodId !== "string" || methodId === "") {
      return [400, mpError(400, "bad_request", "payment_method_id attribute can't be null", 4020)];
    }

    const id = this.nextPaymentId++;
    const now = new Date().toISOString();
    const payment: FakePayment = {
      id,
      status: "pending",
      status_detail: "pending_waiting_transfer",
      transaction_amount: amount,
      transaction_amount_refunded: 0,
      currency_id: this.siteCurrency,
      description: body.description ?? null,
      external_reference: body.external_reference ?? null,
      metadata: body.metadata ?? {},
      payer: { email: body.payer.email },
      payment_method_id: methodId,
      payment_type_id: methodId === "pix" ? "bank_transfer" : "credit_card",
      installments: body.installments ?? null,
      notification_url: body.notification_url ?? null,
      date_created: now,
      date_approved: null,
      date_last_updated: now,
      live_mode: false,
      point_of_interaction: null,
      refunds: [],
    };

    if (methodId === "pix") {
      payment.point_of_interaction = {
        type: "PIX",
        transaction_data: {
          qr_code: `00020126580014br.gov.bcb.pix0136fake-${id}5204000053039865406${amount.toFixed(2)}5802BR6304ABCD`,
          qr_code_base64: Buffer.from(`qr-${id}`).toString("base64"),
          ticket_url: `${this.url}/payments/${id}/ticket`,
        },
      };
    } else {
      switch (body.token) {
        case "tok_approved":
          payment.status = "approved";
          payment.status_detail = "accredited";
          payment.date_approved = now;
          break;
        case "tok_rejected":
          payment.status = "rejected";
          payment.status_detail = "cc_rejected_insufficient_amount";
          break;
        case "tok_in_process":
          payment.status = "in_process";
          payment.status_detail = "pending_contingency";
          break;
        default:
          return [400, mpError(400, "bad_request", "Invalid card_token_id", 2006)];
      }
    }

    this.stored.set(id, { payment, amountCents, refundedCents: 0, idempotencyKey: key });
    this.paymentKeys.set(key, id);
    return [201, payment];
  }

  private search(params: URLSearchParams): [number, unknown] {
    const reference = params.get("external_reference");
    const limit = Math.min(Number(params.get("limit") ?? 30) || 30, 1000);
    const offset = Number(params.get("offset") ?? 0) || 0;
    const descending = params.get("criteria") === "desc";
    const matching = [...this.stored.values()]
      .map((s) => s.payment)
      .filter((p) => reference === null || p.external_reference === reference)
      .sort((a, b) => (descending ? b.id - a.id : a.id - b.id));
    return [200, { paging: { total: matching.length, limit, offset }, results: matching.slice(offset, offset + limit) }];
  }

  private createRefund(paymentId: number, body: any, key: string | undefined): [number, unknown] {
    if (key) {
      const replayed = this.refundKeys.get(key);
      if (replayed) return [201, replayed];
    }
    const entry = this.stored.get(paymentId);
    if (!entry) return [404, mpError(404, "not_found", "Payment not found")];
    const { payment } = entry;
    if (payment.status !== "approved") {
      return [400, mpError(400, "bad_request", `Payment status ${payment.status} cannot be refunded`, 2024)];
    }
    const left = entry.amountCents - entry.refundedCents;
    if (body?.amount !== undefined && !(typeof body.amount === "number" && body.amount > 0)) {
      return [400, mpError(400, "bad_request", "amount must be a positive number", 4037)];
    }
    const cents = body?.amount === undefined ? left : subunits(body.amount, this.decimals);
    if (cents === undefined) {
      return [400, mpError(400, "bad_request", `amount ${body.amount} has more decimals than ${this.siteCurrency} takes`, 4038)];
    }
    if (!(cents > 0)) return [400, mpError(400, "bad_request", "amount must be a positive number", 4037)];
    if (cents > left) {
      return [400, mpError(400, "bad_request", `Invalid refund amount: ${this.major(cents)} exceeds ${this.major(left)}`, 2085)];
    }

    const refund: FakeRefund = {
      id: this.nextRefundId++,
      payment_id: paymentId,
      amount: this.major(cents),
      status: "approved",
      source: { type: "collector" },
      date_created: new Date().toISOString(),
      refund_mode: "standard",
      adjustment_amount: 0,
      unique_sequence_number: null,
      metadata: {},
      reason: null,
    };
    entry.refundedCents += cents;
    payment.refunds.push(refund);
    payment.transaction_amount_refunded = this.major(entry.refundedCents);
    payment.status_detail = entry.refundedCents === entry.amountCents ? "refunded" : "partially_refunded";
    if (entry.refundedCents === entry.amountCents) payment.status = "refunded";
    payment.date_last_updated = refund.date_created;
    if (key) this.refundKeys.set(key, refund);
    return [201, refund];
  }
}

function mpError(status: number, error: string, message: string, causeCode?: number) {
  return {
    message,
    error,
    status,
    cause: causeCode === undefined ? [] : [{ code: causeCode, description: message, data: null }],
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
