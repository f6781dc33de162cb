// Provider webhooks replayed, end to end: a Razorpay or Mercado Pago event posted again with its
// unsigned id changed (Razorpay's x-razorpay-event-id header, Mercado Pago's body id) is still a
// duplicate, because the event id comes from what the provider signed; the checkout is signalled
// once. And one checkout takes at most WEBHOOK_SIGNALS_PER_CHECKOUT events: later ones are
// recorded and acknowledged, not signalled.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signPayload } from "../activities/signature.ts";
import { FakeMercadoPago } from "./fakes/mercadopago.ts";
import { type FakeRazorpay, startFakeRazorpay } from "./fakes/razorpay.ts";
import { call, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const RAZORPAY_WEBHOOK_SECRET = "rzp_webhook_secret_replays";
const MERCADOPAGO_WEBHOOK_SECRET = "mp-webhook-secret-replays";
const SANDBOX_WEBHOOK_SECRET = "whsec_replays_test";

let razorpay: FakeRazorpay;
let mercadopago: FakeMercadoPago;
let stack: TestStack;
const waiting: string[] = [];

beforeAll(async () => {
  [razorpay, mercadopago] = await Promise.all([startFakeRazorpay(), FakeMercadoPago.start()]);
  stack = await startTestStack({
    paymentActionTimeoutSeconds: 120,
    env: {
      RETURN_URL: "https://shop.example.com/checkout/return",
      RAZORPAY_KEY_ID: razorpay.keyId,
      RAZORPAY_KEY_SECRET: razorpay.keySecret,
      RAZORPAY_WEBHOOK_SECRET,
      RAZORPAY_API_BASE: razorpay.url,
      MERCADOPAGO_ACCESS_TOKEN: mercadopago.accessToken,
      MERCADOPAGO_WEBHOOK_SECRET,
      MERCADOPAGO_API_BASE: mercadopago.url,
      SANDBOX_WEBHOOK_SECRET,
      WEBHOOK_SIGNALS_PER_CHECKOUT: "2",
    },
  });
});
afterAll(async () => {
  await Promise.all(
    waiting.map((id) =>
      stack.temporal.workflow
        .getHandle(`checkout-${id}`)
        .terminate("webhook replays test done")
        .catch(() => {}),
    ),
  );
  await stack?.stop();
  await Promise.all([razorpay?.close(), mercadopago?.close()]);
});

const isStatus = (status: string) => (body: any) => body?.status === status;

function postWebhook(provider: string, delivery: { rawBody: string; headers: Record<string, string> }) {
  return call(stack.url, "POST", `/webhooks/${provider}`, delivery.rawBody, delivery.headers);
}

async function paymentEventSignals(checkoutId: string) {
  const history = await stack.temporal.workflow.getHandle(`checkout-${checkoutId}`).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === "paymentEvent");
}

describe("a replay under another unsigned id is a duplicate", () => {
  it("Razorpay: the same signed body with another x-razorpay-event-id", async () => {
    const id = await startCheckout(
      stack.url,
      validCheckout("tok_razorpay", { currency: "INR", payment: { provider: "razorpay", token: "tok_razorpay" } }),
    );
    const before = await waitForCheckout(stack.url, id, isStatus("REQUIRES_ACTION"));
    const payment = razorpay.payOrder(before.payment.gatewayReference, "captured");
    const hook = razorpay.signedWebhook(
      { event: "payment.captured", payment: payment.id, order: before.payment.gatewayReference },
      RAZORPAY_WEBHOOK_SECRET,
    );

    const first = await postWebhook("razorpay", hook);
    expect(first.status, first.text).toBe(200);
    expect(first.json).toEqual({ received: true, matched: true });
    const replay = await postWebhook("razorpay", {
      rawBody: hook.rawBody,
      headers: { ...hook.headers, "x-razorpay-event-id": `evt_${randomBytes(7).toString("hex")}` },
    });
    expect(replay.status, replay.text).toBe(200);
    expect(replay.json).toEqual({ received: true, duplicate: true });

    expect((await waitForCheckout(stack.url, id)).status).toBe("COMPLETED");
    expect(await paymentEventSignals(id)).toHaveLength(1);
    expect(await stack.db.webhookEvent.count({ where: { provider: "razorpay", checkoutId: id } })).toBe(1);
  });

  it("Mercado Pago: the same signed manifest with another id in the body", async () => {
    const id = await startCheckout(
      stack.url,
      validCheckout("pix", { currency: "BRL", payment: { provider: "mercadopago", token: "pix", method: "qr" } }),
    );
    await waitForCheckout(stack.url, id, isStatus("REQUIRES_ACTION"));
    const [payment] = mercadopago.payments().filter((p) => p.external_reference === id);
    mercadopago.settle(payment.id, "approved");
    const hook = mercadopago.signedWebhook(payment.id, { secret: MERCADOPAGO_WEBHOOK_SECRET });

    const first = await postWebhook("mercadopago", hook);
    expect(first.status, first.text).toBe(200);
    expect(first.json).toEqual({ received: true, matched: true });
    const body = JSON.parse(hook.rawBody);
    const replay = await postWebhook("mercadopago", {
      rawBody: JSON.stringify({ ...body, id: body.id + 1 }),
      headers: hook.headers,
    });
    expect(replay.status, replay.text).toBe(200);
    expect(replay.json).toEqual({ received: true, duplicate: true });

    expect((await waitForCheckout(stack.url, id)).status).toBe("COMPLETED");
    expect(await paymentEventSignals(id)).toHaveLength(1);
    expect(await stack.db.webhookEvent.count({ where: { provider: "mercadopago", checkoutId: id } })).toBe(1);
  });
});

describe("WEBHOOK_SIGNALS_PER_CHECKOUT", () => {
  it("signals a checkout at most that many events; later ones are acknowledged as ignored", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_3ds"));
    waiting.push(id);
    const before = await waitForCheckout(stack.url, id, isStatus("REQUIRES_ACTION"), 20_000);
    const chargeId = before.payment.gatewayReference as string;
    // Events the sandbox could send (each its own id), none of which settles the charge: the
    // workflow asks the sandbox each time it is signalled, and keeps waiting.
    const event = () => {
      const rawBody = JSON.stringify({
        id: `evt_${randomBytes(12).toString("hex")}`,
        type: "charge.updated",
        created: Date.now(),
        data: { id: chargeId, idempotencyKey: `checkout-${id}:payment`, checkoutId: id, status: "REQUIRES_ACTION" },
      });
      return {
        rawBody,
        headers: { "content-type": "application/json", "sandbox-signature": signPayload(rawBody, SANDBOX_WEBHOOK_SECRET) },
      };
    };
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await postWebhook("sandbox", event())).json);
    expect(answers).toEqual([
      { received: true, matched: true },
      { received: true, matched: true },
      { received: true, matched: true, ignored: true },
      { received: true, matched: true, ignored: true },
    ]);
    expect(await paymentEventSignals(id)).toHaveLength(2);
    expect(await stack.db.webhookEvent.count({ where: { checkoutId: id } })).toBe(4);
    expect((await call(stack.url, "GET", `/checkouts/${id}`)).json.status).toBe("REQUIRES_ACTION");
  });
});
