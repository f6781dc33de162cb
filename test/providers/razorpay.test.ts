// The Razorpay adapter against a local fake of Razorpay's REST API, over real HTTP: orders as
// the idempotency mechanism, Checkout as the customer's step, capture on reconcile, refunds once
// per key, webhook signatures, and what outages and timeouts turn into.
// Run alone with: TEST_STACK=off npx vitest run test/providers/razorpay.test.ts
import { createHash, createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CurrencyRuleError } from "../../providers/currency-rules.ts";
import { RazorpayGateway, razorpayProvider, receiptFor } from "../../providers/razorpay.ts";
import {
  type ChargeRequest,
  GatewayRequestError,
  GatewayUnavailableError,
  WebhookVerificationError,
} from "../../providers/types.ts";
import { type FakeRazorpay, startFakeRazorpay } from "../fakes/razorpay.ts";

const WEBHOOK_SECRET = "whsec_razorpay_test_0001";

let fake: FakeRazorpay;
let gateway: RazorpayGateway;
let counter = 0;

beforeAll(async () => {
  fake = await startFakeRazorpay();
  gateway = gatewayFor(fake);
});
afterAll(async () => {
  await fake?.close();
});
afterEach(() => {
  fake.requests.length = 0;
});

function gatewayFor(f: FakeRazorpay, overrides: Partial<ConstructorParameters<typeof RazorpayGateway>[0]> = {}) {
  return new RazorpayGateway({
    keyId: f.keyId,
    keySecret: f.keySecret,
    webhookSecret: WEBHOOK_SECRET,
    apiBase: f.url,
    timeoutMs: 2_000,
    ...overrides,
  });
}

/** A charge under a key no other test uses. */
function chargeRequest(overrides: Partial<ChargeRequest> = {}): ChargeRequest {
  counter += 1;
  const checkoutId = `chk_rzp_${counter}_${Date.now()}`;
  return {
    idempotencyKey: `${checkoutId}:charge`,
    checkoutId,
    amount: 49_900,
    currency: "INR",
    token: "tok_unused",
    method: "card",
    customerEmail: "ada@example.com",
    returnUrl: "https://shop.example.com/checkouts/return",
    ...overrides,
  };
}

const ordersFor = (checkoutId: string) =>
  fake.orders().filter((o) => !Array.isArray(o.notes) && o.notes.checkout_id === checkoutId);
const lookupFor = (req: ChargeRequest, reference?: string) => ({
  idempotencyKey: req.idempotencyKey,
  checkoutId: req.checkoutId,
  amount: req.amount,
  currency: req.currency,
  reference,
});

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection, got a result");
}

/** A charge, the customer paying it in Checkout with this result, and its order id. */
async function paidCharge(outcome: "captured" | "authorized" | "failed", overrides: Partial<ChargeRequest> = {}) {
  const req = chargeRequest(overrides);
  const first = await gateway.charge(req);
  expect(first.status).toBe("requires_action");
  const orderId = first.reference!;
  const payment = fake.payOrder(orderId, outcome);
  return { req, orderId, payment };
}

async function captured(amount = 49_900) {
  const { req, payment } = await paidCharge("captured", { amount });
  return { req, paymentId: payment.id };
}

describe("Razorpay charge", () => {
  it("creates one order under the key as receipt and sends the customer to Checkout", async () => {
    const req = chargeRequest();
    const outcome = await gateway.charge(req);

    expect(outcome.status).toBe("requires_action");
    if (outcome.status !== "requires_action") throw new Error("unreachable");
    expect(outcome.reference).toMatch(/^order_[A-Za-z0-9]{14}$/);
    expect(outcome.action.type).toBe("redirect");
    const url = new URL(outcome.action.url!);
    expect(url.origin + url.pathname).toBe(`${fake.url}/v1/checkout/embedded`);
    expect(url.searchParams.get("order_id")).toBe(outcome.reference);
    expect(url.searchParams.get("key_id")).toBe(fake.keyId);
    expect(url.searchParams.get("callback_url")).toBe(req.returnUrl);
    // The page exists and is about this order.
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(outcome.reference);

    const orders = ordersFor(req.checkoutId);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({
      id: outcome.reference,
      entity: "order",
      amount: 49_900,
      currency: "INR",
      receipt: req.idempotencyKey,
      status: "created",
      notes: { checkout_id: req.checkoutId, idempotency_key: req.idempotencyKey },
    });
    // Looked for an existing order first.
    expect(fake.requests.map((r) => `${r.method} ${r.path.split("?")[0]}`)).toEqual(["GET /v1/orders", "POST /v1/orders"]);
  });

  it("a retried charge with the same key makes no second order", async () => {
    const req = chargeRequest();
    const first = await gateway.charge(req);
    const again = await gateway.charge(req);
    const third = await gateway.charge({ ...req, returnUrl: undefined });

    expect(again).toEqual(first);
    expect(third.reference).toBe(first.reference);
    expect(ordersFor(req.checkoutId)).toHaveLength(1);
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(1);
  });

  it("hashes a key longer than Razorpay's 40-character receipt, the same way every time", async () => {
    const long = `checkout-workflow-${"x".repeat(60)}:payment:attempt`;
    expect(receiptFor(long)).toHaveLength(40);
    expect(receiptFor(long)).toBe(receiptFor(long));
    expect(receiptFor(`${long}2`)).not.toBe(receiptFor(long));
    expect(receiptFor("short-key")).toBe("short-key");

    const req = chargeRequest({ idempotencyKey: long });
    const first = await gateway.charge(req);
    const again = await gateway.charge(req);
    expect(again.reference).toBe(first.reference);
    const orders = ordersFor(req.checkoutId);
    expect(orders).toHaveLength(1);
    expect(orders[0].receipt).toBe(receiptFor(long));
  });

  it("matches receipts exactly, though Razorpay's filter matches any receipt containing the value", async () => {
    const req = chargeRequest();
    const longer = { ...req, idempotencyKey: `${req.idempotencyKey}-v2`, checkoutId: `${req.checkoutId}-other` };
    const other = await gateway.charge(longer);
    const mine = await gateway.charge(req);
    expect(mine.reference).not.toBe(other.reference);
  });

  it("answers succeeded for a key whose order was already paid, without a new order", async () => {
    const { req, orderId, payment } = await paidCharge("captured");
    const outcome = await gateway.charge(req);
    expect(outcome).toEqual({ status: "succeeded", reference: payment.id });
    expect(ordersFor(req.checkoutId).map((o) => o.id)).toEqual([orderId]);
  });

  it("refuses the same key for a different amount", async () => {
    const req = chargeRequest();
    await gateway.charge(req);
    await expect(gateway.charge({ ...req, amount: req.amount + 100 })).rejects.toBeInstanceOf(GatewayRequestError);
    expect(ordersFor(req.checkoutId)).toHaveLength(1);
  });

  it("an invalid request is a GatewayRequestError (400 BAD_REQUEST_ERROR)", async () => {
    const req = chargeRequest({ amount: 50 });
    const err = await gateway.charge(req).catch((e) => e);
    expect(err).toBeInstanceOf(GatewayRequestError);
    expect(err.status).toBe(400);
    expect(err.message).toContain("at least INR 1.00");
    expect(ordersFor(req.checkoutId)).toHaveLength(0);
  });

  it("wrong keys are a GatewayRequestError (401)", async () => {
    const wrong = gatewayFor(fake, { keySecret: "not-the-secret" });
    const err = await wrong.charge(chargeRequest()).catch((e) => e);
    expect(err).toBeInstanceOf(GatewayRequestError);
    expect(err.status).toBe(401);
  });
});

describe("Razorpay reconcile", () => {
  it("is null when no order was ever made under the key", async () => {
    expect(await gateway.reconcile(lookupFor(chargeRequest()))).toBeNull();
  });

  it("still requires_action while the customer has not paid", async () => {
    const req = chargeRequest();
    const first = await gateway.charge(req);
    const outcome = await gateway.reconcile(lookupFor(req, first.reference));
    expect(outcome).toMatchObject({ status: "requires_action", reference: first.reference, action: { type: "redirect" } });
  });

  it("a captured payment → succeeded with the payment id", async () => {
    const { req, orderId, payment } = await paidCharge("captured");
    expect(await gateway.reconcile(lookupFor(req, orderId))).toEqual({ status: "succeeded", reference: payment.id });
    // By receipt alone, and by the payment id, too.
    expect(await gateway.reconcile(lookupFor(req))).toEqual({ status: "succeeded", reference: payment.id });
    expect(await gateway.reconcile(lookupFor(req, payment.id))).toEqual({ status: "succeeded", reference: payment.id });
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(1); // the order, nothing else
  });

  it("an authorized payment is captured, once", async () => {
    const { req, orderId, payment } = await paidCharge("authorized");
    expect(payment.status).toBe("authorized");

    expect(await gateway.reconcile(lookupFor(req, orderId))).toEqual({ status: "succeeded", reference: payment.id });
    expect(await gateway.reconcile(lookupFor(req, orderId))).toEqual({ status: "succeeded", reference: payment.id });

    const captures = fake.requests.filter((r) => r.path.endsWith("/capture"));
    expect(captures).toHaveLength(1);
    expect(captures[0].body).toEqual({ amount: req.amount, currency: req.currency });
    expect(fake.payments().find((p) => p.id === payment.id)).toMatchObject({ status: "captured", captured: true });
    expect(fake.orders().find((o) => o.id === orderId)).toMatchObject({ status: "paid", amount_paid: req.amount, amount_due: 0 });
  });

  it("a capture whose answer was lost is found captured on the next reconcile", async () => {
    const { req, orderId, payment } = await paidCharge("authorized");
    const impatient = gatewayFor(fake, { timeoutMs: 150 });
    fake.delayNext(600, { method: "POST", path: /\/capture$/ });

    const err = await impatient.reconcile(lookupFor(req, orderId)).catch((e) => e);
    expect(err).toBeInstanceOf(GatewayUnavailableError);
    expect(err.outcomeUnknown).toBe(true);

    expect(await gateway.reconcile(lookupFor(req, orderId))).toEqual({ status: "succeeded", reference: payment.id });
    expect(fake.requests.filter((r) => r.path.endsWith("/capture"))).toHaveLength(1);
  });

  it("only failed payments → declined with Razorpay's error", async () => {
    const { req, orderId, payment } = await paidCharge("failed");
    const outcome = await gateway.reconcile(lookupFor(req, orderId));
    expect(outcome).toEqual({
      status: "declined",
      reference: payment.id,
      declineCode: "payment_declined",
      declineReason: "Your payment was declined by the bank.",
    });
  });

  it("a failed attempt followed by a captured one → succeeded", async () => {
    const { req, orderId } = await paidCharge("failed");
    const second = fake.payOrder(orderId, "captured");
    expect(await gateway.reconcile(lookupFor(req, orderId))).toEqual({ status: "succeeded", reference: second.id });
  });
});

describe("Razorpay outages", () => {
  it("a 5xx is a definite GatewayUnavailableError; the retry makes one order", async () => {
    const req = chargeRequest();
    fake.failNext(1, 503, { method: "POST", path: "/v1/orders" });

    const err = await gateway.charge(req).catch((e) => e);
    expect(err).toBeInstanceOf(GatewayUnavailableError);
    expect(err).toMatchObject({ status: 503, outcomeUnknown: false });
    expect(ordersFor(req.checkoutId)).toHaveLength(0);

    const outcome = await gateway.charge(req);
    expect(outcome.status).toBe("requires_action");
    expect(ordersFor(req.checkoutId)).toHaveLength(1);
  });

  it("429 is retryable and definite too", async () => {
    fake.failNext(1, 429);
    const err = await gateway.charge(chargeRequest()).catch((e) => e);
    expect(err).toBeInstanceOf(GatewayUnavailableError);
    expect(err).toMatchObject({ status: 429, outcomeUnknown: false });
  });

  it("a timeout leaves the outcome unknown; reconcile finds the one order it made", async () => {
    const req = chargeRequest();
    const impatient = gatewayFor(fake, { timeoutMs: 150 });
    fake.delayNext(600, { method: "POST", path: "/v1/orders" });

    const err = await impatient.charge(req).catch((e) => e);
    expect(err).toBeInstanceOf(GatewayUnavailableError);
    expect(err.outcomeUnknown).toBe(true);
    // Razorpay made the order even though we never heard back.
    const orders = ordersFor(req.checkoutId);
    expect(orders).toHaveLength(1);

    const found = await gateway.reconcile(lookupFor(req));
    expect(found).toMatchObject({ status: "requires_action", reference: orders[0].id });
    // And charging again reuses it.
    expect((await gateway.charge(req)).reference).toBe(orders[0].id);
    expect(ordersFor(req.checkoutId)).toHaveLength(1);
  });

  it("a timeout on a read is retryable without an unknown outcome (a GET changes nothing)", async () => {
    const impatient = gatewayFor(fake, { timeoutMs: 150 });
    fake.delayNext(600, { method: "GET", path: "/v1/orders" });
    const err = await impatient.reconcile(lookupFor(chargeRequest())).catch((e) => e);
    expect(err).toBeInstanceOf(GatewayUnavailableError);
    expect(err.outcomeUnknown).toBe(false);
  });

  it("a refused connection never reached Razorpay: not an unknown outcome", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((r) => closed.close(() => r()));

    const down = gatewayFor(fake, { apiBase: `http://127.0.0.1:${port}` });
    const err = await down.charge(chargeRequest()).catch((e) => e);
    expect(err).toBeInstanceOf(GatewayUnavailableError);
    expect(err.outcomeUnknown).toBe(false);
  });
});

describe("Razorpay refunds", () => {
  it("partial, then the rest, then nothing more: an over-refund comes back failed", async () => {
    const { req, paymentId } = await captured(10_000);
    const refund = (key: string, amount: number) =>
      gateway.refund({
        idempotencyKey: `${req.checkoutId}:${key}`,
        checkoutId: req.checkoutId,
        chargeReference: paymentId,
        amount,
        currency: "INR",
      });

    const partial = await refund("refund-1", 4_000);
    expect(partial).toMatchObject({ status: "succeeded", reference: expect.stringMatching(/^rfnd_/) });
    expect(fake.payments().find((p) => p.id === paymentId)).toMatchObject({
      amount_refunded: 4_000,
      refund_status: "partial",
      status: "captured",
    });

    const over = await refund("refund-2", 7_000);
    expect(over).toEqual({ status: "failed", reason: "The refund amount provided is greater than amount captured" });

    const rest = await refund("refund-3", 6_000);
    expect(rest.status).toBe("succeeded");
    expect(fake.payments().find((p) => p.id === paymentId)).toMatchObject({
      amount_refunded: 10_000,
      refund_status: "full",
      status: "refunded",
    });

    const more = await refund("refund-4", 100);
    expect(more.status).toBe("failed");

    const refunds = fake.refunds().filter((r) => r.payment_id === paymentId);
    expect(refunds.map((r) => r.amount).sort()).toEqual([4_000, 6_000]);
    expect(refunds[0].notes).toMatchObject({ checkout_id: req.checkoutId });

    // A refunded payment was still a successful charge.
    expect(await gateway.reconcile(lookupFor(req))).toEqual({ status: "succeeded", reference: paymentId });
  });

  it("a full refund in one go", async () => {
    const { req, paymentId } = await captured(25_000);
    const outcome = await gateway.refund({
      idempotencyKey: `${req.checkoutId}:refund`,
      checkoutId: req.checkoutId,
      chargeReference: paymentId,
      amount: 25_000,
      currency: "INR",
    });
    expect(outcome.status).toBe("succeeded");
    expect(fake.payments().find((p) => p.id === paymentId)).toMatchObject({ status: "refunded", refund_status: "full" });
  });

  it("a repeated refund with the same key refunds once", async () => {
    const { req, paymentId } = await captured(10_000);
    const request = {
      idempotencyKey: `${req.checkoutId}:refund`,
      checkoutId: req.checkoutId,
      chargeReference: paymentId,
      amount: 3_000,
      currency: "INR",
    };

    const first = await gateway.refund(request);
    const again = await gateway.refund(request);
    expect(first.status).toBe("succeeded");
    expect(again).toEqual(first);
    expect(fake.refunds().filter((r) => r.payment_id === paymentId)).toHaveLength(1);
    expect(fake.requests.filter((r) => r.path.endsWith("/refund"))).toHaveLength(1);
  });

  it("a refund whose answer was lost is found, not made again", async () => {
    const { req, paymentId } = await captured(10_000);
    const request = {
      idempotencyKey: `${req.checkoutId}:refund`,
      checkoutId: req.checkoutId,
      chargeReference: paymentId,
      amount: 5_000,
      currency: "INR",
    };
    const impatient = gatewayFor(fake, { timeoutMs: 150 });
    fake.delayNext(600, { method: "POST", path: /\/refund$/ });

    const err = await impatient.refund(request).catch((e) => e);
    expect(err).toBeInstanceOf(GatewayUnavailableError);
    expect(err.outcomeUnknown).toBe(true);

    const outcome = await gateway.refund(request);
    const refunds = fake.refunds().filter((r) => r.payment_id === paymentId);
    expect(refunds).toHaveLength(1);
    expect(outcome).toEqual({ status: "succeeded", reference: refunds[0].id });
  });

  it("a 5xx on a refund is retryable", async () => {
    const { req, paymentId } = await captured(10_000);
    fake.failNext(1, 500, { method: "POST", path: /\/refund$/ });
    const request = {
      idempotencyKey: `${req.checkoutId}:refund`,
      checkoutId: req.checkoutId,
      chargeReference: paymentId,
      amount: 1_000,
      currency: "INR",
    };
    await expect(gateway.refund(request)).rejects.toMatchObject({
      name: "GatewayUnavailableError",
      status: 500,
      outcomeUnknown: false,
    });
    expect((await gateway.refund(request)).status).toBe("succeeded");
    expect(fake.refunds().filter((r) => r.payment_id === paymentId)).toHaveLength(1);
  });
});

describe("Razorpay currencies and amounts", () => {
  // Razorpay takes the currency's subunits, three-decimal ones ending in 0; the fake refuses any
  // other amount on its own.
  it("charges, captures and refunds KWD in fils ending in 0", async () => {
    const { req, orderId, payment } = await paidCharge("authorized", { amount: 12_340, currency: "KWD" });
    expect(fake.orders().find((o) => o.id === orderId)).toMatchObject({ amount: 12_340, currency: "KWD" });
    expect(await gateway.reconcile(lookupFor(req, orderId))).toEqual({ status: "succeeded", reference: payment.id });
    const capture = fake.requests.find((r) => r.path.endsWith("/capture"))!;
    expect(capture.body).toEqual({ amount: 12_340, currency: "KWD" });

    const refund = await gateway.refund({
      idempotencyKey: `${req.checkoutId}:refund`,
      checkoutId: req.checkoutId,
      chargeReference: payment.id,
      amount: 2_340,
      currency: "KWD",
    });
    expect(refund.status).toBe("succeeded");
    expect(fake.refunds().at(-1)).toMatchObject({ amount: 2_340, currency: "KWD", payment_id: payment.id });
  });

  it.each([
    ["KWD", 1_234, "amount"],
    ["OMR", 10_005, "amount"],
    ["IRR", 100_000, "currency"],
    ["KPW", 100_000, "currency"],
    ["XX", 100_000, "currency"],
    ["INR", 0, "amount"],
  ])("refuses %s %i before sending anything (field %s)", async (currency, amount, field) => {
    const err = await rejection(gateway.charge(chargeRequest({ amount, currency })));
    expect(err).toBeInstanceOf(CurrencyRuleError);
    expect(err).toBeInstanceOf(GatewayRequestError);
    expect(err.field).toBe(field);
    expect(fake.requests).toHaveLength(0);
  });

  it("refuses a KWD refund in single fils before asking Razorpay", async () => {
    const { req, paymentId } = await captured(12_340);
    fake.requests.length = 0;
    const err = await rejection(
      gateway.refund({
        idempotencyKey: `${req.checkoutId}:refund`,
        checkoutId: req.checkoutId,
        chargeReference: paymentId,
        amount: 1_001,
        currency: "KWD",
      }),
    );
    expect(err).toBeInstanceOf(CurrencyRuleError);
    expect(fake.requests).toHaveLength(0);
  });

  it("an order under our key for another amount is not ours to settle", async () => {
    const req = chargeRequest({ amount: 12_340, currency: "KWD" });
    await gateway.charge(req);
    const err = await rejection(gateway.charge({ ...req, amount: 12_350 }));
    expect(err).toBeInstanceOf(GatewayRequestError);
    expect(err.message).toContain("is for 12340 KWD, not 12350 KWD");
  });

  it("the fake itself refuses what Razorpay refuses", async () => {
    const create = async (amount: number, currency: string) => {
      const res = await fetch(`${fake.url}/v1/orders`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`${fake.keyId}:${fake.keySecret}`).toString("base64")}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ amount, currency }),
      });
      return { status: res.status, field: ((await res.json()) as any).error?.field };
    };
    expect(await create(1_234, "KWD")).toEqual({ status: 400, field: "amount" });
    expect(await create(100_000, "IRR")).toEqual({ status: 400, field: "currency" });
    expect((await create(1_230, "KWD")).status).toBe(200);
  });
});

describe("Razorpay webhooks", () => {
  it("a valid payment.captured verifies and maps to payment.succeeded for our checkout", async () => {
    const { req, payment } = await paidCharge("captured");
    const hook = fake.signedWebhook({ event: "payment.captured", payment: payment.id }, WEBHOOK_SECRET);

    const event = await gateway.verifyWebhook({ rawBody: hook.rawBody, headers: hook.headers });
    expect(event).toEqual({
      id: `sha256:${createHash("sha256").update(hook.rawBody).digest("hex")}`,
      kind: "payment.succeeded",
      checkoutId: req.checkoutId,
      reference: payment.id,
      providerType: "payment.captured",
    });
  });

  it.each([
    ["order.paid", "payment.succeeded"],
    ["payment.failed", "payment.failed"],
    ["payment.authorized", "payment.pending"],
    ["payment.dispute.created", "other"],
  ])("maps %s to %s", async (type, kind) => {
    const { req, orderId, payment } = await paidCharge("captured");
    const hook = fake.signedWebhook({ event: type, payment: payment.id, order: orderId }, WEBHOOK_SECRET);
    expect(await gateway.verifyWebhook(hook)).toMatchObject({
      kind,
      checkoutId: req.checkoutId,
      reference: payment.id,
      providerType: type,
    });
  });

  it("maps refund.processed to refund.succeeded, about the refunded payment", async () => {
    const { req, paymentId } = await captured(10_000);
    const refund = await gateway.refund({
      idempotencyKey: `${req.checkoutId}:r`,
      checkoutId: req.checkoutId,
      chargeReference: paymentId,
      amount: 2_000,
      currency: "INR",
    });
    const hook = fake.signedWebhook({ event: "refund.processed", refund: refund.reference!, payment: paymentId }, WEBHOOK_SECRET);
    expect(await gateway.verifyWebhook(hook)).toMatchObject({
      kind: "refund.succeeded",
      checkoutId: req.checkoutId,
      reference: paymentId,
    });
  });

  it("takes the checkout id from the order when the payment carries no notes", async () => {
    const { req, orderId, payment } = await paidCharge("captured");
    const hook = fake.signedWebhook({ event: "order.paid", payment: payment.id, order: orderId }, WEBHOOK_SECRET);
    const body = JSON.parse(hook.rawBody);
    body.payload.payment.entity.notes = [];
    const rawBody = JSON.stringify(body);
    const headers = {
      ...hook.headers,
      "x-razorpay-signature": createHmac("sha256", WEBHOOK_SECRET).update(rawBody).digest("hex"),
    };
    expect(await gateway.verifyWebhook({ rawBody, headers })).toMatchObject({
      checkoutId: req.checkoutId,
      reference: payment.id,
    });
  });

  it("a forged signature is refused", async () => {
    const { payment } = await paidCharge("captured");
    const forged = fake.signedWebhook({ event: "payment.captured", payment: payment.id }, "not-our-secret");
    await expect(gateway.verifyWebhook(forged)).rejects.toBeInstanceOf(WebhookVerificationError);
  });

  it("a body changed after signing is refused", async () => {
    const { payment } = await paidCharge("captured");
    const hook = fake.signedWebhook({ event: "payment.failed", payment: payment.id }, WEBHOOK_SECRET);
    const tampered = hook.rawBody.replace('"payment.failed"', '"payment.captured"');
    await expect(gateway.verifyWebhook({ rawBody: tampered, headers: hook.headers })).rejects.toBeInstanceOf(
      WebhookVerificationError,
    );
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["not hex", "zz-not-a-signature"],
    ["truncated", "abc123"],
  ])("a %s signature is refused", async (_label, signature) => {
    const { payment } = await paidCharge("captured");
    const hook = fake.signedWebhook({ event: "payment.captured", payment: payment.id }, WEBHOOK_SECRET);
    const headers: Record<string, string> = { ...hook.headers };
    if (signature === undefined) delete headers["x-razorpay-signature"];
    else headers["x-razorpay-signature"] = signature;
    await expect(gateway.verifyWebhook({ rawBody: hook.rawBody, headers })).rejects.toBeInstanceOf(WebhookVerificationError);
  });

  it("a redelivery carries the same event id (the duplicate check upstream drops it)", async () => {
    const { payment } = await paidCharge("captured");
    const hook = fake.signedWebhook({ event: "payment.captured", payment: payment.id }, WEBHOOK_SECRET);
    const first = await gateway.verifyWebhook(hook);
    const again = await gateway.verifyWebhook({ rawBody: hook.rawBody, headers: { ...hook.headers } });
    expect(again.id).toBe(first.id);
  });

  it("the event id comes from the signed body: a replay under another x-razorpay-event-id has the same one", async () => {
    const { payment } = await paidCharge("captured");
    const hook = fake.signedWebhook({ event: "payment.captured", payment: payment.id }, WEBHOOK_SECRET);
    const first = await gateway.verifyWebhook(hook);
    const replay = await gateway.verifyWebhook({
      rawBody: hook.rawBody,
      headers: { ...hook.headers, "x-razorpay-event-id": "evt_made_up_by_a_replayer" },
    });
    expect(replay.id).toBe(first.id);
    const { "x-razorpay-event-id": _, ...without } = hook.headers;
    expect((await gateway.verifyWebhook({ rawBody: hook.rawBody, headers: without })).id).toBe(first.id);
  });
});

describe("razorpayProvider", () => {
  it("needs the key pair and the webhook secret, and builds an adapter from the environment", async () => {
    expect(razorpayProvider.provider).toBe("razorpay");
    expect(razorpayProvider.requiredVariables).toEqual(["RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET"]);
    const built = razorpayProvider.create({
      RAZORPAY_KEY_ID: fake.keyId,
      RAZORPAY_KEY_SECRET: fake.keySecret,
      RAZORPAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
      RAZORPAY_API_BASE: fake.url,
    });
    expect(built.provider).toBe("razorpay");
    const req = chargeRequest();
    expect((await built.charge(req)).status).toBe("requires_action");
    expect(ordersFor(req.checkoutId)).toHaveLength(1);
  });
});
