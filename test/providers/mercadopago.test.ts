// The Mercado Pago adapter against a local fake of Mercado Pago's API, over real HTTP.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CurrencyRuleError } from "../../providers/currency-rules.ts";
import { MercadoPagoGateway, mercadopagoProvider } from "../../providers/mercadopago.ts";
import {
  type ChargeRequest,
  GatewayRequestError,
  GatewayUnavailableError,
  WebhookVerificationError,
} from "../../providers/types.ts";
import { FakeMercadoPago } from "../fakes/mercadopago.ts";

const SECRET = "whsec-test-secret";
let fake: FakeMercadoPago;
let gateway: MercadoPagoGateway;
let seq = 0;

beforeAll(async () => {
  fake = await FakeMercadoPago.start();
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(() => {
  gateway = new MercadoPagoGateway({ accessToken: fake.accessToken, webhookSecret: SECRET, baseUrl: fake.url, timeoutMs: 2_000 });
});

function chargeRequest(overrides: Partial<ChargeRequest> = {}): ChargeRequest {
  seq += 1;
  return {
    idempotencyKey: `wf-${seq}:payment`,
    checkoutId: `chk_${seq}`,
    amount: 1999,
    currency: "BRL",
    token: "visa-tok_approved",
    method: "card",
    customerEmail: "ada@example.com",
    ...overrides,
  };
}

const paymentsOf = (checkoutId: string) => fake.payments().filter((p) => p.external_reference === checkoutId);
const lookupOf = (r: ChargeRequest, reference?: string) => ({
  idempotencyKey: r.idempotencyKey,
  checkoutId: r.checkoutId,
  amount: r.amount,
  currency: r.currency,
  reference,
});

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("charge", () => {
  it("approves a card and sends Mercado Pago's documented request", async () => {
    const request = chargeRequest();
    const outcome = await gateway.charge(request);

    const [payment] = paymentsOf(request.checkoutId);
    expect(outcome).toEqual({ status: "succeeded", reference: String(payment.id) });
    const sent = fake.requests.findLast((r) => r.method === "POST" && r.path === "/v1/payments")!;
    expect(sent.headers.authorization).toBe(`Bearer ${fake.accessToken}`);
    expect(sent.headers["x-idempotency-key"]).toBe(request.idempotencyKey);
    expect(sent.body).toEqual({
      transaction_amount: 19.99,
      token: "tok_approved",
      payment_method_id: "visa",
      installments: 1,
      description: `Checkout ${request.checkoutId}`,
      external_reference: request.checkoutId,
      metadata: { checkout_id: request.checkoutId, idempotency_key: request.idempotencyKey },
      payer: { email: "ada@example.com" },
    });
  });

  it("maps a rejection to a decline with status_detail as the code and a readable reason", async () => {
    const request = chargeRequest({ token: "master-tok_rejected" });
    const outcome = await gateway.charge(request);
    expect(outcome).toEqual({
      status: "declined",
      reference: String(paymentsOf(request.checkoutId)[0].id),
      declineCode: "cc_rejected_insufficient_amount",
      declineReason: "The card has insufficient funds.",
    });
  });

  it("maps in_process to processing", async () => {
    const outcome = await gateway.charge(chargeRequest({ token: "visa-tok_in_process" }));
    expect(outcome).toMatchObject({ status: "processing" });
  });

  it("replays the same payment for the same idempotency key", async () => {
    const request = chargeRequest();
    const first = await gateway.charge(request);
    const second = await gateway.charge(request);
    expect(second).toEqual(first);
    expect(paymentsOf(request.checkoutId)).toHaveLength(1);
  });

  it.each([503, 500, 429])("a %i is a definite, retryable failure; the retry approves", async (status) => {
    const request = chargeRequest();
    fake.failNext(1, status);
    const err = await rejection(gateway.charge(request));
    expect(err).toBeInstanceOf(GatewayUnavailableError);
    expect(err).toMatchObject({ status, outcomeUnknown: false });
    expect(paymentsOf(request.checkoutId)).toHaveLength(0);

    expect(await gateway.charge(request)).toMatchObject({ status: "succeeded" });
    expect(paymentsOf(request.checkoutId)).toHaveLength(1);
  });

  it("a timeout is an unknown outcome, which reconcile resolves to the one payment made", async () => {
    const slow = new MercadoPagoGateway({
      accessToken: fake.accessToken,
      webhookSecret: SECRET,
      baseUrl: fake.url,
      timeoutMs: 200,
    });
    const request = chargeRequest();
    fake.delayNext(1_000);
    const err = await rejection(slow.charge(request));
    expect(err).toBeInstanceOf(GatewayUnavailableError);
    expect(err.outcomeUnknown).toBe(true);

    const [payment] = paymentsOf(request.checkoutId);
    expect(await slow.reconcile(lookupOf(request))).toEqual({ status: "succeeded", reference: String(payment.id) });
    // Charging again under the same key cannot charge twice either.
    expect(await slow.charge(request)).toEqual({ status: "succeeded", reference: String(payment.id) });
    expect(paymentsOf(request.checkoutId)).toHaveLength(1);
  });

  it("a refused connection never reached Mercado Pago: retryable, not an unknown outcome", async () => {
    const gone = await FakeMercadoPago.start();
    const base = gone.url;
    await gone.close();
    const offline = new MercadoPagoGateway({ accessToken: "x", webhookSecret: SECRET, baseUrl: base });
    const err = await rejection(offline.charge(chargeRequest()));
    expect(err).toBeInstanceOf(GatewayUnavailableError);
    expect(err.outcomeUnknown).toBe(false);
  });

  it("bad credentials are a request error (401)", async () => {
    const wrong = new MercadoPagoGateway({ accessToken: "APP_USR-wrong", webhookSecret: SECRET, baseUrl: fake.url });
    const err = await rejection(wrong.charge(chargeRequest()));
    expect(err).toBeInstanceOf(GatewayRequestError);
    expect(err.status).toBe(401);
  });

  it("a card token without its brand prefix is refused by Mercado Pago (400), a request error", async () => {
    const err = await rejection(gateway.charge(chargeRequest({ token: "tok_approved" })));
    expect(err).toBeInstanceOf(GatewayRequestError);
    expect(err.status).toBe(400);
    expect(err.message).toContain("payment_method_id");
  });

  it("refuses a currency Mercado Pago does not charge in, and a method it does not take, before sending", async () => {
    const before = fake.requests.length;
    await expect(gateway.charge(chargeRequest({ currency: "USD" }))).rejects.toBeInstanceOf(GatewayRequestError);
    await expect(gateway.charge(chargeRequest({ method: "wallet" }))).rejects.toBeInstanceOf(GatewayRequestError);
    expect(fake.requests.length).toBe(before);
  });
});

describe("QR (PIX)", () => {
  it("asks the customer to scan a QR code, then reconciles to the settled outcome", async () => {
    const request = chargeRequest({ method: "qr", token: "unused" });
    const outcome = await gateway.charge(request);
    const [payment] = paymentsOf(request.checkoutId);
    expect(payment.payment_method_id).toBe("pix");
    expect(outcome).toEqual({
      status: "requires_action",
      reference: String(payment.id),
      action: {
        type: "qr",
        qrData: payment.point_of_interaction!.transaction_data.qr_code,
        url: payment.point_of_interaction!.transaction_data.ticket_url,
      },
    });
    expect(await gateway.reconcile(lookupOf(request, String(payment.id)))).toEqual(outcome);

    fake.settle(payment.id, "approved");
    expect(await gateway.reconcile(lookupOf(request, String(payment.id)))).toEqual({
      status: "succeeded",
      reference: String(payment.id),
    });
    // Without the reference too: found by checkout and idempotency key.
    expect(await gateway.reconcile(lookupOf(request))).toEqual({ status: "succeeded", reference: String(payment.id) });
  });

  it("a rejected QR payment reconciles to a decline", async () => {
    const request = chargeRequest({ method: "qr" });
    const outcome = await gateway.charge(request);
    fake.settle(outcome.reference!, "rejected");
    expect(await gateway.reconcile(lookupOf(request))).toMatchObject({ status: "declined", reference: outcome.reference });
  });
});

describe("cancel (an expired checkout)", () => {
  it("cancels a pending QR payment, so paying it later takes no money", async () => {
    const request = chargeRequest({ method: "qr" });
    const outcome = await gateway.charge(request);
    const cancelled = await gateway.cancel({ ...lookupOf(request), reference: outcome.reference! });
    expect(cancelled).toMatchObject({ status: "declined", reference: outcome.reference });
    expect(() => fake.settle(outcome.reference!, "approved")).toThrow(/cancelled/);
    expect(paymentsOf(request.checkoutId).map((p) => p.status)).toEqual(["cancelled"]);
  });

  it("reports a payment the customer completed first as succeeded", async () => {
    const request = chargeRequest({ method: "qr" });
    const outcome = await gateway.charge(request);
    fake.settle(outcome.reference!, "approved");
    expect(await gateway.cancel({ ...lookupOf(request), reference: outcome.reference! })).toMatchObject({
      status: "succeeded",
      reference: outcome.reference,
    });
  });
});

describe("reconcile", () => {
  it("is null when no payment was made under the key", async () => {
    expect(await gateway.reconcile(lookupOf(chargeRequest()))).toBeNull();
  });

  it("picks the payment of this key among the checkout's payments", async () => {
    const first = chargeRequest({ token: "visa-tok_rejected" });
    const second = { ...chargeRequest(), checkoutId: first.checkoutId };
    const declined = await gateway.charge(first);
    const approved = await gateway.charge(second);
    expect(await gateway.reconcile(lookupOf(first))).toEqual(declined);
    expect(await gateway.reconcile(lookupOf(second))).toEqual(approved);
    expect(await gateway.reconcile({ ...lookupOf(first), idempotencyKey: "wf-other:payment" })).toBeNull();
  });
});

describe("refund", () => {
  it("refunds partly, then the rest; refuses to refund more than is left", async () => {
    const request = chargeRequest();
    const charge = await gateway.charge(request);
    if (charge.status !== "succeeded") throw new Error(`not approved: ${charge.status}`);
    const refund = (amount: number, key: string) =>
      gateway.refund({
        idempotencyKey: key,
        checkoutId: request.checkoutId,
        chargeReference: charge.reference,
        amount,
        currency: "BRL",
      });

    const partial = await refund(500, `${request.idempotencyKey}:refund-1`);
    expect(partial).toMatchObject({ status: "succeeded" });
    const sent = fake.requests.findLast((r) => r.path.endsWith("/refunds"))!;
    expect(sent.body).toEqual({ amount: 5 });
    expect(sent.headers["x-idempotency-key"]).toBe(`${request.idempotencyKey}:refund-1`);

    // The same key again: the same refund, not a second one.
    expect(await refund(500, `${request.idempotencyKey}:refund-1`)).toEqual(partial);

    const over = await refund(1500, `${request.idempotencyKey}:refund-2`);
    expect(over).toMatchObject({ status: "failed" });
    expect(over.status === "failed" && over.reason).toContain("Invalid refund amount");

    const rest = await refund(1499, `${request.idempotencyKey}:refund-3`);
    expect(rest).toMatchObject({ status: "succeeded" });

    const refunds = fake.refunds().filter((r) => String(r.payment_id) === charge.reference);
    expect(refunds.map((r) => r.amount)).toEqual([5, 14.99]);
    expect(fake.payments().find((p) => String(p.id) === charge.reference)!.status).toBe("refunded");
    // Refunded after it succeeded: reconcile still says it was charged (never charge it again).
    expect(await gateway.reconcile(lookupOf(request, charge.reference))).toEqual(charge);
  });
});

describe("verifyWebhook", () => {
  async function approvedPayment() {
    const request = chargeRequest();
    const charge = await gateway.charge(request);
    return { request, reference: charge.reference! };
  }

  it("verifies a signed notification and fills kind and checkoutId from the payment it fetches", async () => {
    const { request, reference } = await approvedPayment();
    const { rawBody, headers } = fake.signedWebhook(reference, { secret: SECRET });
    const event = await gateway.verifyWebhook({ rawBody, headers });
    const ts = /ts=(\d+)/.exec(headers["x-signature"])![1];
    const manifest = `id:${reference};request-id:${headers["x-request-id"]};ts:${ts};`;
    expect(event).toEqual({
      id: `sha256:${createHash("sha256").update(manifest).digest("hex")}`,
      kind: "payment.succeeded",
      checkoutId: request.checkoutId,
      reference,
      providerType: "payment.updated",
    });
    expect(fake.requests.at(-1)).toMatchObject({ method: "GET", path: `/v1/payments/${reference}` });
  });

  it("the event id comes from the signed manifest: a replay with another body id is the same event", async () => {
    const { reference } = await approvedPayment();
    const genuine = fake.signedWebhook(reference, { secret: SECRET });
    const first = await gateway.verifyWebhook(genuine);
    const body = JSON.parse(genuine.rawBody);
    const replay = await gateway.verifyWebhook({
      rawBody: JSON.stringify({ ...body, id: body.id + 1000 }),
      headers: genuine.headers,
    });
    expect(replay.id).toBe(first.id);
    // Another notification (its own x-request-id and signature) is another event.
    const next = await gateway.verifyWebhook(fake.signedWebhook(reference, { secret: SECRET }));
    expect(next.id).not.toBe(first.id);
  });

  it("maps a pending QR payment to payment.pending and a rejected one to payment.failed", async () => {
    const request = chargeRequest({ method: "qr" });
    const { reference } = await gateway.charge(request);
    const pending = await gateway.verifyWebhook(fake.signedWebhook(reference!, { secret: SECRET }));
    expect(pending).toMatchObject({ kind: "payment.pending", checkoutId: request.checkoutId });
    fake.settle(reference!, "rejected");
    const failed = await gateway.verifyWebhook(fake.signedWebhook(reference!, { secret: SECRET }));
    expect(failed).toMatchObject({ kind: "payment.failed", checkoutId: request.checkoutId });
  });

  it("takes a timestamp in milliseconds as well as in seconds", async () => {
    const { reference } = await approvedPayment();
    const event = await gateway.verifyWebhook(fake.signedWebhook(reference, { secret: SECRET, ts: Date.now() }));
    expect(event.kind).toBe("payment.succeeded");
  });

  it("a notification about a payment Mercado Pago does not know is 'other'", async () => {
    const event = await gateway.verifyWebhook(fake.signedWebhook("123456", { secret: SECRET }));
    expect(event).toMatchObject({ kind: "other", reference: "123456" });
    expect(event.checkoutId).toBeUndefined();
  });

  it("refuses a forged signature, a tampered data.id and a missing header, without asking Mercado Pago", async () => {
    const { reference } = await approvedPayment();
    const before = fake.requests.length;

    const wrongSecret = fake.signedWebhook(reference, { secret: "not-the-secret" });
    await expect(gateway.verifyWebhook(wrongSecret)).rejects.toBeInstanceOf(WebhookVerificationError);

    const genuine = fake.signedWebhook(reference, { secret: SECRET });
    const tampered = genuine.rawBody.replace(`"id":"${reference}"`, `"id":"${Number(reference) + 1}"`);
    expect(tampered).not.toBe(genuine.rawBody);
    await expect(gateway.verifyWebhook({ rawBody: tampered, headers: genuine.headers })).rejects.toBeInstanceOf(
      WebhookVerificationError,
    );

    const otherRequestId = { ...genuine.headers, "x-request-id": "another-request" };
    await expect(gateway.verifyWebhook({ rawBody: genuine.rawBody, headers: otherRequestId })).rejects.toBeInstanceOf(
      WebhookVerificationError,
    );

    const { "x-signature": _, ...unsigned } = genuine.headers;
    await expect(gateway.verifyWebhook({ rawBody: genuine.rawBody, headers: unsigned })).rejects.toBeInstanceOf(
      WebhookVerificationError,
    );
    await expect(
      gateway.verifyWebhook({ rawBody: genuine.rawBody, headers: { ...genuine.headers, "x-signature": "garbage" } }),
    ).rejects.toBeInstanceOf(WebhookVerificationError);

    expect(fake.requests.length).toBe(before);
  });

  it.each([
    ["seconds", () => Math.floor(Date.now() / 1000) - 6 * 60],
    ["milliseconds", () => Date.now() - 6 * 60_000],
    ["seconds, in the future", () => Math.floor(Date.now() / 1000) + 6 * 60],
  ])("refuses a correctly signed but stale timestamp (%s)", async (_unit, ts) => {
    const { reference } = await approvedPayment();
    const stale = fake.signedWebhook(reference, { secret: SECRET, ts: ts() });
    const err = await rejection(gateway.verifyWebhook(stale));
    expect(err).toBeInstanceOf(WebhookVerificationError);
    expect(err.message).toContain("timestamp");
  });
});

describe("mercadopagoProvider", () => {
  it("needs the access token and the webhook secret, and reads the API base from MERCADOPAGO_API_BASE", async () => {
    expect(mercadopagoProvider.requiredVariables).toEqual(["MERCADOPAGO_ACCESS_TOKEN", "MERCADOPAGO_WEBHOOK_SECRET"]);
    const created = mercadopagoProvider.create({
      MERCADOPAGO_ACCESS_TOKEN: fake.accessToken,
      MERCADOPAGO_WEBHOOK_SECRET: SECRET,
      MERCADOPAGO_API_BASE: fake.url,
      MERCADOPAGO_NOTIFICATION_URL: "https://shop.example.com/webhooks/mercadopago",
    });
    expect(created.provider).toBe("mercadopago");
    const request = chargeRequest();
    expect(await created.charge(request)).toMatchObject({ status: "succeeded" });
    expect(paymentsOf(request.checkoutId)[0].notification_url).toBe("https://shop.example.com/webhooks/mercadopago");
  });
});

describe("amounts", () => {
  // transaction_amount is a decimal in major units of the site's currency; Chile and Colombia take
  // whole pesos only (the fakes started here refuse anything else on their own).
  let chile: FakeMercadoPago;
  let colombia: FakeMercadoPago;
  const gatewayOn = (site: FakeMercadoPago) =>
    new MercadoPagoGateway({ accessToken: site.accessToken, webhookSecret: SECRET, baseUrl: site.url, timeoutMs: 2_000 });

  beforeAll(async () => {
    [chile, colombia] = await Promise.all([
      FakeMercadoPago.start({ siteCurrency: "CLP" }),
      FakeMercadoPago.start({ siteCurrency: "COP" }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([chile?.close(), colombia?.close()]);
  });

  const sentAmount = (site: FakeMercadoPago) =>
    (site.requests.findLast((r) => r.method === "POST" && r.path === "/v1/payments")!.body as any).transaction_amount;

  it.each([
    [1999, "BRL", 19.99],
    [1, "BRL", 0.01],
    [1990, "BRL", 19.9],
    [123_456_789, "BRL", 1_234_567.89],
    [999_999_999_999_999, "BRL", 9_999_999_999_999.99],
  ])("charges %i minor units of %s as transaction_amount %d", async (amount, currency, decimal) => {
    const request = chargeRequest({ amount, currency });
    expect(await gateway.charge(request)).toMatchObject({ status: "succeeded" });
    expect(sentAmount(fake)).toBe(decimal);
    const raw = fake.requests.findLast((r) => r.method === "POST" && r.path === "/v1/payments")!;
    expect(JSON.stringify(raw.body)).toContain(`"transaction_amount":${String(decimal)}`);
  });

  it("charges CLP (no minor units) in whole pesos at a Chilean account", async () => {
    expect(await gatewayOn(chile).charge(chargeRequest({ amount: 5000, currency: "CLP" }))).toMatchObject({
      status: "succeeded",
    });
    expect(sentAmount(chile)).toBe(5000);
    expect(chile.payments().at(-1)).toMatchObject({ transaction_amount: 5000, currency_id: "CLP" });
  });

  it("charges COP (two ISO decimals) in whole pesos at a Colombian account, and refuses centavos before sending", async () => {
    const colombian = gatewayOn(colombia);
    expect(await colombian.charge(chargeRequest({ amount: 500_000, currency: "COP" }))).toMatchObject({ status: "succeeded" });
    expect(sentAmount(colombia)).toBe(5000);

    const before = colombia.requests.length;
    const err = await rejection(colombian.charge(chargeRequest({ amount: 500_050, currency: "COP" })));
    expect(err).toBeInstanceOf(CurrencyRuleError);
    expect(err).toMatchObject({
      field: "amount",
      message: expect.stringContaining("mercadopago takes COP only in multiples of 1.00 COP"),
    });
    expect(colombia.requests).toHaveLength(before);
  });

  it("refunds COP in whole pesos", async () => {
    const colombian = gatewayOn(colombia);
    const request = chargeRequest({ amount: 500_000, currency: "COP" });
    const charge = await colombian.charge(request);
    const refund = await colombian.refund({
      idempotencyKey: `${request.idempotencyKey}:refund`,
      checkoutId: request.checkoutId,
      chargeReference: charge.reference!,
      amount: 120_000,
      currency: "COP",
    });
    expect(refund).toMatchObject({ status: "succeeded" });
    expect(colombia.requests.at(-1)!.body).toEqual({ amount: 1200 });
    expect(colombia.refunds().at(-1)!.amount).toBe(1200);
  });

  it("the fakes themselves refuse decimals where the site takes whole pesos", async () => {
    const post = (site: FakeMercadoPago, transaction_amount: number) =>
      fetch(`${site.url}/v1/payments`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${site.accessToken}`,
          "content-type": "application/json",
          "x-idempotency-key": `k-${Math.random()}`,
        },
        body: JSON.stringify({
          transaction_amount,
          payer: { email: "a@example.com" },
          payment_method_id: "visa",
          token: "tok_approved",
        }),
      }).then((res) => res.status);
    expect(await post(chile, 5000.5)).toBe(400);
    expect(await post(colombia, 5000.5)).toBe(400);
    expect(await post(fake, 50.005)).toBe(400);
    expect(await post(chile, 5000)).toBe(201);
    expect(await post(fake, 5000.5)).toBe(201);
  });
});
