// Paying again after a decline (POST /orders/{id}/payments), on the real stack: the checkout
// waits for a new payment for PAY_AGAIN_WINDOW_SECONDS instead of failing; the new payment is a
// payment step of its own under its own idempotency key, so two racing requests make one charge;
// when the window passes, the order is cancelled and the customer told. The default (0) keeps a
// decline final, as every other test file's stack shows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.ts";
import { checkoutWorkflowId } from "../workflows/definitions.ts";
import { call, chargesFor, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { recordHistory } from "./support/record-history.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const mailsFor = (stack: TestStack, checkoutId: string) => stack.mail.messages.filter((m) => m.raw.includes(checkoutId));
const awaitingPayment = (body: any) => body?.status === "REQUIRES_PAYMENT_METHOD";
const ended = (body: any) => ["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"].includes(body?.status);
const payAgain = (stack: TestStack, orderId: string, token: string, headers: Record<string, string> = {}) =>
  call(stack.url, "POST", `/orders/${orderId}/payments`, { payment: { provider: "sandbox", token } }, headers);

describe("the default window", () => {
  it("is 0: a decline fails the checkout at once, as before", () => {
    expect(loadConfig({}).payAgainWindowSeconds).toBe(0);
    expect(loadConfig({ PAY_AGAIN_WINDOW_SECONDS: "600" }).payAgainWindowSeconds).toBe(600);
    expect(() => loadConfig({ PAY_AGAIN_WINDOW_SECONDS: "-1" })).toThrow(/PAY_AGAIN_WINDOW_SECONDS/);
  });
});

describe("pay again after a decline", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { PAY_AGAIN_WINDOW_SECONDS: "120" } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("waits for a new payment after a decline, then completes with one charge and two attempts in the audit", async () => {
    // Prefer: wait answers at the decline, not at the end of the window.
    const startedAt = Date.now();
    const started = await call(stack.url, "POST", "/checkouts", validCheckout("tok_decline"), { prefer: "wait=20" });
    expect(started.status, started.text).toBe(202);
    expect(started.json.status).toBe("REQUIRES_PAYMENT_METHOD");
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    const id = started.json.id as string;

    const waiting = await waitForCheckout(stack.url, id, awaitingPayment);
    expect(waiting).toMatchObject({
      step: "AWAITING_PAYMENT_METHOD",
      order: { status: "PENDING_PAYMENT" },
      payment: { status: "FAILED", failureCode: "card_declined", payAgainUntil: expect.any(String) },
      failureReason: "Your card was declined.",
      links: { payAgain: `/orders/${waiting.order.id}/payments` },
    });
    expect(Date.parse(waiting.payment.payAgainUntil)).toBeGreaterThan(Date.now() + 60_000);

    // The customer did not start this: nothing to pay for yet on another token's behalf, and no email.
    expect(mailsFor(stack, id)).toHaveLength(0);

    const paid = await payAgain(stack, waiting.order.id, "tok_approve", { prefer: "wait=20" });
    expect(paid.status, paid.text).toBe(202);
    const done = await waitForCheckout(stack.url, id, ended);
    expect(done.status).toBe("COMPLETED");
    expect(done.order.status).toBe("PAID");
    expect(done.payment).toMatchObject({ status: "SUCCEEDED", gatewayReference: expect.any(String) });
    expect(done.payment.payments).toEqual([
      expect.objectContaining({ number: 1, outcome: "declined", failureCode: "card_declined" }),
      expect.objectContaining({ number: 2, outcome: "succeeded", idempotencyKey: `${checkoutWorkflowId(id)}:payment-2` }),
    ]);

    // Two charges asked of the provider, under two keys; one took money.
    const charges = await chargesFor(stack.url, id);
    expect(charges.map((c) => [c.idempotencyKey, c.status]).sort()).toEqual([
      [`${checkoutWorkflowId(id)}:payment`, "DECLINED"],
      [`${checkoutWorkflowId(id)}:payment-2`, "SUCCEEDED"],
    ]);
    expect(await stack.db.sandboxCharge.count({ where: { checkoutId: id, status: "SUCCEEDED" } })).toBe(1);

    // Both attempts, and the update that brought the second, are in the history and its audit.
    const audit = await call(stack.url, "GET", `/checkouts/${id}/audit`);
    expect(audit.status, audit.text).toBe(200);
    expect(audit.text).not.toContain("tok_approve");
    expect(audit.json.attempts.map((a: any) => [a.activityType, a.outcome])).toEqual([
      ["initiatePayment", "declined"],
      ["initiatePayment", "succeeded"],
    ]);
    expect(audit.json.steps.filter((s: any) => s.activityType === "initiatePayment").map((s: any) => s.result)).toEqual([
      "failed",
      "completed",
    ]);
    expect(audit.json.updates.filter((u: any) => u.name !== "awaitPaymentAnswer")).toEqual([
      expect.objectContaining({ name: "payAgain", result: "completed", input: { provider: "sandbox", method: "card" } }),
    ]);

    // One email: the payment received.
    const mails = mailsFor(stack, id);
    expect(mails.map((m) => m.subject)).toEqual(["Payment received: $39.98"]);

    // Paid: nothing more to pay.
    const again = await payAgain(stack, waiting.order.id, "tok_approve");
    expect(again.status, again.text).toBe(409);
    expect(again.json.error.code).toBe("payment_not_awaited");
    await recordHistory(stack.temporal, checkoutWorkflowId(id), "checkout-pay-again-completed.json");
  });

  it("two concurrent new payments make one charge: the second is refused or finds the first in progress", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_insufficient_funds"));
    const waiting = await waitForCheckout(stack.url, id, awaitingPayment);
    const answers = await Promise.all([
      payAgain(stack, waiting.order.id, "tok_slow"),
      payAgain(stack, waiting.order.id, "tok_approve"),
      payAgain(stack, waiting.order.id, "tok_approve"),
    ]);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses, answers.map((a) => a.text).join("\n")).toEqual([202, 409, 409]);
    for (const refused of answers.filter((a) => a.status === 409)) {
      expect(refused.json.error.code).toBe("payment_not_awaited");
      expect(refused.json.error.message).toMatch(/already in progress|already COMPLETED|already ended/);
    }
    const done = await waitForCheckout(stack.url, id, ended);
    expect(done.status).toBe("COMPLETED");
    expect(await stack.db.sandboxCharge.count({ where: { checkoutId: id, status: "SUCCEEDED" } })).toBe(1);
    expect(await stack.db.sandboxCharge.count({ where: { checkoutId: id } })).toBe(2);
  });

  it("a new payment declined again waits again; a cancel while waiting ends it CANCELLED, uncharged", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_decline"));
    const first = await waitForCheckout(stack.url, id, awaitingPayment);
    const declinedAgain = await payAgain(stack, first.order.id, "tok_expired_card", { prefer: "wait=20" });
    expect(declinedAgain.status, declinedAgain.text).toBe(202);
    expect(declinedAgain.json.status).toBe("REQUIRES_PAYMENT_METHOD");
    expect(declinedAgain.json.payment.failureCode).toBe("expired_card");

    const cancelled = await call(stack.url, "POST", `/checkouts/${id}/cancel`, { reason: "gave up" });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json).toMatchObject({ status: "CANCELLED", order: { status: "CANCELLED" } });
    expect(await stack.db.sandboxCharge.count({ where: { checkoutId: id, status: "SUCCEEDED" } })).toBe(0);
    expect(mailsFor(stack, id).map((m) => m.subject)).toEqual(["Your order was cancelled"]);
  });

  it("refuses a new payment for an order that is not awaiting one, another merchant's order, and bad input", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    const done = await waitForCheckout(stack.url, id, ended);
    const refused = await payAgain(stack, done.order.id, "tok_approve");
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toBe("The checkout has already ended (the order is PAID).");

    expect((await payAgain(stack, "ord_unknown", "tok_approve")).status).toBe(404);
    const bad = await call(stack.url, "POST", `/orders/${done.order.id}/payments`, {
      payment: { provider: "sandbox", token: "4242424242424242" },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields[0].field).toBe("payment.token");
    // A browser needs the checkout's client secret.
    const browser = { authorization: `Bearer ${stack.publishableKey}` };
    expect((await payAgain(stack, done.order.id, "tok_approve", browser)).status).toBe(404);
  });

  it("lets the customer's browser pay again with a publishable key and the checkout's client secret", async () => {
    const started = await call(stack.url, "POST", "/checkouts", validCheckout("tok_decline"), {
      authorization: `Bearer ${stack.publishableKey}`,
    });
    expect(started.status, started.text).toBe(202);
    const { id, clientSecret } = started.json;
    const waiting = await waitForCheckout(stack.url, id, awaitingPayment);
    const browser = { authorization: `Bearer ${stack.publishableKey}`, prefer: "wait=20" };
    // The browser learns the order to pay for from its own view of the checkout.
    const own = await call(stack.url, "GET", `/checkouts/${id}?client_secret=${clientSecret}`, undefined, browser);
    expect(own.json).toMatchObject({ status: "REQUIRES_PAYMENT_METHOD", orderId: waiting.order.id });
    const wrong = await call(
      stack.url,
      "POST",
      `/orders/${waiting.order.id}/payments?client_secret=${clientSecret}x`,
      { payment: { provider: "sandbox", token: "tok_approve" } },
      browser,
    );
    expect(wrong.status).toBe(404);
    const paid = await call(
      stack.url,
      "POST",
      `/orders/${waiting.order.id}/payments?client_secret=${clientSecret}`,
      { payment: { provider: "sandbox", token: "tok_approve" } },
      browser,
    );
    expect(paid.status, paid.text).toBe(202);
    // The browser's view: status and action only.
    expect(Object.keys(paid.json).sort()).toEqual(["failureReason", "id", "orderId", "payment", "status"]);
    expect((await waitForCheckout(stack.url, id, ended)).status).toBe("COMPLETED");
  });
});

describe("the window passes without a new payment", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { PAY_AGAIN_WINDOW_SECONDS: "2" } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("cancels the order and emails the customer; nothing was charged", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_decline"));
    await waitForCheckout(stack.url, id, awaitingPayment, 20_000);
    const done = await waitForCheckout(stack.url, id, ended, 30_000);
    expect(done).toMatchObject({
      status: "EXPIRED",
      step: "DONE",
      order: { status: "CANCELLED" },
      payment: { status: "CANCELLED" },
      failureReason: "Your payment was declined and no new payment was made in time.",
    });
    expect(await stack.db.sandboxCharge.count({ where: { checkoutId: id, status: "SUCCEEDED" } })).toBe(0);
    const mails = mailsFor(stack, id);
    expect(mails.map((m) => [m.to, m.subject])).toEqual([[["ada@example.com"], "Your order expired before payment"]]);
    expect(await stack.db.event.findMany({ where: { checkoutId: id }, select: { type: true } })).toEqual([
      { type: "checkout.expired" },
    ]);
    await recordHistory(stack.temporal, checkoutWorkflowId(id), "checkout-pay-again-expired.json");
  });
});
