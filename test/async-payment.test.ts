// Payments that wait for the customer (3-D Secure on the sandbox, token tok_3ds): the checkout
// shows REQUIRES_ACTION with the page to send the customer to; the sandbox's signed webhook wakes
// the workflow, which asks the provider; when the deadline passes, the provider is asked one last
// time (reconciliation): a payment made without a webhook completes, an unpaid one expires.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const mailsFor = (stack: TestStack, checkoutId: string) => stack.mail.messages.filter((m) => m.raw.includes(checkoutId));

async function ledger(stack: TestStack, checkoutId: string) {
  const res = await call(stack.url, "GET", `/sandbox/charges?checkoutId=${checkoutId}`);
  expect(res.status).toBe(200);
  return res.json.data as Array<{ id: string; status: string; amount: number; declineCode: string | null }>;
}

/** The paymentEvent signals recorded in the checkout's workflow history (the audit trail). */
async function paymentEventSignals(stack: TestStack, checkoutId: string) {
  const history = await stack.temporal.workflow.getHandle(`checkout-${checkoutId}`).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === "paymentEvent");
}

const requiresAction = (body: any) => body?.status === "REQUIRES_ACTION";
const is = (status: string) => (body: any) => body?.status === status;

/** Starts a tok_3ds checkout and waits until it asks for the customer's authentication. */
async function startAwaitingCustomer(stack: TestStack) {
  const id = await startCheckout(stack.url, validCheckout("tok_3ds"));
  const waiting = await waitForCheckout(stack.url, id, requiresAction, 20_000);
  return { id, waiting, chargeId: waiting.payment.gatewayReference as string };
}

async function authenticate(stack: TestStack, chargeId: string, body: { outcome: "succeeded" | "failed"; notify?: boolean }) {
  const res = await call(stack.url, "POST", `/sandbox/charges/${chargeId}/authenticate`, body);
  expect(res.status, res.text).toBe(200);
  return res.json;
}

describe("3-D Secure, settled by the customer before the deadline", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ paymentActionTimeoutSeconds: 120 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("shows the authentication page, and the webhook completes the checkout at once", async () => {
    const { id, waiting, chargeId } = await startAwaitingCustomer(stack);

    expect(waiting.step).toBe("AWAITING_CUSTOMER");
    expect(waiting.payment.status).toBe("REQUIRES_ACTION");
    expect(chargeId).toMatch(/^ch_[0-9a-f]+$/);
    expect(waiting.payment.action).toEqual({ type: "redirect", url: `${stack.url}/sandbox/charges/${chargeId}/authenticate` });
    expect(waiting.order.status).toBe("PENDING_PAYMENT");
    expect((await ledger(stack, id)).map((c) => c.status)).toEqual(["REQUIRES_ACTION"]);

    // The page the customer is sent to.
    const page = await fetch(waiting.payment.action.url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain(chargeId);

    const answeredAt = Date.now();
    const settled = await authenticate(stack, chargeId, { outcome: "succeeded" });
    expect(settled).toMatchObject({ id: chargeId, status: "SUCCEEDED" });

    const done = await waitForCheckout(stack.url, id, is("COMPLETED"), 20_000);
    // Woken by the webhook, not by the 120 s deadline.
    expect(Date.now() - answeredAt).toBeLessThan(20_000);
    expect(done.step).toBe("DONE");
    expect(done.payment).toMatchObject({ status: "SUCCEEDED", provider: "sandbox", gatewayReference: chargeId, action: null });
    expect(done.order.status).toBe("PAID");

    const charges = await ledger(stack, id);
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({ id: chargeId, status: "SUCCEEDED", amount: 3998 });

    const signals = await paymentEventSignals(stack, id);
    expect(signals).toHaveLength(1);
    expect(mailsFor(stack, id).map((m) => m.subject)).toEqual(["Payment received: $39.98"]);
  });

  it("fails the checkout when the customer refuses authentication", async () => {
    const { id, chargeId } = await startAwaitingCustomer(stack);
    await authenticate(stack, chargeId, { outcome: "failed" });

    const done = await waitForCheckout(stack.url, id, is("FAILED"), 20_000);
    expect(done.step).toBe("DONE");
    expect(done.failureReason).toMatch(/authenticat/i);
    expect(done.payment).toMatchObject({ status: "FAILED", failureCode: "authentication_failed" });
    expect(done.order.status).toBe("PAYMENT_FAILED");
    expect((await ledger(stack, id)).map((c) => c.status)).toEqual(["DECLINED"]);
    expect(await paymentEventSignals(stack, id)).toHaveLength(1);

    const mails = mailsFor(stack, id);
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe("Your payment of $39.98 did not go through");
    expect(mails[0].raw).toMatch(/authentication/);
  });

  it("refuses to cancel while the customer is authenticating (409), and the payment goes on", async () => {
    const { id, chargeId } = await startAwaitingCustomer(stack);

    const refused = await call(stack.url, "POST", `/checkouts/${id}/cancel`, { reason: "changed my mind" });
    expect(refused.status, refused.text).toBe(409);
    expect(refused.json.error.code).toBe("not_cancellable");

    const still = await call(stack.url, "GET", `/checkouts/${id}`);
    expect(still.json).toMatchObject({ status: "REQUIRES_ACTION", step: "AWAITING_CUSTOMER" });
    expect(still.json.order.status).toBe("PENDING_PAYMENT");

    await authenticate(stack, chargeId, { outcome: "succeeded" });
    const done = await waitForCheckout(stack.url, id, is("COMPLETED"), 20_000);
    expect(done.order.status).toBe("PAID");
    expect((await ledger(stack, id)).map((c) => c.status)).toEqual(["SUCCEEDED"]);
  });
});

describe("the deadline passes", () => {
  const ACTION_TIMEOUT_SECONDS = 3;
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ paymentActionTimeoutSeconds: ACTION_TIMEOUT_SECONDS });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("completes a payment whose webhook was lost: reconciliation finds it", async () => {
    const { id, chargeId } = await startAwaitingCustomer(stack);
    const startedWaiting = Date.now();
    await authenticate(stack, chargeId, { outcome: "succeeded", notify: false });

    const done = await waitForCheckout(stack.url, id, (b) => ["COMPLETED", "FAILED", "EXPIRED"].includes(b?.status), 20_000);
    expect(done.status).toBe("COMPLETED");
    // Nothing woke the workflow before its deadline.
    expect(Date.now() - startedWaiting).toBeGreaterThanOrEqual((ACTION_TIMEOUT_SECONDS - 1) * 1000);
    expect(done.payment).toMatchObject({ status: "SUCCEEDED", gatewayReference: chargeId });
    expect(done.order.status).toBe("PAID");

    const charges = await ledger(stack, id);
    expect(charges).toHaveLength(1);
    expect(charges[0].status).toBe("SUCCEEDED");
    expect(await paymentEventSignals(stack, id)).toEqual([]);
    expect(mailsFor(stack, id).map((m) => m.subject)).toEqual(["Payment received: $39.98"]);
  });

  it("expires an unpaid checkout: order and payment cancelled, customer told, nothing charged", async () => {
    const { id, chargeId } = await startAwaitingCustomer(stack);

    const done = await waitForCheckout(stack.url, id, (b) => ["COMPLETED", "FAILED", "EXPIRED"].includes(b?.status), 20_000);
    expect(done.status).toBe("EXPIRED");
    // The charge was cancelled at the provider: a late approval takes no money.
    const late = await call(stack.url, "POST", `/sandbox/charges/${chargeId}/authenticate`, { outcome: "succeeded" });
    expect(late.status).toBe(409);
    expect((await ledger(stack, id)).map((c) => [c.status, c.declineCode])).toEqual([["DECLINED", "canceled"]]);
    expect(done.step).toBe("DONE");
    expect(done.failureReason).toMatch(/not completed in time/);
    expect(done.order.status).toBe("CANCELLED");
    expect(done.payment.status).toBe("CANCELLED");
    expect(done.payment.action).toBeNull();

    const row = await stack.db.payment.findUnique({ where: { checkoutId: id } });
    expect(row?.status).toBe("CANCELLED");
    expect((await ledger(stack, id)).filter((c) => c.status === "SUCCEEDED")).toEqual([]);
    expect(await paymentEventSignals(stack, id)).toEqual([]);

    const mails = mailsFor(stack, id);
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toMatch(/expired/i);
    expect(mails[0].subject).toBe("Your order expired before payment");
  });
});
