// GET /checkouts/{id}/audit: the checkout's story from its workflow history, on the real stack:
// every payment attempt (the history keeps only the last failure), the steps with their times,
// the webhook signal, the cancel update; running and closed checkouts alike; never the email or
// the token.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditTimeline } from "../api/schemas.ts";
import { call, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

async function audit(stack: TestStack, id: string, token: string) {
  const res = await call(stack.url, "GET", `/checkouts/${id}/audit`);
  expect(res.status, res.text).toBe(200);
  expect(res.text).not.toContain("ada@example.com");
  expect(res.text).not.toContain(token);
  return AuditTimeline.parse(res.json);
}

/** Polls the audit until `done` holds. */
async function auditUntil(stack: TestStack, id: string, token: string, done: (t: AuditTimeline) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last: AuditTimeline | undefined;
  while (Date.now() < deadline) {
    last = await audit(stack, id, token);
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`audit of ${id} did not get there; last seen: ${JSON.stringify(last)}`);
}

const inOrder = (times: Array<string | null>) => {
  const ms = times.map((t) => Date.parse(t ?? ""));
  expect(ms.every((t) => Number.isFinite(t))).toBe(true);
  expect([...ms].sort((a, b) => a - b)).toEqual(ms);
};

describe("the audit of a checkout", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ paymentActionTimeoutSeconds: 120 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("tells a flaky payment's three attempts, the steps in order, who and what", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_flaky"));
    expect((await waitForCheckout(stack.url, id)).status).toBe("COMPLETED");
    // The checkout's status settles before the workflow closes (it still starts its event child).
    const timeline = await auditUntil(stack, id, "tok_flaky", (t) => t.outcome !== null);

    expect(timeline.checkout).toMatchObject({
      id,
      workflowId: `checkout-${id}`,
      executionStatus: "COMPLETED",
      status: "COMPLETED",
    });
    expect(timeline.checkout.runIds).toContain(timeline.checkout.runId);
    expect(timeline.who.customerId).toBe("cus_1");
    expect(timeline.what).toEqual({
      amount: 3998,
      currency: "USD",
      itemCount: 1,
      provider: "sandbox",
      fallbackProviders: [],
      method: "card",
    });
    // Over loopback: the socket's address and fetch's User-Agent, no country (see test/origin.test.ts).
    expect(timeline.where).toEqual({ ip: "127.0.0.1", userAgent: "node" });

    expect(timeline.attempts.map((a) => [a.activityType, a.provider, a.attempt, a.outcome])).toEqual([
      ["initiatePayment", "sandbox", 1, "failed"],
      ["initiatePayment", "sandbox", 2, "failed"],
      ["initiatePayment", "sandbox", 3, "succeeded"],
    ]);
    for (const failed of timeline.attempts.slice(0, 2)) {
      expect(failed.errorType).toBe("GatewayUnavailable");
      expect(failed.errorMessage).toMatch(/^sandbox answered 503/);
    }
    expect(timeline.attempts[2]).toMatchObject({ errorType: null, errorMessage: null });
    inOrder(timeline.attempts.flatMap((a) => [a.startedAt, a.endedAt]));

    expect(timeline.steps.map((s) => [s.activityType, s.result])).toEqual([
      ["createOrder", "completed"],
      ["initiatePayment", "completed"],
      ["sendNotification", "completed"],
    ]);
    expect(timeline.steps.map((s) => s.attempts)).toEqual([1, 3, 1]);
    inOrder([timeline.startedAt, ...timeline.steps.flatMap((s) => [s.scheduledAt, s.startedAt, s.endedAt]), timeline.closedAt]);
    // The history keeps the last attempt's start: the third attempt's, the one that succeeded.
    expect(Date.parse(timeline.steps[1].startedAt!)).toBeGreaterThanOrEqual(Date.parse(timeline.attempts[1].endedAt));

    expect(timeline.signals).toEqual([]);
    // No workflow but its own: its events are in the outbox, and the batch archiver copies its history.
    expect(timeline.children).toEqual([]);
    expect(timeline.events.map((e) => e.type)).toEqual(["payment.succeeded", "checkout.completed"]);
    expect(timeline.outcome).toEqual({ executionStatus: "COMPLETED", status: "COMPLETED", message: null, failureType: null });
  });

  it("tells a checkout waiting for 3-D Secure, then the webhook that settled it", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_3ds"));
    const waiting = await waitForCheckout(stack.url, id, (body) => body.status === "REQUIRES_ACTION", 20_000);

    const running = await audit(stack, id, "tok_3ds");
    expect(running.checkout).toMatchObject({ executionStatus: "RUNNING", status: "REQUIRES_ACTION" });
    expect(running.closedAt).toBeNull();
    expect(running.outcome).toBeNull();
    expect(running.steps.map((s) => [s.activityType, s.result])).toEqual([
      ["createOrder", "completed"],
      ["initiatePayment", "completed"],
    ]);
    expect(running.attempts.map((a) => [a.activityType, a.attempt, a.outcome])).toEqual([
      ["initiatePayment", 1, "requires_action"],
    ]);
    expect(running.timers).toEqual([expect.objectContaining({ seconds: 120, result: "pending", endedAt: null })]);
    expect(running.signals).toEqual([]);

    const chargeId = waiting.payment.gatewayReference as string;
    const res = await call(stack.url, "POST", `/sandbox/charges/${chargeId}/authenticate`, { outcome: "succeeded" });
    expect(res.status, res.text).toBe(200);

    const settled = await auditUntil(stack, id, "tok_3ds", (t) => t.outcome !== null);
    expect(settled.checkout).toMatchObject({ executionStatus: "COMPLETED", status: "COMPLETED" });
    expect(settled.signals).toEqual([
      {
        name: "paymentEvent",
        at: expect.any(String),
        identity: expect.any(String),
        input: { provider: "sandbox", eventId: expect.any(String), kind: "payment.succeeded", reference: chargeId },
      },
    ]);
    expect(settled.steps.map((s) => [s.activityType, s.result])).toEqual([
      ["createOrder", "completed"],
      ["initiatePayment", "completed"],
      ["reconcilePayment", "completed"],
      ["sendNotification", "completed"],
    ]);
    expect(settled.attempts.map((a) => [a.activityType, a.outcome])).toEqual([
      ["initiatePayment", "requires_action"],
      ["reconcilePayment", "succeeded"],
    ]);
    // The reconciliation follows the webhook; the deadline timer was cancelled by the payment.
    expect(Date.parse(settled.steps[2].scheduledAt)).toBeGreaterThanOrEqual(Date.parse(settled.signals[0].at));
    expect(settled.timers).toEqual([expect.objectContaining({ result: "cancelled", endedAt: expect.any(String) })]);
  });

  it("tells a declined payment: one attempt, the reason, the failed outcome", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_decline"));
    await waitForCheckout(stack.url, id);
    const timeline = await auditUntil(stack, id, "tok_decline", (t) => t.outcome !== null);

    expect(timeline.attempts.map((a) => [a.attempt, a.outcome, a.errorType, a.errorMessage])).toEqual([
      [1, "declined", "PaymentDeclined", "Your card was declined."],
    ]);
    expect(timeline.steps.find((s) => s.activityType === "initiatePayment")).toMatchObject({
      result: "failed",
      attempts: 1,
      failure: { type: "PaymentDeclined", message: "Your card was declined." },
    });
    expect(timeline.outcome).toEqual({
      executionStatus: "FAILED",
      status: "FAILED",
      message: "Your card was declined.",
      failureType: "CheckoutFailed",
    });
  });

  it("answers 404 for an unknown checkout, and is in the OpenAPI document", async () => {
    for (const id of ["chk_00000000000000000000000000000000", "nope"]) {
      const res = await call(stack.url, "GET", `/checkouts/${id}/audit`);
      expect(res.status, res.text).toBe(404);
      expect(res.json.error.code).toBe("not_found");
    }
    const doc = await call(stack.url, "GET", "/openapi.json");
    expect(doc.json.paths["/checkouts/{id}/audit"].get.responses["200"]).toBeDefined();
  });
});

describe("the audit of a cancelled checkout", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ startWorker: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("shows the cancel update, with its reason, and no payment attempt", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    const cancelling = call(stack.url, "POST", `/checkouts/${id}/cancel`, { reason: "changed my mind" });
    cancelling.catch(() => {}); // awaited below
    await new Promise((r) => setTimeout(r, 500));
    await stack.startWorker();
    const cancelled = await cancelling;
    expect(cancelled.status, cancelled.text).toBe(200);

    const timeline = await auditUntil(stack, id, "tok_approve", (t) => t.outcome !== null);
    expect(timeline.checkout).toMatchObject({ executionStatus: "COMPLETED", status: "CANCELLED" });
    expect(timeline.outcome).toMatchObject({ status: "CANCELLED" });
    expect(timeline.updates).toEqual([
      expect.objectContaining({
        name: "cancel",
        result: "completed",
        input: { reason: "changed my mind" },
        acceptedAt: expect.any(String),
        completedAt: expect.any(String),
        failure: null,
      }),
    ]);
    expect(timeline.steps.map((s) => s.activityType)).toEqual(["createOrder", "cancelOrder", "sendNotification"]);
    expect(timeline.attempts).toEqual([]);
  });
});
