// The PayPal adapter against a local fake of PayPal's REST API, over real HTTP.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CurrencyRuleError } from "../../providers/currency-rules.ts";
import { PayPalGateway, paypalProvider } from "../../providers/paypal.ts";
import {
  type ChargeRequest,
  GatewayRequestError,
  GatewayUnavailableError,
  WebhookVerificationError,
} from "../../providers/types.ts";
import { FakePayPal } from "../fakes/paypal.ts";

let fake: FakePayPal;
let gateway: PayPalGateway;

const gatewayFor = (timeoutMs = 2_000) =>
  new PayPalGateway({
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    webhookId: fake.webhookId,
    baseUrl: fake.url,
    timeoutMs,
  });

const chargeRequest = (overrides: Partial<ChargeRequest> = {}): ChargeRequest => ({
  idempotencyKey: `wf-${randomUUID()}:charge`,
  checkoutId: `chk_${randomUUID()}`,
  amount: 3998,
  currency: "USD",
  token: "paypal",
  method: "paypal",
  customerEmail: "ada@example.com",
  returnUrl: "https://shop.example.com/checkouts/return",
  ...overrides,
});

const lookupOf = (request: ChargeRequest, reference?: string) => ({
  idempotencyKey: request.idempotencyKey,
  checkoutId: request.checkoutId,
  amount: request.amount,
  currency: request.currency,
  ...(reference ? { reference } : {}),
});

const ordersFor = (checkoutId: string) => fake.orders().filter((o) => o.purchase_units[0].custom_id === checkoutId);
const capturesFor = (orderId: string) => fake.captures().filter((c) => c.supplementary_data.related_ids.order_id === orderId);

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection, got a result");
}

/** Charges, has the buyer approve, and reconciles: a captured order. */
async function paidOrder(overrides: Partial<ChargeRequest> = {}) {
  const request = chargeRequest(overrides);
  const started = await gateway.charge(request);
  if (started.status !== "requires_action") throw new Error(`expected requires_action, got ${started.status}`);
  fake.approve(started.reference);
  const outcome = await gateway.reconcile(lookupOf(request, started.reference));
  expect(outcome).toEqual({ status: "succeeded", reference: started.reference });
  return { request, orderId: started.reference };
}

beforeAll(async () => {
  fake = await FakePayPal.start();
});

afterAll(async () => {
  await fake?.close();
});

beforeEach(() => {
  gateway = gatewayFor();
});

describe("charge", () => {
  it("creates one order and answers requires_action with the payer-action link", async () => {
    const request = chargeRequest();
    const outcome = await gateway.charge(request);

    expect(outcome.status).toBe("requires_action");
    if (outcome.status !== "requires_action") return;
    expect(outcome.action).toEqual({ type: "redirect", url: `${fake.url}/checkoutnow?token=${outcome.reference}` });

    const [order] = ordersFor(request.checkoutId);
    expect(ordersFor(request.checkoutId)).toHaveLength(1);
    expect(order.id).toBe(outcome.reference);
    expect(order.status).toBe("PAYER_ACTION_REQUIRED");
    expect(order.purchase_units[0]).toMatchObject({
      reference_id: request.checkoutId,
      custom_id: request.checkoutId,
      invoice_id: request.idempotencyKey,
      amount: { currency_code: "USD", value: "39.98" },
    });

    const create = fake
      .requests()
      .find((r) => r.path === "/v2/checkout/orders" && r.body?.purchase_units?.[0]?.custom_id === request.checkoutId);
    expect(create?.requestId).toBe(request.idempotencyKey);
    expect(create?.body.payment_source.paypal.experience_context).toMatchObject({
      return_url: request.returnUrl,
      cancel_url: request.returnUrl,
    });
  });

  it("without a return URL creates the order without a payment source: an approve link", async () => {
    const request = chargeRequest({ returnUrl: undefined });
    const outcome = await gateway.charge(request);

    expect(outcome).toMatchObject({ status: "requires_action", action: { type: "redirect" } });
    const [order] = ordersFor(request.checkoutId);
    expect(order.status).toBe("CREATED");
    expect(order.links.find((l: any) => l.rel === "approve")?.href).toBe((outcome as any).action.url);
  });

  it("sent again under the same key answers the same order (PayPal-Request-Id)", async () => {
    const request = chargeRequest();
    const first = await gateway.charge(request);
    const second = await gateway.charge(request);

    expect(second).toEqual(first);
    expect(ordersFor(request.checkoutId)).toHaveLength(1);
  });

  it("reuses the access token until it expires", async () => {
    const before = fake.tokenRequests();
    const request = chargeRequest();
    const started = await gateway.charge(request);
    await gateway.charge(chargeRequest());
    await gateway.reconcile(lookupOf(request, started.reference));
    expect(fake.tokenRequests() - before).toBe(1);
  });

  it("gets a new access token when PayPal no longer honours the cached one", async () => {
    await gateway.charge(chargeRequest());
    const before = fake.tokenRequests();
    fake.revokeTokens();

    const outcome = await gateway.charge(chargeRequest());
    expect(outcome.status).toBe("requires_action");
    expect(fake.tokenRequests() - before).toBe(1);
  });

  it("refuses wrong client credentials as a request error, not a retryable one", async () => {
    const wrong = new PayPalGateway({ clientId: "nope", clientSecret: "nope", webhookId: fake.webhookId, baseUrl: fake.url });
    const error = await wrong.charge(chargeRequest()).catch((e) => e);
    expect(error).toBeInstanceOf(GatewayRequestError);
    expect(error.status).toBe(401);
  });

  it.each([500, 503, 429])("a %i is a definite, retryable failure; the retry makes one order", async (status) => {
    const request = chargeRequest();
    await gateway.charge(chargeRequest()); // the token is cached: failNext hits the create
    fake.failNext(1, status);

    const error = await gateway.charge(request).catch((e) => e);
    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(error).toMatchObject({ status, outcomeUnknown: false });
    expect(ordersFor(request.checkoutId)).toHaveLength(0);

    const outcome = await gateway.charge(request);
    expect(outcome.status).toBe("requires_action");
    expect(ordersFor(request.checkoutId)).toHaveLength(1);
  });

  it("a timeout is an unknown outcome; reconcile without a reference finds the one order", async () => {
    const slow = gatewayFor(300);
    await slow.charge(chargeRequest()); // token cached
    const request = chargeRequest();
    fake.delayNext(1_500);

    const error = await slow.charge(request).catch((e) => e);
    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(error.outcomeUnknown).toBe(true);
    // The request reached PayPal: the order exists although the answer was lost.
    expect(ordersFor(request.checkoutId)).toHaveLength(1);

    const outcome = await slow.reconcile(lookupOf(request));
    expect(outcome).toMatchObject({ status: "requires_action", reference: ordersFor(request.checkoutId)[0].id });
    expect(ordersFor(request.checkoutId)).toHaveLength(1);
  });

  it("a 400 from PayPal is a request error", async () => {
    await gateway.charge(chargeRequest());
    fake.failNext(1, 400);
    await expect(gateway.charge(chargeRequest())).rejects.toBeInstanceOf(GatewayRequestError);
  });

  it("an unreachable PayPal is an unknown outcome for a charge", async () => {
    const closed = await FakePayPal.start();
    const url = closed.url;
    await closed.close();
    const offline = new PayPalGateway({ clientId: "a", clientSecret: "b", webhookId: "c", baseUrl: url });
    // The token request fails first: nothing about the charge was sent.
    await expect(offline.charge(chargeRequest())).rejects.toMatchObject({
      name: "GatewayUnavailableError",
      outcomeUnknown: false,
    });
  });
});

describe("reconcile", () => {
  it("before the buyer acts, answers requires_action again and captures nothing", async () => {
    const request = chargeRequest();
    const started = await gateway.charge(request);
    const outcome = await gateway.reconcile(lookupOf(request, started.reference));
    expect(outcome).toEqual(started);
    expect(capturesFor(started.reference as string)).toHaveLength(0);
  });

  it("once the buyer approved, captures exactly once and answers succeeded with the order id", async () => {
    const request = chargeRequest();
    const started = await gateway.charge(request);
    const orderId = started.reference as string;
    fake.approve(orderId);

    expect(await gateway.reconcile(lookupOf(request, orderId))).toEqual({ status: "succeeded", reference: orderId });
    expect(await gateway.reconcile(lookupOf(request, orderId))).toEqual({ status: "succeeded", reference: orderId });
    // Without the reference too: the create replays under the key and finds the completed order.
    expect(await gateway.reconcile(lookupOf(request))).toEqual({ status: "succeeded", reference: orderId });

    const captures = capturesFor(orderId);
    expect(captures).toHaveLength(1);
    expect(captures[0]).toMatchObject({ status: "COMPLETED", amount: { currency_code: "USD", value: "39.98" } });
    expect(fake.order(orderId).status).toBe("COMPLETED");
    const captureRequests = fake.requests().filter((r) => r.path === `/v2/checkout/orders/${orderId}/capture`);
    expect(captureRequests.map((r) => r.requestId)).toEqual([`${request.idempotencyKey}:capture`]);
  });

  it("the buyer's funding source declined at capture: declined, final", async () => {
    const request = chargeRequest();
    const orderId = (await gateway.charge(request)).reference as string;
    fake.decline(orderId);

    const outcome = await gateway.reconcile(lookupOf(request, orderId));
    expect(outcome).toMatchObject({ status: "declined", reference: orderId, declineCode: "instrument_declined" });
    expect(capturesFor(orderId)).toHaveLength(0);
  });

  it("a capture that comes back DECLINED: declined", async () => {
    const request = chargeRequest();
    const orderId = (await gateway.charge(request)).reference as string;
    fake.decline(orderId, "capture_declined");

    const outcome = await gateway.reconcile(lookupOf(request, orderId));
    expect(outcome).toMatchObject({ status: "declined", reference: orderId, declineCode: "capture_declined" });
    // Asked again, the completed order still says declined (no second capture).
    expect(await gateway.reconcile(lookupOf(request, orderId))).toMatchObject({ status: "declined" });
    expect(capturesFor(orderId)).toHaveLength(1);
  });

  it("a voided order: declined", async () => {
    const request = chargeRequest();
    const orderId = (await gateway.charge(request)).reference as string;
    fake.decline(orderId, "voided");

    expect(await gateway.reconcile(lookupOf(request, orderId))).toMatchObject({
      status: "declined",
      reference: orderId,
      declineCode: "order_voided",
    });
  });

  it("an order PayPal does not know: null (charging again is safe)", async () => {
    expect(await gateway.reconcile(lookupOf(chargeRequest(), "0NOSUCHORDER0000"))).toBeNull();
  });

  it("without a reference and nothing under the key, creates the order once", async () => {
    const request = chargeRequest();
    const first = await gateway.reconcile(lookupOf(request));
    const second = await gateway.reconcile(lookupOf(request));
    expect(first).toMatchObject({ status: "requires_action" });
    expect(second).toEqual(first);
    expect(ordersFor(request.checkoutId)).toHaveLength(1);
    // The lookup had no return URL: an approve link without a payment source.
    expect(ordersFor(request.checkoutId)[0].status).toBe("CREATED");
  });

  it("without a reference, given the charge's return URL, creates the order charge would", async () => {
    const request = chargeRequest();
    await gateway.charge(chargeRequest()); // token cached: failNext hits the create
    fake.failNext(1, 500);
    await expect(gateway.charge(request)).rejects.toMatchObject({ status: 500, outcomeUnknown: false });

    // The retry asks first (as the payment activity does), passing the charge's return URL along.
    const outcome = await gateway.reconcile({
      ...lookupOf(request),
      returnUrl: request.returnUrl,
      customerEmail: request.customerEmail,
    });
    expect(outcome).toMatchObject({ status: "requires_action" });
    const [order] = ordersFor(request.checkoutId);
    expect(order.status).toBe("PAYER_ACTION_REQUIRED");
    const create = fake
      .requests()
      .filter((r) => r.requestId === request.idempotencyKey)
      .at(-1);
    expect(create?.body.payment_source.paypal.experience_context.return_url).toBe(request.returnUrl);
    expect(await gateway.charge(request)).toEqual(outcome);
    expect(ordersFor(request.checkoutId)).toHaveLength(1);
  });
});

describe("a capture whose answer is lost", () => {
  it("is replayed, not repeated, by the next reconcile", async () => {
    const slow = gatewayFor(300);
    const request = chargeRequest();
    const orderId = (await slow.charge(request)).reference as string;
    fake.approve(orderId);
    fake.delayNext(1_500, /\/capture$/);

    const error = await slow.reconcile(lookupOf(request, orderId)).catch((e) => e);
    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(error.outcomeUnknown).toBe(true);
    // The capture happened although its answer was lost.
    expect(capturesFor(orderId)).toHaveLength(1);

    expect(await slow.reconcile(lookupOf(request, orderId))).toEqual({ status: "succeeded", reference: orderId });
    expect(capturesFor(orderId)).toHaveLength(1);
  });

  it("a timed-out read is a retryable failure that changed nothing", async () => {
    const slow = gatewayFor(300);
    const request = chargeRequest();
    const orderId = (await slow.charge(request)).reference as string;
    fake.approve(orderId);
    fake.delayNext(1_500, /^\/v2\/checkout\/orders\/[^/]+$/);

    await expect(slow.reconcile(lookupOf(request, orderId))).rejects.toMatchObject({
      name: "GatewayUnavailableError",
      outcomeUnknown: false,
    });
    expect(capturesFor(orderId)).toHaveLength(0);
  });
});

describe("refund", () => {
  it("refunds part, then the rest, of the order's capture; then refuses more", async () => {
    const { request, orderId } = await paidOrder({ amount: 5000 });
    const [capture] = capturesFor(orderId);
    const refund = (amount: number, key = `${request.idempotencyKey}:refund:${randomUUID()}`) =>
      gateway.refund({ idempotencyKey: key, checkoutId: request.checkoutId, chargeReference: orderId, amount, currency: "USD" });

    const partial = await refund(1250);
    expect(partial).toMatchObject({ status: "succeeded" });
    expect(fake.captures().find((c) => c.id === capture.id).status).toBe("PARTIALLY_REFUNDED");

    const rest = await refund(3750);
    expect(rest).toMatchObject({ status: "succeeded" });
    expect(fake.captures().find((c) => c.id === capture.id).status).toBe("REFUNDED");

    const refunds = fake.refunds().filter((r) => r.links.some((l: any) => l.rel === "up" && l.href.endsWith(capture.id)));
    expect(refunds.map((r) => r.amount)).toEqual([
      { currency_code: "USD", value: "12.50" },
      { currency_code: "USD", value: "37.50" },
    ]);
    expect(refunds.map((r) => r.id)).toEqual([(partial as any).reference, (rest as any).reference]);
    expect(refunds[0].custom_id).toBe(request.checkoutId);

    // Nothing left: PayPal refuses (CAPTURE_FULLY_REFUNDED) and the adapter answers failed.
    const over = await refund(1);
    expect(over).toMatchObject({ status: "failed" });
    expect((over as any).reason).toContain("CAPTURE_FULLY_REFUNDED");
    expect(fake.refunds().filter((r) => r.links.some((l: any) => l.href.endsWith(capture.id)))).toHaveLength(2);
  });

  it("more than what is left is refused by PayPal (REFUND_AMOUNT_EXCEEDED) and answers failed", async () => {
    const { request, orderId } = await paidOrder({ amount: 5000 });
    const base = { checkoutId: request.checkoutId, chargeReference: orderId, currency: "USD" };

    expect(await gateway.refund({ ...base, idempotencyKey: `${request.idempotencyKey}:r1`, amount: 4000 })).toMatchObject({
      status: "succeeded",
    });
    const refused = await gateway.refund({ ...base, idempotencyKey: `${request.idempotencyKey}:r2`, amount: 1001 });
    expect(refused.status).toBe("failed");
    expect((refused as any).reason).toContain("REFUND_AMOUNT_EXCEEDED");
    expect(refused).not.toHaveProperty("reference");
    const [capture] = capturesFor(orderId);
    expect(capture.status).toBe("PARTIALLY_REFUNDED");
  });

  it("sent again under the same key refunds once", async () => {
    const { request, orderId } = await paidOrder({ amount: 2000 });
    const refundRequest = {
      idempotencyKey: `${request.idempotencyKey}:refund`,
      checkoutId: request.checkoutId,
      chargeReference: orderId,
      amount: 500,
      currency: "USD",
    };
    const first = await gateway.refund(refundRequest);
    const second = await gateway.refund(refundRequest);
    expect(second).toEqual(first);
    expect(capturesFor(orderId)[0].status).toBe("PARTIALLY_REFUNDED");
    expect(fake.refunds().filter((r) => r.id === (first as any).reference)).toHaveLength(1);
    const refundRequests = fake
      .requests()
      .filter((r) => r.path.endsWith("/refund") && r.requestId === refundRequest.idempotencyKey);
    expect(refundRequests).toHaveLength(2);
  });

  it("an order that was never captured has nothing to refund", async () => {
    const request = chargeRequest();
    const orderId = (await gateway.charge(request)).reference as string;
    const outcome = await gateway.refund({
      idempotencyKey: `${request.idempotencyKey}:refund`,
      checkoutId: request.checkoutId,
      chargeReference: orderId,
      amount: 100,
      currency: "USD",
    });
    expect(outcome).toMatchObject({ status: "failed" });
    expect((outcome as any).reason).toContain("no refundable capture");
  });
});

describe("amounts", () => {
  // What PayPal takes (https://developer.paypal.com/reference/currency-codes/): the fake refuses any
  // other value, so a wrong conversion fails here twice, on the value and on the fake's answer.
  it.each([
    [3998, "USD", "39.98"],
    [5, "USD", "0.05"],
    [100, "EUR", "1.00"],
    [1500, "JPY", "1500"],
    [7, "JPY", "7"],
    [500_000, "HUF", "5000"],
    [12_300, "TWD", "123"],
    [999_999_999, "USD", "9999999.99"],
    [999_999_900, "HUF", "9999999"],
  ])("charges %i minor units of %s as the value %s", async (amount, currency, value) => {
    const request = chargeRequest({ amount, currency });
    expect(await gateway.charge(request)).toMatchObject({ status: "requires_action" });
    expect(ordersFor(request.checkoutId)[0].purchase_units[0].amount).toEqual({ currency_code: currency, value });
  });

  it.each([
    [500_050, "HUF", "amount"], // 5,000.50 HUF: PayPal takes whole forint only
    [12_345, "TWD", "amount"],
    [1_000_000_000, "USD", "amount"], // 10,000,000.00: above PayPal's 9,999,999.99
    [10_000_000, "JPY", "amount"],
    [5_000, "ISK", "currency"],
    [10_000, "MGA", "currency"],
    [1_230, "KWD", "currency"],
    [12_340, "BHD", "currency"],
    [100, "XX", "currency"],
    [0, "USD", "amount"],
    [12.5, "USD", "amount"],
  ])("refuses %d %s before sending anything (field %s)", async (amount, currency, field) => {
    const before = fake.requests().length;
    const err = await rejection(gateway.charge(chargeRequest({ amount, currency })));
    expect(err).toBeInstanceOf(CurrencyRuleError);
    expect(err).toBeInstanceOf(GatewayRequestError);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(/paypal|ISO 4217|amount/);
    expect(fake.requests()).toHaveLength(before);
  });

  it("the fake itself refuses what PayPal refuses: decimals for HUF, values above 9999999.99, other currencies", async () => {
    const token = await fetch(`${fake.url}/v1/oauth2/token`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${fake.clientId}:${fake.clientSecret}`).toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=client_credentials",
    }).then(async (res) => ((await res.json()) as { access_token: string }).access_token);
    const createOrder = async (amount: { currency_code: string; value: string }) => {
      const res = await fetch(`${fake.url}/v2/checkout/orders`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ intent: "CAPTURE", purchase_units: [{ amount }] }),
      });
      return { status: res.status, issue: ((await res.json()) as any).details?.[0]?.issue };
    };
    expect(await createOrder({ currency_code: "HUF", value: "5000.50" })).toEqual({
      status: 422,
      issue: "DECIMALS_NOT_SUPPORTED",
    });
    expect(await createOrder({ currency_code: "USD", value: "10000000.00" })).toEqual({
      status: 422,
      issue: "MAX_VALUE_EXCEEDED",
    });
    expect(await createOrder({ currency_code: "JPY", value: "10000000" })).toEqual({ status: 422, issue: "MAX_VALUE_EXCEEDED" });
    expect(await createOrder({ currency_code: "ISK", value: "5000" })).toEqual({ status: 422, issue: "CURRENCY_NOT_SUPPORTED" });
    expect(await createOrder({ currency_code: "USD", value: "39.985" })).toEqual({ status: 422, issue: "DECIMAL_PRECISION" });
    expect((await createOrder({ currency_code: "USD", value: "9999999.99" })).status).toBe(201);
  });

  it("refunds HUF in whole forint, and refuses a refund with fillér before asking PayPal", async () => {
    const { request, orderId } = await paidOrder({ amount: 500_000, currency: "HUF" });
    const refund = await gateway.refund({
      idempotencyKey: `${request.idempotencyKey}:refund`,
      checkoutId: request.checkoutId,
      chargeReference: orderId,
      amount: 100_000,
      currency: "HUF",
    });
    expect(refund.status).toBe("succeeded");
    expect(fake.refunds().find((r) => r.id === (refund as any).reference).amount).toEqual({
      currency_code: "HUF",
      value: "1000",
    });

    const before = fake.requests().length;
    const err = await rejection(
      gateway.refund({
        idempotencyKey: `${request.idempotencyKey}:refund-2`,
        checkoutId: request.checkoutId,
        chargeReference: orderId,
        amount: 100_050,
        currency: "HUF",
      }),
    );
    expect(err).toBeInstanceOf(CurrencyRuleError);
    expect(fake.requests()).toHaveLength(before);
  });

  it("charges, captures and refunds JPY in whole yen", async () => {
    const { request, orderId } = await paidOrder({ amount: 1500, currency: "JPY" });
    expect(fake.order(orderId).purchase_units[0].amount).toEqual({ currency_code: "JPY", value: "1500" });
    expect(capturesFor(orderId)[0].amount).toEqual({ currency_code: "JPY", value: "1500" });

    const refund = await gateway.refund({
      idempotencyKey: `${request.idempotencyKey}:refund`,
      checkoutId: request.checkoutId,
      chargeReference: orderId,
      amount: 500,
      currency: "JPY",
    });
    expect(refund.status).toBe("succeeded");
    expect(fake.refunds().find((r) => r.id === (refund as any).reference).amount).toEqual({ currency_code: "JPY", value: "500" });
  });
});

describe("verifyWebhook", () => {
  it("verifies a delivery through PayPal and maps a completed capture", async () => {
    const { request, orderId } = await paidOrder();
    const [capture] = capturesFor(orderId);
    const delivery = fake.webhook("PAYMENT.CAPTURE.COMPLETED", capture);

    const event = await gateway.verifyWebhook(delivery);
    expect(event).toEqual({
      id: JSON.parse(delivery.rawBody).id,
      kind: "payment.succeeded",
      checkoutId: request.checkoutId,
      reference: orderId,
      providerType: "PAYMENT.CAPTURE.COMPLETED",
    });
    expect(fake.verifications().at(-1)).toEqual({
      transmissionId: delivery.headers["paypal-transmission-id"],
      status: "SUCCESS",
    });
  });

  it("maps an approved order to payment.pending (the workflow then reconciles and captures)", async () => {
    const request = chargeRequest();
    const orderId = (await gateway.charge(request)).reference as string;
    fake.approve(orderId);

    const event = await gateway.verifyWebhook(fake.webhook("CHECKOUT.ORDER.APPROVED", fake.order(orderId)));
    expect(event).toMatchObject({ kind: "payment.pending", checkoutId: request.checkoutId, reference: orderId });
  });

  it("maps a refund and a declined capture, and anything else to other", async () => {
    const { request, orderId } = await paidOrder();
    const refund = await gateway.refund({
      idempotencyKey: `${request.idempotencyKey}:refund`,
      checkoutId: request.checkoutId,
      chargeReference: orderId,
      amount: 100,
      currency: "USD",
    });
    const refundResource = fake.refunds().find((r) => r.id === (refund as any).reference);
    expect(await gateway.verifyWebhook(fake.webhook("PAYMENT.CAPTURE.REFUNDED", refundResource))).toMatchObject({
      kind: "refund.succeeded",
      checkoutId: request.checkoutId,
    });

    const [capture] = capturesFor(orderId);
    for (const type of ["PAYMENT.CAPTURE.DECLINED", "PAYMENT.CAPTURE.DENIED"]) {
      expect(await gateway.verifyWebhook(fake.webhook(type, { ...capture, status: "DECLINED" }))).toMatchObject({
        kind: "payment.failed",
        reference: orderId,
        checkoutId: request.checkoutId,
      });
    }
    expect(await gateway.verifyWebhook(fake.webhook("CUSTOMER.DISPUTE.CREATED", { dispute_id: "PP-D-1" }))).toMatchObject({
      kind: "other",
      providerType: "CUSTOMER.DISPUTE.CREATED",
      checkoutId: undefined,
    });
  });

  it("refuses a tampered body", async () => {
    const { orderId } = await paidOrder();
    const delivery = fake.webhook("PAYMENT.CAPTURE.COMPLETED", capturesFor(orderId)[0]);
    const forged = delivery.rawBody.replace('"value":"39.98"', '"value":"0.01"');
    expect(forged).not.toBe(delivery.rawBody);

    await expect(gateway.verifyWebhook({ rawBody: forged, headers: delivery.headers })).rejects.toBeInstanceOf(
      WebhookVerificationError,
    );
    expect(fake.verifications().at(-1)?.status).toBe("FAILURE");
  });

  it("refuses a signature made for another delivery", async () => {
    const one = fake.webhook("PAYMENT.CAPTURE.COMPLETED", { id: "CAP1", custom_id: "chk_a" });
    const two = fake.webhook("PAYMENT.CAPTURE.COMPLETED", { id: "CAP2", custom_id: "chk_b" });
    await expect(
      gateway.verifyWebhook({
        rawBody: two.rawBody,
        headers: { ...two.headers, "paypal-transmission-sig": one.headers["paypal-transmission-sig"] },
      }),
    ).rejects.toBeInstanceOf(WebhookVerificationError);
  });

  it("refuses a delivery verified against another webhook id", async () => {
    const other = new PayPalGateway({
      clientId: fake.clientId,
      clientSecret: fake.clientSecret,
      webhookId: "9XX99999XX9999999",
      baseUrl: fake.url,
    });
    await expect(other.verifyWebhook(fake.webhook("PAYMENT.CAPTURE.COMPLETED", { id: "CAP3" }))).rejects.toBeInstanceOf(
      WebhookVerificationError,
    );
  });

  it("refuses a stale delivery (transmission time over 5 minutes ago) without asking PayPal", async () => {
    const before = fake.verifications().length;
    const stale = fake.webhook("PAYMENT.CAPTURE.COMPLETED", { id: "CAP4" }, { time: new Date(Date.now() - 6 * 60_000) });
    await expect(gateway.verifyWebhook(stale)).rejects.toThrow(/5 minutes/);
    expect(fake.verifications()).toHaveLength(before);

    // Four minutes old is still fine.
    const recent = fake.webhook("PAYMENT.CAPTURE.COMPLETED", { id: "CAP5" }, { time: new Date(Date.now() - 4 * 60_000) });
    await expect(gateway.verifyWebhook(recent)).resolves.toMatchObject({ kind: "payment.succeeded" });
  });

  it("a delivery PayPal will not verify (400) is refused; PayPal being down (503) is retryable", async () => {
    await gateway.charge(chargeRequest()); // token cached: failNext hits the verification
    fake.failNext(1, 400);
    await expect(gateway.verifyWebhook(fake.webhook("PAYMENT.CAPTURE.COMPLETED", { id: "CAP7" }))).rejects.toBeInstanceOf(
      WebhookVerificationError,
    );
    fake.failNext(1, 503);
    await expect(gateway.verifyWebhook(fake.webhook("PAYMENT.CAPTURE.COMPLETED", { id: "CAP8" }))).rejects.toMatchObject({
      name: "GatewayUnavailableError",
      status: 503,
    });
  });

  it("refuses missing headers and a body that is not JSON", async () => {
    const delivery = fake.webhook("PAYMENT.CAPTURE.COMPLETED", { id: "CAP6" });
    const { "paypal-transmission-sig": _, ...unsigned } = delivery.headers;
    await expect(gateway.verifyWebhook({ rawBody: delivery.rawBody, headers: unsigned })).rejects.toBeInstanceOf(
      WebhookVerificationError,
    );
    await expect(gateway.verifyWebhook({ rawBody: "not json", headers: delivery.headers })).rejects.toBeInstanceOf(
      WebhookVerificationError,
    );
  });
});

describe("paypalProvider", () => {
  it("names the variables it needs and builds a gateway on PAYPAL_API_BASE", async () => {
    expect(paypalProvider.provider).toBe("paypal");
    expect(paypalProvider.requiredVariables).toEqual(["PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID"]);

    const built = paypalProvider.create({
      PAYPAL_CLIENT_ID: fake.clientId,
      PAYPAL_CLIENT_SECRET: fake.clientSecret,
      PAYPAL_WEBHOOK_ID: fake.webhookId,
      PAYPAL_API_BASE: `${fake.url}/`,
    });
    expect(built.provider).toBe("paypal");
    await expect(built.charge(chargeRequest())).resolves.toMatchObject({ status: "requires_action" });
  });

  it("refuses to build without its variables", () => {
    expect(() => paypalProvider.create({ PAYPAL_CLIENT_ID: "a", PAYPAL_CLIENT_SECRET: "b" })).toThrow(/PAYPAL_WEBHOOK_ID/);
  });
});
