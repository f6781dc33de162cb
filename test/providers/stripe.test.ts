// The Stripe adapter against the fake Stripe server (test/fakes/stripe.ts), over real HTTP, through
// the official SDK: the fake is just another STRIPE_API_BASE.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../config.ts";
import { CurrencyRuleError } from "../../providers/currency-rules.ts";
import { parseApiBase, StripeGateway, stripeProvider } from "../../providers/stripe.ts";
import {
  type ChargeRequest,
  GatewayRequestError,
  GatewayUnavailableError,
  WebhookVerificationError,
} from "../../providers/types.ts";
import { type FakeStripe, startFakeStripe } from "../fakes/stripe.ts";

const SECRET_KEY = "sk_test_checkout123";
const WEBHOOK_SECRET = "whsec_test_0123456789";

let fake: FakeStripe;
let gateway: StripeGateway;
let seq = 0;

beforeEach(async () => {
  fake = await startFakeStripe({ secretKey: SECRET_KEY });
  gateway = new StripeGateway({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET, apiBase: fake.url, timeoutMs: 5_000 });
});

afterEach(async () => {
  await fake.stop();
});

const chargeRequest = (overrides: Partial<ChargeRequest> = {}): ChargeRequest => {
  seq++;
  return {
    idempotencyKey: `wf-chk_${seq}-charge-1`,
    checkoutId: `chk_${seq}`,
    amount: 5198,
    currency: "USD",
    token: "pm_card_visa",
    method: "card",
    customerEmail: "ada@example.com",
    ...overrides,
  };
};

const lookupFor = (request: ChargeRequest, reference?: string) => ({
  idempotencyKey: request.idempotencyKey,
  checkoutId: request.checkoutId,
  amount: request.amount,
  currency: request.currency,
  ...(reference ? { reference } : {}),
});

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection, got a result");
}

describe("charge", () => {
  it("approves: one succeeded PaymentIntent with our amount, lower-case currency and metadata", async () => {
    const request = chargeRequest();
    const outcome = await gateway.charge(request);
    expect(outcome).toEqual({ status: "succeeded", reference: expect.stringMatching(/^pi_/) });

    const intents = fake.paymentIntents();
    expect(intents).toHaveLength(1);
    expect(intents[0]).toMatchObject({
      id: outcome.reference,
      status: "succeeded",
      amount: 5198,
      amount_received: 5198,
      currency: "usd",
      metadata: { checkout_id: request.checkoutId, idempotency_key: request.idempotencyKey },
      automatic_payment_methods: { enabled: true, allow_redirects: "never" },
      _token: "pm_card_visa",
    });
  });

  it.each([
    ["pm_card_chargeDeclined", "generic_decline"],
    ["pm_card_insufficientFunds", "insufficient_funds"],
  ])("declines %s with decline code %s, and exactly one PaymentIntent exists", async (token, code) => {
    const outcome = await gateway.charge(chargeRequest({ token }));
    expect(outcome).toMatchObject({ status: "declined", declineCode: code, declineReason: expect.stringMatching(/card/) });

    const intents = fake.paymentIntents();
    expect(intents).toHaveLength(1);
    expect(intents[0].status).toBe("requires_payment_method");
    expect(outcome.reference).toBe(intents[0].id);
  });

  it("a 503 to a charge throws GatewayUnavailableError, outcome unknown (it may answer the SDK's resend); the retry charges once", async () => {
    const request = chargeRequest();
    fake.failNext(1, 503);
    const err = await rejection(gateway.charge(request));
    expect(err).toBeInstanceOf(GatewayUnavailableError);
    expect(err.status).toBe(503);
    expect(err.outcomeUnknown).toBe(true);
    expect(fake.paymentIntents()).toHaveLength(0);

    const outcome = await gateway.charge(request);
    expect(outcome.status).toBe("succeeded");
    expect(fake.paymentIntents()).toHaveLength(1);
  });

  it("a 429 to a charge is no proof either", async () => {
    fake.failNext(1, 429);
    const err = await rejection(gateway.charge(chargeRequest()));
    expect(err).toBeInstanceOf(GatewayUnavailableError);
    expect(err).toMatchObject({ status: 429, outcomeUnknown: true });
  });

  it("a charge whose connection closes after it arrived: the SDK resends it under our key; a 503 to the resend is unknown", async () => {
    const request = chargeRequest();
    fake.dropNext({ method: "POST", path: "/v1/payment_intents" });
    fake.failNext(1, 503, undefined, { method: "POST", path: "/v1/payment_intents" });
    const err = await rejection(gateway.charge(request));
    expect(err).toMatchObject({ status: 503, outcomeUnknown: true });
    expect(fake.paymentIntents().map((pi) => pi.status)).toEqual(["succeeded"]);
    expect(await gateway.reconcile(lookupFor(request))).toMatchObject({ status: "succeeded" });
  });

  it("a 500, or a proxy's HTML error page, leaves the outcome unknown (Stripe documents a 500 as indeterminate)", async () => {
    fake.failNext(1, 500);
    const err500 = await rejection(gateway.charge(chargeRequest()));
    expect(err500).toBeInstanceOf(GatewayUnavailableError);
    expect(err500).toMatchObject({ status: 500, outcomeUnknown: true });

    fake.failNext(1, 502, "<html><body>502 Bad Gateway</body></html>");
    const err502 = await rejection(gateway.charge(chargeRequest()));
    expect(err502).toBeInstanceOf(GatewayUnavailableError);
    expect(err502.outcomeUnknown).toBe(true);
  });

  it("a timeout after Stripe received the charge: outcome unknown, reconcile finds it, and nothing is charged twice", async () => {
    const slow = new StripeGateway({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET, apiBase: fake.url, timeoutMs: 300 });
    const request = chargeRequest();
    fake.delayNext(1_500);
    const err = await rejection(slow.charge(request));
    expect(err).toBeInstanceOf(GatewayUnavailableError);
    expect(err.outcomeUnknown).toBe(true);

    // While Stripe still works on the first request, a retry under the same key is turned away.
    const busy = await rejection(slow.charge(request));
    expect(busy).toBeInstanceOf(GatewayUnavailableError);
    expect(busy).toMatchObject({ status: 409, outcomeUnknown: true });

    const found = await slow.reconcile(lookupFor(request));
    expect(found).toEqual({ status: "succeeded", reference: expect.stringMatching(/^pi_/) });
    expect(fake.paymentIntents()).toHaveLength(1);
    expect(fake.paymentIntents()[0].id).toBe(found!.reference);

    // Once the first request finished, a charge under the same key replays it.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await slow.charge(request)).toEqual(found);
    expect(fake.paymentIntents()).toHaveLength(1);
  });

  it("replays a charge made again with the same key: same PaymentIntent, no second one", async () => {
    const request = chargeRequest();
    const first = await gateway.charge(request);
    const second = await gateway.charge(request);
    expect(second).toEqual(first);
    expect(fake.paymentIntents()).toHaveLength(1);

    // A decline replays as a decline.
    const declined = chargeRequest({ token: "pm_card_chargeDeclined" });
    expect(await gateway.charge(declined)).toEqual(await gateway.charge(declined));
    expect(fake.paymentIntents()).toHaveLength(2);
  });

  it("the same key with different parameters is a GatewayRequestError (idempotency_error)", async () => {
    const request = chargeRequest();
    await gateway.charge(request);
    const err = await rejection(gateway.charge({ ...request, amount: request.amount + 1 }));
    expect(err).toBeInstanceOf(GatewayRequestError);
    expect(err.status).toBe(400);
    expect(fake.paymentIntents()).toHaveLength(1);
  });

  it("a wrong secret key is a GatewayRequestError (401)", async () => {
    const wrong = new StripeGateway({ secretKey: "sk_test_wrong", webhookSecret: WEBHOOK_SECRET, apiBase: fake.url });
    const err = await rejection(wrong.charge(chargeRequest()));
    expect(err).toBeInstanceOf(GatewayRequestError);
    expect(err.status).toBe(401);
    expect(fake.paymentIntents()).toHaveLength(0);
  });

  it("invalid parameters are a GatewayRequestError (400)", async () => {
    const err = await rejection(gateway.charge(chargeRequest({ token: "pm_unknown" })));
    expect(err).toBeInstanceOf(GatewayRequestError);
    expect(err.status).toBe(400);
  });

  it("nobody listening: GatewayUnavailableError; a lookup cannot have arrived, a charge is still asked about", async () => {
    const url = fake.url;
    await fake.stop();
    fake = await startFakeStripe();
    const nowhere = new StripeGateway({ secretKey: SECRET_KEY, webhookSecret: WEBHOOK_SECRET, apiBase: url });
    const lookup = await rejection(nowhere.reconcile(lookupFor(chargeRequest())));
    expect(lookup).toBeInstanceOf(GatewayUnavailableError);
    expect(lookup.outcomeUnknown).toBe(false);
    const charge = await rejection(nowhere.charge(chargeRequest()));
    expect(charge).toBeInstanceOf(GatewayUnavailableError);
    expect(charge.outcomeUnknown).toBe(true);
  });
});

describe("requires_action (3-D Secure) and reconcile", () => {
  it("asks for a redirect, then reconcile follows the PaymentIntent to success", async () => {
    const request = chargeRequest({ token: "pm_card_threeDSecure2Required", returnUrl: "https://shop.example/return" });
    const outcome = await gateway.charge(request);
    expect(outcome).toEqual({
      status: "requires_action",
      reference: expect.stringMatching(/^pi_/),
      action: { type: "redirect", url: expect.stringContaining(fake.url) },
    });
    expect(fake.paymentIntents()[0]).toMatchObject({ return_url: "https://shop.example/return", status: "requires_action" });

    expect(await gateway.reconcile(lookupFor(request))).toEqual(outcome);
    fake.completeAction(outcome.reference!, "succeeded");
    expect(await gateway.reconcile(lookupFor(request))).toEqual({ status: "succeeded", reference: outcome.reference });
    expect(await gateway.reconcile(lookupFor(request, outcome.reference))).toEqual({
      status: "succeeded",
      reference: outcome.reference,
    });
    expect(fake.paymentIntents()).toHaveLength(1);
  });

  it("a failed authentication reconciles as a decline", async () => {
    const request = chargeRequest({ token: "pm_card_threeDSecure2Required", returnUrl: "https://shop.example/return" });
    const outcome = await gateway.charge(request);
    fake.completeAction(outcome.reference!, "failed");
    expect(await gateway.reconcile(lookupFor(request, outcome.reference))).toMatchObject({
      status: "declined",
      reference: outcome.reference,
      declineCode: "payment_intent_authentication_failure",
    });
  });

  it("cancel stops an intent awaiting 3-D Secure; a late approval then takes nothing", async () => {
    const request = chargeRequest({ token: "pm_card_threeDSecure2Required", returnUrl: "https://shop.example/return" });
    const outcome = await gateway.charge(request);
    const cancelled = await gateway.cancel({ ...lookupFor(request), reference: outcome.reference! });
    expect(cancelled).toMatchObject({ status: "declined", reference: outcome.reference, declineCode: "canceled" });
    expect(() => fake.completeAction(outcome.reference!, "succeeded")).toThrow(/canceled/);
  });

  it("cancel reports an intent the customer completed first as succeeded", async () => {
    const request = chargeRequest({ token: "pm_card_threeDSecure2Required", returnUrl: "https://shop.example/return" });
    const outcome = await gateway.charge(request);
    fake.completeAction(outcome.reference!, "succeeded");
    expect(await gateway.cancel({ ...lookupFor(request), reference: outcome.reference! })).toEqual({
      status: "succeeded",
      reference: outcome.reference,
    });
  });

  it("processing stays processing until settled", async () => {
    const request = chargeRequest({ token: "pm_card_processing" });
    const outcome = await gateway.charge(request);
    expect(outcome).toEqual({ status: "processing", reference: expect.stringMatching(/^pi_/) });
    fake.completeAction(outcome.reference!, "succeeded");
    expect(await gateway.reconcile(lookupFor(request))).toEqual({ status: "succeeded", reference: outcome.reference });
  });

  it("reconcile returns null when no charge was made under the key, and finds declines", async () => {
    expect(await gateway.reconcile(lookupFor(chargeRequest()))).toBeNull();
    // An unknown reference falls back to the search by key.
    expect(await gateway.reconcile(lookupFor(chargeRequest(), "pi_doesnotexist"))).toBeNull();

    const declined = chargeRequest({ token: "pm_card_chargeDeclined" });
    const outcome = await gateway.charge(declined);
    expect(await gateway.reconcile(lookupFor(declined))).toMatchObject({
      status: "declined",
      reference: outcome.reference,
      declineCode: "generic_decline",
    });
  });

  it("reconcile keeps the two kinds of failure apart too", async () => {
    fake.failNext(1, 503);
    const err = await rejection(gateway.reconcile(lookupFor(chargeRequest())));
    expect(err).toBeInstanceOf(GatewayUnavailableError);
    expect(err.outcomeUnknown).toBe(false);
  });
});

describe("refund", () => {
  async function paidCharge(amount = 10_000) {
    const request = chargeRequest({ amount });
    const outcome = await gateway.charge(request);
    expect(outcome.status).toBe("succeeded");
    return { request, reference: outcome.reference! };
  }
  const refundRequest = (reference: string, checkoutId: string, amount: number, key: string) => ({
    idempotencyKey: key,
    checkoutId,
    chargeReference: reference,
    amount,
    currency: "USD",
  });

  it("partial, then the rest; more than what is left comes back as a failed refund, nothing moved", async () => {
    const { request, reference } = await paidCharge(10_000);

    const partial = await gateway.refund(refundRequest(reference, request.checkoutId, 3_000, "refund-1"));
    expect(partial).toEqual({ status: "succeeded", reference: expect.stringMatching(/^re_/) });

    const tooMuch = await gateway.refund(refundRequest(reference, request.checkoutId, 7_001, "refund-2"));
    expect(tooMuch).toMatchObject({ status: "failed", reason: expect.stringContaining("amount_too_large") });

    const rest = await gateway.refund(refundRequest(reference, request.checkoutId, 7_000, "refund-3"));
    expect(rest).toEqual({ status: "succeeded", reference: expect.stringMatching(/^re_/) });

    const again = await gateway.refund(refundRequest(reference, request.checkoutId, 1, "refund-4"));
    expect(again).toMatchObject({ status: "failed", reason: expect.stringContaining("charge_already_refunded") });

    expect(fake.refunds().map((r) => r.amount)).toEqual([3_000, 7_000]);
    expect(fake.refunds()[0]).toMatchObject({
      payment_intent: reference,
      currency: "usd",
      metadata: { checkout_id: request.checkoutId, idempotency_key: "refund-1" },
    });
  });

  it("a refund retried under the same key is replayed, not made twice", async () => {
    const { request, reference } = await paidCharge(10_000);
    const first = await gateway.refund(refundRequest(reference, request.checkoutId, 2_500, "refund-same"));
    const second = await gateway.refund(refundRequest(reference, request.checkoutId, 2_500, "refund-same"));
    expect(second).toEqual(first);
    expect(fake.refunds()).toHaveLength(1);
  });

  it("an outage during a refund is GatewayUnavailableError", async () => {
    const { request, reference } = await paidCharge();
    fake.failNext(1, 503);
    const err = await rejection(gateway.refund(refundRequest(reference, request.checkoutId, 100, "refund-x")));
    expect(err).toBeInstanceOf(GatewayUnavailableError);
    expect(fake.refunds()).toHaveLength(0);
  });
});

describe("currencies and amounts", () => {
  // What Stripe expects (https://docs.stripe.com/currencies): the fake refuses any other amount on
  // its own, so a wrong conversion fails here twice, on the recorded amount and on the answer.
  it.each([
    ["JPY", 5_000, 5_000], // zero-decimal in ISO 4217 and at Stripe
    ["ISK", 5_000, 500_000], // ISO: no minor unit; Stripe: two decimals, divisible by 100
    ["UGX", 5_000, 500_000], // the same special case
    ["MGA", 10_000, 100], // ISO: two decimals; Stripe: zero-decimal (100.00 MGA is 100)
    ["KWD", 1_230, 1_230], // three decimals, the last one 0
    ["BHD", 12_340, 12_340],
    ["HUF", 500_050, 500_050], // two decimals at Stripe (only payouts are whole forint)
    ["TWD", 12_345, 12_345],
    ["IDR", 300_000_000_000, 300_000_000_000], // IDR 3,000,000,000.00: twelve digits
    ["USD", 99_999_999, 99_999_999], // USD 999,999.99: eight digits
  ])("charges %s %i (ISO minor units) as %i Stripe units", async (currency, amount, units) => {
    const outcome = await gateway.charge(chargeRequest({ amount, currency }));
    expect(outcome.status).toBe("succeeded");
    expect(fake.paymentIntents().at(-1)).toMatchObject({
      amount: units,
      amount_received: units,
      currency: currency.toLowerCase(),
    });
  });

  it.each([
    ["KWD", 1_234, "amount"],
    ["BHD", 12_345, "amount"],
    ["MGA", 150, "amount"], // 1.50 MGA: Stripe takes whole ariary only
    ["USD", 100_000_000, "amount"], // USD 1,000,000.00: nine digits
    ["ISK", 1_000_000, "amount"], // 100,000,000 Stripe units
    ["IDR", 1_000_000_000_000, "amount"], // thirteen digits
    ["KPW", 1_000, "currency"],
    ["IQD", 1_000, "currency"],
    ["XX", 1_000, "currency"],
  ])("refuses %s %i before sending anything (field %s)", async (currency, amount, field) => {
    const before = fake.requestCount;
    const err = await rejection(gateway.charge(chargeRequest({ amount, currency })));
    expect(err).toBeInstanceOf(CurrencyRuleError);
    expect(err).toBeInstanceOf(GatewayRequestError);
    expect(err.field).toBe(field);
    expect(fake.requestCount).toBe(before);
  });

  it("the fake itself refuses what Stripe refuses", async () => {
    const create = async (amount: number, currency: string) => {
      const res = await fetch(`${fake.url}/v1/payment_intents`, {
        method: "POST",
        headers: { authorization: `Bearer ${SECRET_KEY}`, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ amount: String(amount), currency }).toString(),
      });
      const { error } = (await res.json()) as { error?: { type: string; code?: string; param?: string } };
      return { status: res.status, code: error?.code, param: error?.param };
    };
    expect(await create(5_050, "isk")).toEqual({
      status: 400,
      code: "invalid_charge_amount_no_decimal_compatible",
      param: "amount",
    });
    expect(await create(550, "ugx")).toEqual({
      status: 400,
      code: "invalid_charge_amount_no_decimal_compatible",
      param: "amount",
    });
    expect(await create(1_234, "kwd")).toMatchObject({ status: 400, param: "amount" });
    expect(await create(100_000_000, "usd")).toEqual({ status: 400, code: "amount_too_large", param: "amount" });
    expect(await create(1_000_000_000_000, "idr")).toEqual({ status: 400, code: "amount_too_large", param: "amount" });
    expect(await create(1_000, "kpw")).toMatchObject({ status: 400, param: "currency" });
    expect((await create(999_999_999_999, "idr")).status).toBe(200);
    expect((await create(5_000, "isk")).status).toBe(200);
  });

  it("refunds in Stripe's units too: ISK in hundredths, MGA in whole ariary", async () => {
    const isk = chargeRequest({ amount: 5_000, currency: "ISK" });
    const iskCharge = await gateway.charge(isk);
    const iskRefund = await gateway.refund({
      idempotencyKey: `${isk.idempotencyKey}:refund`,
      checkoutId: isk.checkoutId,
      chargeReference: iskCharge.reference!,
      amount: 1_000,
      currency: "ISK",
    });
    expect(iskRefund.status).toBe("succeeded");
    expect(fake.refunds().at(-1)).toMatchObject({ amount: 100_000, currency: "isk" });

    const mga = chargeRequest({ amount: 10_000, currency: "MGA" });
    const mgaCharge = await gateway.charge(mga);
    const refund = (amount: number, key: string) =>
      gateway.refund({
        idempotencyKey: key,
        checkoutId: mga.checkoutId,
        chargeReference: mgaCharge.reference!,
        amount,
        currency: "MGA",
      });
    expect((await refund(5_000, `${mga.idempotencyKey}:refund-1`)).status).toBe("succeeded");
    expect(fake.refunds().at(-1)).toMatchObject({ amount: 50, currency: "mga" });

    const before = fake.requestCount;
    await expect(refund(150, `${mga.idempotencyKey}:refund-2`)).rejects.toBeInstanceOf(CurrencyRuleError);
    expect(fake.requestCount).toBe(before);
  });
});

describe("verifyWebhook", () => {
  it("verifies a signed payment_intent.succeeded and maps it", async () => {
    const request = chargeRequest();
    const outcome = await gateway.charge(request);
    const intent = fake.paymentIntents()[0];
    const event = fake.event("payment_intent.succeeded", intent);

    const verified = await gateway.verifyWebhook(fake.signedWebhook(event, { secret: WEBHOOK_SECRET }));
    expect(verified).toEqual({
      id: event.id,
      kind: "payment.succeeded",
      checkoutId: request.checkoutId,
      reference: outcome.reference,
      providerType: "payment_intent.succeeded",
    });
  });

  it.each([
    [
      "payment_intent.payment_failed",
      { object: "payment_intent", id: "pi_1", status: "requires_payment_method" },
      "payment.failed",
      "pi_1",
    ],
    ["payment_intent.processing", { object: "payment_intent", id: "pi_1", status: "processing" }, "payment.pending", "pi_1"],
    ["charge.refunded", { object: "charge", id: "ch_1", payment_intent: "pi_1", refunded: true }, "refund.succeeded", "pi_1"],
    ["refund.updated", { object: "refund", id: "re_1", payment_intent: "pi_1", status: "succeeded" }, "refund.succeeded", "pi_1"],
    ["refund.updated", { object: "refund", id: "re_1", payment_intent: "pi_1", status: "failed" }, "refund.failed", "pi_1"],
    ["refund.updated", { object: "refund", id: "re_1", payment_intent: "pi_1", status: "pending" }, "other", "pi_1"],
    ["payment_intent.created", { object: "payment_intent", id: "pi_1", status: "requires_payment_method" }, "other", "pi_1"],
    ["customer.created", { object: "customer", id: "cus_1" }, "other", undefined],
  ])("%s (%j) maps to %s", async (type, object, kind, reference) => {
    const event = fake.event(type, { ...object, metadata: { checkout_id: "chk_42" } });
    const verified = await gateway.verifyWebhook(fake.signedWebhook(event, { secret: WEBHOOK_SECRET }));
    expect(verified).toEqual({ id: event.id, kind, checkoutId: "chk_42", reference, providerType: type });
  });

  it("a payment without our metadata has no checkout id", async () => {
    const event = fake.event("payment_intent.succeeded", { object: "payment_intent", id: "pi_9", metadata: {} });
    const verified = await gateway.verifyWebhook(fake.signedWebhook(event, { secret: WEBHOOK_SECRET }));
    expect(verified.checkoutId).toBeUndefined();
    expect(verified.kind).toBe("payment.succeeded");
  });

  it("refuses a forged signature, a tampered body, a missing header and a stale timestamp", async () => {
    const event = fake.event("payment_intent.succeeded", {
      object: "payment_intent",
      id: "pi_1",
      metadata: { checkout_id: "chk_1" },
    });

    const forged = fake.signedWebhook(event, { secret: "whsec_someone_else" });
    await expect(gateway.verifyWebhook(forged)).rejects.toBeInstanceOf(WebhookVerificationError);

    const signed = fake.signedWebhook(event, { secret: WEBHOOK_SECRET });
    const tampered = { ...signed, rawBody: signed.rawBody.replace("chk_1", "chk_2") };
    await expect(gateway.verifyWebhook(tampered)).rejects.toBeInstanceOf(WebhookVerificationError);

    await expect(gateway.verifyWebhook({ rawBody: signed.rawBody, headers: {} })).rejects.toBeInstanceOf(
      WebhookVerificationError,
    );

    const stale = fake.signedWebhook(event, { secret: WEBHOOK_SECRET, timestamp: Math.floor(Date.now() / 1000) - 301 });
    await expect(gateway.verifyWebhook(stale)).rejects.toBeInstanceOf(WebhookVerificationError);

    // Just inside the five minutes still passes.
    const recent = fake.signedWebhook(event, { secret: WEBHOOK_SECRET, timestamp: Math.floor(Date.now() / 1000) - 240 });
    await expect(gateway.verifyWebhook(recent)).resolves.toMatchObject({ kind: "payment.succeeded" });
  });
});

describe("configuration", () => {
  it("stripeProvider builds a gateway from the environment, STRIPE_API_BASE included", async () => {
    expect(stripeProvider.provider).toBe("stripe");
    expect(stripeProvider.requiredVariables).toEqual(["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]);
    const env = { STRIPE_SECRET_KEY: SECRET_KEY, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_BASE: fake.url };
    // 3-D Secure must be able to send the customer back: no RETURN_URL, no Stripe.
    expect(() => stripeProvider.create(env)).toThrow(/RETURN_URL/);
    const built = stripeProvider.create({ ...env, RETURN_URL: "https://shop.example/return" });
    expect(built.provider).toBe("stripe");
    expect((await built.charge(chargeRequest())).status).toBe("succeeded");
    expect(fake.paymentIntents()).toHaveLength(1);
  });

  it("parses the base URL into what the SDK takes", () => {
    expect(parseApiBase("https://api.stripe.com")).toEqual({ host: "api.stripe.com", port: 443, protocol: "https" });
    expect(parseApiBase("http://127.0.0.1:12111/")).toEqual({ host: "127.0.0.1", port: 12111, protocol: "http" });
    expect(parseApiBase("http://[::1]:8080")).toEqual({ host: "::1", port: 8080, protocol: "http" });
    expect(() => parseApiBase("http://localhost:8080/v1")).toThrow(/no path/);
    expect(() => parseApiBase("ftp://localhost")).toThrow(/http or https/);
    expect(() => parseApiBase("not a url")).toThrow(/not a URL/);
    expect(() => parseApiBase("not a url")).toThrow(ConfigError);
  });
});
