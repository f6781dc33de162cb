// Failover: when the first provider stays down for its whole retry budget, and is known not to
// have charged, the checkout pays with the next of payment.fallbackProviders (here the fake Stripe
// server); a decline never fails over; and a fallback that is not configured is refused up front.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeStripe, startFakeStripe, stripeEnv } from "./fakes/stripe.ts";
import { call, chargesFor, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let fake: FakeStripe;
let stack: TestStack;
beforeAll(async () => {
  fake = await startFakeStripe();
  stack = await startTestStack({
    paymentRetryWindowSeconds: 5,
    env: {
      ...stripeEnv(fake),
    },
  });
});
afterEach(async () => {
  // The outage switch lives in the shared database: never leave it on for the next test or file.
  await stack?.db.sandboxSetting.upsert({
    where: { key: "outage" },
    create: { key: "outage", value: false },
    update: { value: false },
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.stop();
});

const mailsFor = (checkoutId: string) => stack.mail.messages.filter((m) => m.raw.includes(checkoutId));
const intentsFor = (checkoutId: string) => fake.paymentIntents().filter((pi) => pi.metadata?.checkout_id === checkoutId);

async function setOutage(active: boolean) {
  const res = await call(stack.url, "PUT", "/sandbox/outage", { active });
  expect(res.status, res.text).toBe(200);
  expect(res.json).toEqual({ active });
}

const withFallback = (token: string, fallbackProviders: string[]) =>
  validCheckout(token, { payment: { provider: "sandbox", token, fallbackProviders } });

describe("failover to a fallback provider", () => {
  it("pays with Stripe when the sandbox stays down for its retry budget: one PaymentIntent, no sandbox charge", async () => {
    await setOutage(true);
    try {
      const id = await startCheckout(stack.url, withFallback("pm_card_visa", ["stripe"]));
      const done = await waitForCheckout(stack.url, id, undefined, 40_000);

      expect(done.status).toBe("COMPLETED");
      expect(done.order.status).toBe("PAID");
      expect(done.payment.status).toBe("SUCCEEDED");
      expect(done.payment.provider).toBe("stripe");
      expect(done.payment.gatewayReference).toMatch(/^pi_/);
      expect(done.payment.failovers).toEqual([
        { from: "sandbox", to: "stripe", reason: expect.stringMatching(/unavailable after its retry budget/) },
      ]);

      const intents = intentsFor(id);
      expect(intents).toHaveLength(1);
      expect(intents[0]).toMatchObject({
        id: done.payment.gatewayReference,
        status: "succeeded",
        amount: 3998,
        currency: "usd",
        metadata: { checkout_id: id, idempotency_key: `checkout-${id}:payment:stripe` },
      });
      expect(await chargesFor(stack.url, id)).toEqual([]);

      const row = await stack.db.payment.findUnique({ where: { checkoutId: id } });
      expect(row).toMatchObject({ provider: "stripe", status: "SUCCEEDED", gatewayReference: intents[0].id });
      expect(mailsFor(id).map((m) => m.subject)).toEqual(["Payment received: $39.98"]);

      // A refund goes to the provider that charged (Stripe), though the sandbox is still down.
      const refund = await call(stack.url, "POST", `/checkouts/${id}/refunds`, { amount: 500 }, { "idempotency-key": `r-${id}` });
      expect(refund.status, refund.text).toBe(202);
      await expect
        .poll(async () => (await call(stack.url, "GET", `/checkouts/${id}/refunds`)).json.data.map((r: any) => r.status), {
          timeout: 15_000,
        })
        .toEqual(["SUCCEEDED"]);
      const stripeRefunds = fake.refunds().filter((r) => r.payment_intent === intents[0].id);
      expect(stripeRefunds.map((r) => [r.amount, r.status])).toEqual([[500, "succeeded"]]);
    } finally {
      await setOutage(false);
    }
  });

  it("does not fail over on a decline: the checkout fails, Stripe is never asked", async () => {
    const id = await startCheckout(stack.url, withFallback("tok_decline", ["stripe"]));
    const done = await waitForCheckout(stack.url, id);

    expect(done.status).toBe("FAILED");
    expect(done.payment).toMatchObject({ status: "FAILED", provider: "sandbox", failureCode: "card_declined" });
    expect(done.payment.failovers).toBeUndefined();
    expect(intentsFor(id)).toEqual([]);
    expect((await chargesFor(stack.url, id)).map((c) => c.status)).toEqual(["DECLINED"]);
  });

  it("refuses a checkout naming a fallback provider that is not configured here (422)", async () => {
    const res = await call(stack.url, "POST", "/checkouts", withFallback("tok_approve", ["stripe", "paypal"]));
    expect(res.status, res.text).toBe(422);
    expect(res.json.error.code).toBe("provider_not_configured");
    expect(res.json.error.fields).toEqual([{ field: "payment.fallbackProviders.1", reason: expect.stringMatching(/PAYPAL_/) }]);

    const first = await call(stack.url, "POST", "/checkouts", withFallback("tok_approve", ["paypal"]));
    expect(first.status, first.text).toBe(422);
    expect(first.json.error.fields).toEqual([{ field: "payment.fallbackProviders.0", reason: expect.stringMatching(/PAYPAL_/) }]);
  });
});
