// Every real payment provider end to end: the real API and workflow on the run's Temporal server
// and database, each provider's adapter talking over real HTTP to its local fake (test/fakes), and
// webhooks signed the way the provider signs them posted to /webhooks/{provider}. Plus a standalone
// worker SIGKILLed between Stripe's charge and its recording, and a Stripe refund end to end.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeMercadoPago } from "./fakes/mercadopago.ts";
import { FakePayPal } from "./fakes/paypal.ts";
import { type FakeRazorpay, startFakeRazorpay } from "./fakes/razorpay.ts";
import { type FakeStripe, startFakeStripe } from "./fakes/stripe.ts";
import { call, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";
import { spawnWorkerProcess, type WorkerProcess } from "./support/worker-process.ts";

const STRIPE_SECRET_KEY = "sk_test_providers0001";
const STRIPE_WEBHOOK_SECRET = "whsec_providers_test_0001";
const RAZORPAY_WEBHOOK_SECRET = "rzp_webhook_secret_0001";
const MERCADOPAGO_WEBHOOK_SECRET = "mp-webhook-secret-0001";
const RETURN_URL = "https://shop.example.com/checkout/return";

let stripe: FakeStripe;
/** A Stripe of the crash test's own, so its delayNext can only hit that test's charge. */
let crashStripe: FakeStripe;
let razorpay: FakeRazorpay;
let paypal: FakePayPal;
let mercadopago: FakeMercadoPago;
let stack: TestStack;
/** No in-process worker: the crash test's standalone worker is the only one polling at first. */
let crashStack: TestStack;
let child: WorkerProcess | undefined;

const stripeEnv = (fake: FakeStripe) => ({
  STRIPE_SECRET_KEY,
  STRIPE_WEBHOOK_SECRET,
  STRIPE_API_BASE: fake.url,
});

beforeAll(async () => {
  [stripe, crashStripe, razorpay, paypal, mercadopago] = await Promise.all([
    startFakeStripe({ secretKey: STRIPE_SECRET_KEY }),
    startFakeStripe({ secretKey: STRIPE_SECRET_KEY }),
    startFakeRazorpay(),
    FakePayPal.start(),
    FakeMercadoPago.start(),
  ]);
  const env = {
    RETURN_URL,
    ...stripeEnv(stripe),
    RAZORPAY_KEY_ID: razorpay.keyId,
    RAZORPAY_KEY_SECRET: razorpay.keySecret,
    RAZORPAY_WEBHOOK_SECRET,
    RAZORPAY_API_BASE: razorpay.url,
    PAYPAL_CLIENT_ID: paypal.clientId,
    PAYPAL_CLIENT_SECRET: paypal.clientSecret,
    PAYPAL_WEBHOOK_ID: paypal.webhookId,
    PAYPAL_API_BASE: paypal.url,
    MERCADOPAGO_ACCESS_TOKEN: mercadopago.accessToken,
    MERCADOPAGO_WEBHOOK_SECRET,
    MERCADOPAGO_API_BASE: mercadopago.url,
  };
  [stack, crashStack] = await Promise.all([
    startTestStack({ env, paymentActionTimeoutSeconds: 60 }),
    startTestStack({ env: { RETURN_URL, ...stripeEnv(crashStripe) }, paymentActionTimeoutSeconds: 60, startWorker: false }),
  ]);
});

afterAll(async () => {
  child?.kill();
  await Promise.all([stack?.stop(), crashStack?.stop()]);
  await Promise.all([stripe?.stop(), crashStripe?.stop(), razorpay?.close(), paypal?.close(), mercadopago?.close()]);
});

/** A checkout paid with `provider`; `currency` must be one the provider takes. */
const checkoutWith = (provider: string, token: string, currency = "USD", method?: string) =>
  validCheckout(token, { currency, payment: { provider, token, ...(method ? { method } : {}) } });

const isStatus = (status: string) => (body: any) => body?.status === status;

/** Posts a provider's webhook delivery byte for byte, with its headers. */
function postWebhook(provider: string, delivery: { rawBody: string; headers: Record<string, string> }) {
  return call(stack.url, "POST", `/webhooks/${provider}`, delivery.rawBody, delivery.headers);
}

/** Polls until `check` returns something other than undefined. */
async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const intentsOf = (fake: FakeStripe, checkoutId: string) =>
  fake.paymentIntents().filter((intent) => intent.metadata?.checkout_id === checkoutId);

describe("Stripe", () => {
  it("approves pm_card_visa: COMPLETED, one PaymentIntent that names the checkout", async () => {
    const id = await startCheckout(stack.url, checkoutWith("stripe", "pm_card_visa"));
    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
    expect(done.order.status).toBe("PAID");
    expect(done.payment).toMatchObject({ status: "SUCCEEDED", provider: "stripe", attempts: 1 });

    const intents = intentsOf(stripe, id);
    expect(intents).toHaveLength(1);
    expect(intents[0]).toMatchObject({
      status: "succeeded",
      amount: 3998,
      currency: "usd",
      metadata: { checkout_id: id, idempotency_key: `checkout-${id}:payment` },
    });
    expect(done.payment.gatewayReference).toBe(intents[0].id);
  });

  it("a declined card: FAILED with the decline reason, after one attempt", async () => {
    const id = await startCheckout(stack.url, checkoutWith("stripe", "pm_card_chargeDeclined"));
    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("FAILED");
    expect(done.order.status).toBe("PAYMENT_FAILED");
    expect(done.failureReason).toBe("Your card was declined.");
    expect(done.payment).toMatchObject({
      status: "FAILED",
      attempts: 1,
      failureCode: "generic_decline",
      failureReason: "Your card was declined.",
    });
    expect(intentsOf(stripe, id)).toHaveLength(1);
  });

  it("3-D Secure: REQUIRES_ACTION with the bank's page, then the signed webhook completes it", async () => {
    const id = await startCheckout(stack.url, checkoutWith("stripe", "pm_card_threeDSecure2Required"));
    const waiting = await waitForCheckout(stack.url, id, isStatus("REQUIRES_ACTION"));
    const [intent] = intentsOf(stripe, id);
    expect(intent.status).toBe("requires_action");
    expect(waiting.payment.gatewayReference).toBe(intent.id);
    expect(waiting.payment.action).toEqual({ type: "redirect", url: `${stripe.url}/3ds/${intent.id}/authenticate` });
    expect(intent.return_url).toBe(RETURN_URL);

    // The customer passes 3-D Secure; Stripe tells us.
    const succeeded = stripe.completeAction(intent.id, "succeeded");
    const event = stripe.event("payment_intent.succeeded", succeeded);
    const res = await postWebhook("stripe", stripe.signedWebhook(event, { secret: STRIPE_WEBHOOK_SECRET }));
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ received: true, matched: true });

    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
    expect(done.order.status).toBe("PAID");
    expect(done.payment).toMatchObject({ status: "SUCCEEDED", gatewayReference: intent.id, action: null });
    expect(intentsOf(stripe, id)).toHaveLength(1);
  });

  it("a forged webhook is refused with 400 and signals nothing", async () => {
    const id = await startCheckout(stack.url, checkoutWith("stripe", "pm_card_threeDSecure2Required"));
    await waitForCheckout(stack.url, id, isStatus("REQUIRES_ACTION"));
    const [intent] = intentsOf(stripe, id);
    const event = stripe.event("payment_intent.succeeded", { ...intent, status: "succeeded" });

    const forged = await postWebhook("stripe", stripe.signedWebhook(event, { secret: "whsec_not_the_secret" }));
    expect(forged.status, forged.text).toBe(400);
    expect(forged.json.error.code).toBe("invalid_signature");

    const unsigned = await postWebhook("stripe", {
      rawBody: JSON.stringify(event),
      headers: { "content-type": "application/json" },
    });
    expect(unsigned.status).toBe(400);

    // A genuine signature over other bytes does not carry over to a tampered body.
    const genuine = stripe.signedWebhook(event, { secret: STRIPE_WEBHOOK_SECRET });
    const tampered = await postWebhook("stripe", { ...genuine, rawBody: genuine.rawBody.replace(id, "chk_someone_else") });
    expect(tampered.status).toBe(400);

    const still = await call(stack.url, "GET", `/checkouts/${id}`);
    expect(still.json.status).toBe("REQUIRES_ACTION");
    expect(still.json.payment.status).toBe("REQUIRES_ACTION");
    expect(await stack.db.webhookEvent.count({ where: { checkoutId: id } })).toBe(0);
  });
});

describe("Razorpay", () => {
  it("Checkout, payment captured, signed webhook: COMPLETED with one order", async () => {
    const id = await startCheckout(stack.url, checkoutWith("razorpay", "tok_razorpay", "INR"));
    const waiting = await waitForCheckout(stack.url, id, isStatus("REQUIRES_ACTION"));
    const orders = razorpay.orders().filter((o) => !Array.isArray(o.notes) && o.notes.checkout_id === id);
    expect(orders).toHaveLength(1);
    const [order] = orders;
    expect(order).toMatchObject({ amount: 3998, currency: "INR", status: "created" });
    expect(waiting.payment.gatewayReference).toBe(order.id);
    expect(waiting.payment.action.type).toBe("redirect");
    const url = new URL(waiting.payment.action.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${razorpay.url}/v1/checkout/embedded`);
    expect(url.searchParams.get("order_id")).toBe(order.id);
    expect(url.searchParams.get("key_id")).toBe(razorpay.keyId);
    expect(url.searchParams.get("callback_url")).toBe(RETURN_URL);
    // The page the customer is sent to exists.
    expect((await fetch(url)).status).toBe(200);

    const payment = razorpay.payOrder(order.id, "captured");
    const res = await postWebhook(
      "razorpay",
      razorpay.signedWebhook({ event: "payment.captured", payment: payment.id, order: order.id }, RAZORPAY_WEBHOOK_SECRET),
    );
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ received: true, matched: true });

    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
    expect(done.order.status).toBe("PAID");
    expect(done.payment).toMatchObject({ status: "SUCCEEDED", provider: "razorpay", gatewayReference: payment.id });
    expect(razorpay.orders().filter((o) => !Array.isArray(o.notes) && o.notes.checkout_id === id)).toHaveLength(1);
    expect(razorpay.payments().filter((p) => p.order_id === order.id)).toHaveLength(1);
  });
});

describe("PayPal", () => {
  it("approval link, buyer approves, signed webhook: the workflow captures once and COMPLETES", async () => {
    const id = await startCheckout(stack.url, checkoutWith("paypal", "tok_paypal"));
    const waiting = await waitForCheckout(stack.url, id, isStatus("REQUIRES_ACTION"));
    const orderId: string = waiting.payment.gatewayReference;
    const order = paypal.order(orderId);
    expect(order).toMatchObject({ status: "PAYER_ACTION_REQUIRED", purchase_units: [{ custom_id: id }] });
    expect(waiting.payment.action).toEqual({ type: "redirect", url: `${paypal.url}/checkoutnow?token=${orderId}` });

    paypal.approve(orderId);
    const res = await postWebhook("paypal", paypal.webhook("CHECKOUT.ORDER.APPROVED", paypal.order(orderId)));
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ received: true, matched: true });
    expect(paypal.verifications().at(-1)?.status).toBe("SUCCESS");

    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
    expect(done.order.status).toBe("PAID");
    expect(done.payment).toMatchObject({ status: "SUCCEEDED", provider: "paypal", gatewayReference: orderId });
    expect(paypal.order(orderId).status).toBe("COMPLETED");
    const captures = paypal.captures().filter((c) => c.supplementary_data.related_ids.order_id === orderId);
    expect(captures).toHaveLength(1);
    expect(captures[0]).toMatchObject({ status: "COMPLETED", amount: { currency_code: "USD", value: "39.98" } });
    expect(paypal.orders().filter((o) => o.purchase_units[0].custom_id === id)).toHaveLength(1);
  });
});

describe("Mercado Pago", () => {
  const paymentsOf = (checkoutId: string) => mercadopago.payments().filter((p) => p.external_reference === checkoutId);

  it("a card approves: COMPLETED", async () => {
    const id = await startCheckout(stack.url, checkoutWith("mercadopago", "visa-tok_approved", "BRL", "card"));
    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
    expect(done.order.status).toBe("PAID");
    const payments = paymentsOf(id);
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({ status: "approved", payment_method_id: "visa", transaction_amount: 39.98 });
    expect(done.payment).toMatchObject({
      status: "SUCCEEDED",
      provider: "mercadopago",
      gatewayReference: String(payments[0].id),
    });
  });

  it("PIX QR: REQUIRES_ACTION with the QR data, then settled and a signed webhook: COMPLETED", async () => {
    const id = await startCheckout(stack.url, checkoutWith("mercadopago", "pix", "BRL", "qr"));
    const waiting = await waitForCheckout(stack.url, id, isStatus("REQUIRES_ACTION"));
    const [payment] = paymentsOf(id);
    expect(payment).toMatchObject({ status: "pending", payment_method_id: "pix" });
    expect(waiting.payment.action).toMatchObject({ type: "qr", qrData: payment.point_of_interaction?.transaction_data.qr_code });
    expect(waiting.payment.action.qrData).toMatch(/^000201/);

    mercadopago.settle(payment.id, "approved");
    const res = await postWebhook("mercadopago", mercadopago.signedWebhook(payment.id, { secret: MERCADOPAGO_WEBHOOK_SECRET }));
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ received: true, matched: true });

    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
    expect(done.payment).toMatchObject({ status: "SUCCEEDED", gatewayReference: String(payment.id), action: null });
    expect(paymentsOf(id)).toHaveLength(1);
  });
});

describe("across a worker crash", () => {
  it("a worker killed between Stripe's charge and its recording: one PaymentIntent, COMPLETED", async () => {
    child = await spawnWorkerProcess(crashStack.env);
    const proc = child.process;
    // Stripe makes the PaymentIntent at once but answers only after 20 s: the worker is waiting.
    crashStripe.delayNext(20_000);
    const id = await startCheckout(crashStack.url, checkoutWith("stripe", "pm_card_visa"));

    const [intent] = await eventually(
      "the PaymentIntent at the fake",
      () => {
        const intents = intentsOf(crashStripe, id);
        return intents.length ? intents : undefined;
      },
      20_000,
    ).catch(async (err) => {
      const state = await call(crashStack.url, "GET", `/checkouts/${id}`);
      throw new Error(`${err.message}; checkout: ${state.text}\nworker output:\n${child?.output()}`);
    });
    expect(intent.status).toBe("succeeded");
    const before = await crashStack.db.payment.findUnique({ where: { checkoutId: id } });
    expect(before?.status).toBe("PROCESSING"); // charged at Stripe, not recorded here

    const exited = new Promise((resolve) => proc.once("exit", (_code, signal) => resolve(signal)));
    proc.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");

    // The heartbeat timeout (5 s) frees the payment step for the replacement, whose retry asks
    // Stripe first (Search by our key) and finds the intent; the workflow task then waits out the
    // dead worker's sticky queue.
    await crashStack.startWorker();
    const done = await waitForCheckout(crashStack.url, id, undefined, 40_000);
    expect(done.status).toBe("COMPLETED");
    expect(done.order.status).toBe("PAID");
    expect(done.payment.status).toBe("SUCCEEDED");
    expect(done.payment.attempts).toBeGreaterThanOrEqual(2);
    expect(done.payment.gatewayReference).toBe(intent.id);
    expect(intentsOf(crashStripe, id)).toHaveLength(1);
    expect(crashStripe.paymentIntents()).toHaveLength(1);
  }, 80_000);
});

describe("refunds", () => {
  it("a Stripe refund of 500, once per Idempotency-Key", async () => {
    const id = await startCheckout(stack.url, checkoutWith("stripe", "pm_card_visa"));
    const paid = await waitForCheckout(stack.url, id);
    expect(paid.status).toBe("COMPLETED");
    const intentId: string = paid.payment.gatewayReference;

    const key = { "idempotency-key": `refund-${id}` };
    const res = await call(stack.url, "POST", `/checkouts/${id}/refunds`, { amount: 500 }, key);
    expect(res.status, res.text).toBe(202);
    const refundId: string = res.json.id;

    const refunds = await eventually("the refund at the fake", () => {
      const found = stripe.refunds().filter((r) => r.payment_intent === intentId);
      return found.length ? found : undefined;
    });
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ amount: 500, status: "succeeded", metadata: { checkout_id: id } });

    const rows = await eventually("the refund recorded as SUCCEEDED", async () => {
      const list = await call(stack.url, "GET", `/checkouts/${id}/refunds`);
      return list.json.data.every((r: { status: string }) => r.status === "SUCCEEDED") ? list.json.data : undefined;
    });
    expect(rows).toEqual([
      expect.objectContaining({
        id: refundId,
        status: "SUCCEEDED",
        amount: 500,
        currency: "USD",
        gatewayReference: refunds[0].id,
      }),
    ]);

    // The same request again under the same key: the same refund, nothing new at Stripe.
    const again = await call(stack.url, "POST", `/checkouts/${id}/refunds`, { amount: 500 }, key);
    expect(again.status, again.text).toBe(202);
    expect(again.json.id).toBe(refundId);
    expect(stripe.refunds().filter((r) => r.payment_intent === intentId)).toHaveLength(1);
  });
});
