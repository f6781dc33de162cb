// POST /webhooks/{provider}, called directly as a provider would: the signature is checked over the
// raw body (a forged, stale or missing one is refused with 400 and nothing reaches the workflow), a
// redelivered event is acknowledged as a duplicate and signalled once, and an event about a
// payment we do not know is acknowledged without a crash.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signPayload } from "../activities/signature.ts";
import { call, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

/** This stack's own secret, so the default development secret counts as a forgery here. */
const SECRET = "whsec_webhooks_test_secret";
const DEFAULT_SECRET = "whsec_sandbox_development";

let stack: TestStack;
const started: string[] = [];
beforeAll(async () => {
  stack = await startTestStack({ paymentActionTimeoutSeconds: 120, env: { SANDBOX_WEBHOOK_SECRET: SECRET } });
});
afterAll(async () => {
  // The tok_3ds checkouts still wait for their customer: end them rather than leave them running.
  await Promise.all(
    started.map((id) =>
      stack.temporal.workflow
        .getHandle(`checkout-${id}`)
        .terminate("webhooks test done")
        .catch(() => {}),
    ),
  );
  await stack?.stop();
});

const eventId = () => `evt_${randomBytes(12).toString("hex")}`;

/** An event shaped like the one the sandbox sends (sandbox/ledger.ts deliverWebhook). */
function chargeEvent(charge: { id: string; checkoutId: string; status?: string }, type = "charge.succeeded", id = eventId()) {
  const now = new Date().toISOString();
  return JSON.stringify({
    id,
    type,
    created: Date.now(),
    data: {
      id: charge.id,
      idempotencyKey: `checkout-${charge.checkoutId}:payment`,
      checkoutId: charge.checkoutId,
      amount: 3998,
      currency: "USD",
      status: charge.status ?? "SUCCEEDED",
      declineCode: null,
      refundedAmount: 0,
      requests: 1,
      createdAt: now,
      updatedAt: now,
    },
  });
}

function post(body: string, headers: Record<string, string>, provider = "sandbox") {
  return call(stack.url, "POST", `/webhooks/${provider}`, body, { "content-type": "application/json", ...headers });
}

const signed = (body: string, secret = SECRET, timestamp?: number) => ({
  "sandbox-signature": signPayload(body, secret, timestamp),
});

async function paymentEventSignals(checkoutId: string) {
  const history = await stack.temporal.workflow.getHandle(`checkout-${checkoutId}`).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === "paymentEvent");
}

/** A tok_3ds checkout waiting for its customer: the kind of checkout webhooks are about. */
async function waitingCheckout() {
  const id = await startCheckout(stack.url, validCheckout("tok_3ds"));
  started.push(id);
  const waiting = await waitForCheckout(stack.url, id, (b) => b.status === "REQUIRES_ACTION", 20_000);
  return { id, chargeId: waiting.payment.gatewayReference as string };
}

async function expectStillWaiting(id: string) {
  expect(await paymentEventSignals(id)).toEqual([]);
  const seen = await call(stack.url, "GET", `/checkouts/${id}`);
  expect(seen.json).toMatchObject({ status: "REQUIRES_ACTION", step: "AWAITING_CUSTOMER" });
  expect(await stack.db.webhookEvent.count({ where: { checkoutId: id } })).toBe(0);
}

describe("refused webhooks: 400, nothing signalled", () => {
  it("refuses a forged signature (wrong secret, or a body changed after signing)", async () => {
    const { id, chargeId } = await waitingCheckout();
    const body = chargeEvent({ id: chargeId, checkoutId: id });

    const wrongSecret = await post(body, signed(body, DEFAULT_SECRET));
    expect(wrongSecret.status, wrongSecret.text).toBe(400);
    expect(wrongSecret.headers.get("content-type")).toMatch(/application\/json/);
    expect(wrongSecret.json.error.code).toBe("invalid_signature");

    const tampered = await post(body.replace('"amount":3998', '"amount":1'), signed(body));
    expect(tampered.status, tampered.text).toBe(400);
    expect(tampered.json.error.code).toBe("invalid_signature");

    const garbage = await post(body, { "sandbox-signature": `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}` });
    expect(garbage.status, garbage.text).toBe(400);
    expect(garbage.json.error.code).toBe("invalid_signature");

    await expectStillWaiting(id);
  });

  it("refuses a stale signature (signed 10 minutes ago)", async () => {
    const { id, chargeId } = await waitingCheckout();
    const body = chargeEvent({ id: chargeId, checkoutId: id });
    const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;

    const stale = await post(body, signed(body, SECRET, tenMinutesAgo));
    expect(stale.status, stale.text).toBe(400);
    expect(stale.json.error.code).toBe("invalid_signature");
    expect(stale.json.error.message).toMatch(/tolerance/);
    await expectStillWaiting(id);
  });

  it("refuses a webhook without the signature header, or with a malformed one", async () => {
    const { id, chargeId } = await waitingCheckout();
    const body = chargeEvent({ id: chargeId, checkoutId: id });

    const missing = await post(body, {});
    expect(missing.status, missing.text).toBe(400);
    expect(missing.json.error.code).toBe("invalid_signature");
    expect(missing.json.error.message).toMatch(/missing/);

    const malformed = await post(body, { "sandbox-signature": "nonsense" });
    expect(malformed.status, malformed.text).toBe(400);
    expect(malformed.json.error.code).toBe("invalid_signature");
    await expectStillWaiting(id);
  });
});

describe("accepted webhooks", () => {
  it("signals a waiting checkout once, and acknowledges the redelivered event as a duplicate", async () => {
    const { id, chargeId } = await waitingCheckout();
    const body = chargeEvent({ id: chargeId, checkoutId: id });
    const evt = JSON.parse(body).id as string;

    const first = await post(body, signed(body));
    expect(first.status, first.text).toBe(200);
    expect(first.json).toEqual({ received: true, matched: true });

    // Providers redeliver with a fresh signature over the same body.
    const again = await post(body, signed(body));
    expect(again.status, again.text).toBe(200);
    expect(again.json).toEqual({ received: true, duplicate: true });

    const signals = await paymentEventSignals(id);
    expect(signals).toHaveLength(1);
    expect(await stack.db.webhookEvent.count({ where: { provider: "sandbox", eventId: evt } })).toBe(1);

    // The workflow asked the sandbox, which still waits for the customer: the checkout waits on.
    await new Promise((r) => setTimeout(r, 1000));
    const seen = await call(stack.url, "GET", `/checkouts/${id}`);
    expect(seen.json).toMatchObject({ status: "REQUIRES_ACTION", step: "AWAITING_CUSTOMER" });
    expect(seen.json.payment.status).toBe("REQUIRES_ACTION");
  });

  it("acknowledges an event about an unknown checkout or payment (matched: false) and keeps serving", async () => {
    const unknownCheckout = chargeEvent({
      id: "ch_000000000000000000000000",
      checkoutId: "chk_00000000000000000000000000000000",
    });
    const res = await post(unknownCheckout, signed(unknownCheckout));
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ received: true, matched: false });

    // A payment that is none of ours: no checkoutId at all.
    const foreign = JSON.stringify({ id: eventId(), type: "charge.succeeded", created: Date.now(), data: { id: "ch_foreign" } });
    const res2 = await post(foreign, signed(foreign));
    expect(res2.status, res2.text).toBe(200);
    expect(res2.json).toEqual({ received: true, matched: false });

    // An event type we do not act on, for an unknown checkout.
    const other = chargeEvent({ id: "ch_other", checkoutId: "not-a-checkout" }, "charge.dispute.created");
    const res3 = await post(other, signed(other));
    expect(res3.status, res3.text).toBe(200);
    expect(res3.json.matched).toBe(false);

    const health = await call(stack.url, "GET", "/health");
    expect(health.status).toBe(200);
  });

  it("answers 404 JSON for a provider path that does not exist or is not configured", async () => {
    const body = chargeEvent({ id: "ch_x", checkoutId: "chk_00000000000000000000000000000000" });
    for (const provider of ["nope", "stripe"]) {
      const res = await post(body, signed(body), provider);
      expect(res.status, res.text).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/application\/json/);
      expect(res.json.error.code).toBe("not_found");
    }
  });
});
