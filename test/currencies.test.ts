// Checkouts in the currencies where the providers count differently from ISO 4217, end to end
// through the API and the workflow, against the Stripe and PayPal fakes, which enforce each
// provider's documented rules on their own: the provider is sent exactly the amount it expects,
// and what it cannot take is refused up front (422) with nothing started.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakePayPal } from "./fakes/paypal.ts";
import { type FakeStripe, startFakeStripe, stripeEnv } from "./fakes/stripe.ts";
import { call, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let stripe: FakeStripe;
let paypal: FakePayPal;
let stack: TestStack;
beforeAll(async () => {
  [stripe, paypal] = await Promise.all([startFakeStripe(), FakePayPal.start()]);
  stack = await startTestStack({
    env: {
      ...stripeEnv(stripe),
      PAYPAL_CLIENT_ID: paypal.clientId,
      PAYPAL_CLIENT_SECRET: paypal.clientSecret,
      PAYPAL_WEBHOOK_ID: paypal.webhookId,
      PAYPAL_API_BASE: paypal.url,
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await Promise.all([stripe?.stop(), paypal?.close()]);
});

const order = (currency: string, unitAmount: number, provider: string, token: string) =>
  validCheckout(token, {
    currency,
    items: [{ sku: "x", name: "Thing", quantity: 1, unitAmount }],
    payment: { provider, token },
  });

describe("Stripe is sent its own units", () => {
  it.each([
    // [currency, ISO minor units, what Stripe must receive]
    ["JPY", 3600, 3600],
    ["ISK", 5000, 500_000], // ISO: no decimals; Stripe: two, divisible by 100
    ["MGA", 10_000, 100], // ISO: two decimals; Stripe: zero-decimal
    ["KWD", 1230, 1230], // three decimals, ending in 0
    ["BHD", 5670, 5670],
    ["HUF", 500_050, 500_050], // Stripe charges HUF with decimals
    ["TWD", 12_345, 12_345],
  ])("%s %i → %i", async (currency, minor, units) => {
    const id = await startCheckout(stack.url, order(currency, minor, "stripe", "pm_card_visa"));
    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
    expect(done.order).toMatchObject({ totalAmount: minor, currency });
    const intents = stripe.paymentIntents().filter((pi) => pi.metadata?.checkout_id === id);
    expect(intents.map((pi) => [pi.amount, pi.currency, pi.status])).toEqual([[units, currency.toLowerCase(), "succeeded"]]);
  });
});

describe("PayPal is sent its own decimals", () => {
  async function payWithPayPal(currency: string, minor: number) {
    const id = await startCheckout(stack.url, order(currency, minor, "paypal", "tok_paypal"));
    const waiting = await waitForCheckout(stack.url, id, (b) => b?.status === "REQUIRES_ACTION");
    const orderId: string = waiting.payment.gatewayReference;
    paypal.approve(orderId);
    const hook = paypal.webhook("CHECKOUT.ORDER.APPROVED", paypal.order(orderId));
    expect((await call(stack.url, "POST", "/webhooks/paypal", hook.rawBody, hook.headers)).status).toBe(200);
    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
    return paypal.captures().filter((c) => c.supplementary_data.related_ids.order_id === orderId);
  }

  it.each([
    ["JPY", 3600, "3600"],
    ["HUF", 500_000, "5000"], // ISO: two decimals; PayPal: whole forints
    ["TWD", 12_300, "123"],
    ["USD", 3998, "39.98"],
  ])("%s %i → %s", async (currency, minor, value) => {
    const captures = await payWithPayPal(currency, minor);
    expect(captures.map((c) => c.amount)).toEqual([{ currency_code: currency, value }]);
  });

  it.each([
    ["HUF", 500_050, "amount_not_supported", "items"], // 5,000.50 forints cannot be sent to PayPal
    ["ISK", 5000, "currency_not_supported", "currency"],
    ["MGA", 10_000, "currency_not_supported", "currency"],
    ["KWD", 1230, "currency_not_supported", "currency"],
    ["BHD", 5670, "currency_not_supported", "currency"],
  ])("%s %i is refused before anything starts (%s)", async (currency, minor, code, field) => {
    const before = paypal.orders().length;
    const res = await call(stack.url, "POST", "/checkouts", order(currency, minor, "paypal", "tok_paypal"));
    expect(res.status, res.text).toBe(422);
    expect(res.json.error.code).toBe(code);
    expect(res.json.error.fields).toEqual([{ field, reason: expect.stringMatching(/^payment\.provider: paypal /) }]);
    expect(paypal.orders()).toHaveLength(before);
  });
});
