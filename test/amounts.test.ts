// 64-bit money end to end, and what POST /checkouts refuses before anything starts: a total above
// the maximum (999,999,999,999,999 minor units), a total above a provider's own limit, an amount a
// provider cannot take exactly, a currency it does not take, and fallback providers that repeat one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_AMOUNT } from "../money/amounts.ts";
import { type FakeStripe, startFakeStripe, stripeEnv } from "./fakes/stripe.ts";
import { call, chargesFor, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let fake: FakeStripe;
let stack: TestStack;
beforeAll(async () => {
  fake = await startFakeStripe();
  stack = await startTestStack({
    env: {
      ...stripeEnv(fake),
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.stop();
});

/** One item of `unitAmount`, `quantity` times, in `currency`, paid with `provider`. */
const order = (currency: string, unitAmount: number, quantity = 1, provider = "sandbox", token = "tok_approve") =>
  validCheckout(token, {
    currency,
    items: [{ sku: "big", name: "Something big", quantity, unitAmount }],
    payment: { provider, token },
  });

let keys = 0;
/** POSTs under a fresh Idempotency-Key and checks that no workflow was started for it. */
async function refused(body: unknown) {
  const key = `amounts-${Date.now()}-${keys++}`;
  const res = await call(stack.url, "POST", "/checkouts", body, { "idempotency-key": key });
  // Refused before anything is claimed: no checkout under the key, so no workflow either.
  expect(
    await stack.db.idempotencyKey.findUnique({ where: { merchantId_key: { merchantId: stack.merchantId, key } } }),
  ).toBeNull();
  return res;
}

describe("64-bit amounts", () => {
  it("a 3,000,000,000-minor-unit IDR checkout completes with the exact amount stored and charged (sandbox)", async () => {
    const id = await startCheckout(stack.url, order("IDR", 1_500_000_000, 2));
    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
    expect(done.totalAmount).toBe(3_000_000_000);
    expect(done.order).toMatchObject({ totalAmount: 3_000_000_000, currency: "IDR" });
    expect(done.order.items).toEqual([
      { sku: "big", name: "Something big", quantity: 2, unitAmount: 1_500_000_000, lineTotal: 3_000_000_000 },
    ]);
    expect(done.payment).toMatchObject({ status: "SUCCEEDED", amount: 3_000_000_000, currency: "IDR" });
    const row = await stack.db.order.findUnique({ where: { checkoutId: id } });
    expect(row?.totalAmount).toBe(3_000_000_000n);
    expect((await chargesFor(stack.url, id)).map((c) => [c.amount, c.currency, c.status])).toEqual([
      [3_000_000_000, "IDR", "SUCCEEDED"],
    ]);
  });

  it("and at Stripe, which takes IDR up to twelve digits: one PaymentIntent for exactly that amount", async () => {
    const id = await startCheckout(stack.url, order("IDR", 3_000_000_000, 1, "stripe", "pm_card_visa"));
    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
    const intents = fake.paymentIntents().filter((pi) => pi.metadata?.checkout_id === id);
    expect(intents.map((pi) => [pi.amount, pi.currency, pi.status])).toEqual([[3_000_000_000, "idr", "succeeded"]]);
  });

  it("the largest total is accepted; one minor unit more is refused with 422 naming items, and starts nothing", async () => {
    const largest = await call(stack.url, "POST", "/checkouts", order("JPY", MAX_AMOUNT));
    expect(largest.status, largest.text).toBe(202);

    const res = await refused(order("JPY", 333_333_333_333_334, 3));
    expect(res.status, res.text).toBe(422);
    expect(res.json.error.code).toBe("amount_too_large");
    expect(res.json.error.fields).toEqual([{ field: "items", reason: expect.stringContaining(String(MAX_AMOUNT)) }]);
  });
});

describe("what a provider cannot take is refused up front (422), naming the provider and the limit", () => {
  it("a total above Stripe's own maximum (eight digits in USD)", async () => {
    const res = await refused(order("USD", 100_000_000, 1, "stripe", "pm_card_visa"));
    expect(res.status, res.text).toBe(422);
    expect(res.json.error.code).toBe("amount_not_supported");
    expect(res.json.error.fields).toEqual([
      { field: "items", reason: expect.stringMatching(/^payment\.provider: .*stripe.*999,999\.99/) },
    ]);
  });

  it("an amount Stripe cannot represent: MGA is zero-decimal at Stripe, so 1.50 MGA cannot be sent", async () => {
    const res = await refused(order("MGA", 150, 1, "stripe", "pm_card_visa"));
    expect(res.status, res.text).toBe(422);
    expect(res.json.error.code).toBe("amount_not_supported");
    expect(res.json.error.fields).toEqual([{ field: "items", reason: expect.stringContaining("stripe") }]);
  });

  it("a currency the provider does not take at all: currency_not_supported, naming currency", async () => {
    const res = await refused(order("IRR", 100_000, 1, "stripe", "pm_card_visa"));
    expect(res.status, res.text).toBe(422);
    expect(res.json.error.code).toBe("currency_not_supported");
    expect(res.json.error.fields).toEqual([{ field: "currency", reason: "payment.provider: stripe does not take IRR" }]);
  });

  it("a fallback provider that cannot take the amount is refused too, named by its place", async () => {
    const body = validCheckout("tok_approve", {
      currency: "KWD",
      items: [{ sku: "k", name: "K", quantity: 1, unitAmount: 1234 }],
      payment: { provider: "sandbox", token: "tok_approve", fallbackProviders: ["stripe"] },
    });
    const res = await refused(body);
    expect(res.status, res.text).toBe(422);
    expect(res.json.error.fields).toEqual([
      { field: "items", reason: expect.stringMatching(/^payment\.fallbackProviders\.0: .*stripe/) },
    ]);
  });

  it("fallback providers that repeat a provider are refused (400), naming the repeat", async () => {
    const repeat = validCheckout("tok_approve", {
      payment: { provider: "sandbox", token: "tok_approve", fallbackProviders: ["sandbox"] },
    });
    const res = await refused(repeat);
    expect(res.status, res.text).toBe(400);
    expect(res.json.error.fields).toEqual([
      { field: "payment.fallbackProviders.0", reason: expect.stringContaining('"sandbox"') },
    ]);

    const twice = validCheckout("tok_approve", {
      payment: { provider: "sandbox", token: "tok_approve", fallbackProviders: ["stripe", "stripe"] },
    });
    const again = await refused(twice);
    expect(again.status, again.text).toBe(400);
    expect(again.json.error.fields).toEqual([
      { field: "payment.fallbackProviders.1", reason: expect.stringContaining('"stripe"') },
    ]);
  });
});
