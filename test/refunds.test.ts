// Refunds on the sandbox provider, over real HTTP: one refund per Idempotency-Key, never more than
// was captured (concurrent refunds included), the ledger and the order kept in step, one email per
// refund; and the refusals (too much, no key, nothing captured, unknown checkout).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const mailsFor = (checkoutId: string) => stack.mail.messages.filter((m) => m.raw.includes(checkoutId));
const refundMails = (checkoutId: string) => mailsFor(checkoutId).filter((m) => m.subject.startsWith("Refund issued"));
const newKey = () => `refund-${randomUUID()}`;

function requestRefund(checkoutId: string, body: unknown, key?: string) {
  return call(stack.url, "POST", `/checkouts/${checkoutId}/refunds`, body, key ? { "idempotency-key": key } : {});
}

async function refundsOf(checkoutId: string) {
  const res = await call(stack.url, "GET", `/checkouts/${checkoutId}/refunds`);
  expect(res.status, res.text).toBe(200);
  return res.json.data as Array<{
    id: string;
    status: string;
    amount: number;
    currency: string;
    gatewayReference: string | null;
  }>;
}

/** Polls the refund list until the refund has left PENDING. */
async function settledRefund(checkoutId: string, refundId: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const refund = (await refundsOf(checkoutId)).find((r) => r.id === refundId);
    last = refund;
    if (refund && refund.status !== "PENDING") return refund;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`refund ${refundId} did not settle in ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`);
}

async function ledgerCharge(checkoutId: string) {
  const res = await call(stack.url, "GET", `/sandbox/charges?checkoutId=${checkoutId}`);
  expect(res.status).toBe(200);
  expect(res.json.data).toHaveLength(1);
  return res.json.data[0] as { id: string; status: string; amount: number; refundedAmount: number };
}

async function completedCheckout(token = "tok_approve") {
  const id = await startCheckout(stack.url, validCheckout(token));
  const done = await waitForCheckout(stack.url, id);
  return { id, done };
}

describe("refunding a completed checkout of $39.98", () => {
  let checkoutId: string;
  let firstKey: string;
  let firstRefundId: string;

  beforeAll(async () => {
    const { id, done } = await completedCheckout();
    expect(done.status).toBe("COMPLETED");
    expect(done.totalAmount).toBe(3998);
    checkoutId = id;
  });

  it("refunds part of it: SUCCEEDED with the provider's reference, ledger updated, one email", async () => {
    firstKey = newKey();
    const accepted = await requestRefund(checkoutId, { amount: 1000 }, firstKey);
    expect(accepted.status, accepted.text).toBe(202);
    expect(accepted.json).toMatchObject({ id: expect.stringMatching(/^re_/), status: "PENDING" });
    expect(accepted.json.links.refunds).toBe(`/checkouts/${checkoutId}/refunds`);
    firstRefundId = accepted.json.id;

    const refund = await settledRefund(checkoutId, firstRefundId);
    expect(refund).toMatchObject({ status: "SUCCEEDED", amount: 1000, currency: "USD" });
    expect(refund.gatewayReference).toMatch(/^re_[0-9a-f]+$/);

    const charge = await ledgerCharge(checkoutId);
    expect(charge).toMatchObject({ status: "SUCCEEDED", amount: 3998, refundedAmount: 1000 });
    const atSandbox = await stack.db.sandboxRefund.findMany({ where: { chargeId: charge.id } });
    expect(atSandbox.map((r) => [r.id, r.amount])).toEqual([[refund.gatewayReference, 1000n]]);

    // The refund workflow's email may land a moment after the row turned SUCCEEDED.
    await expect
      .poll(() => refundMails(checkoutId).map((m) => m.subject), { timeout: 10_000 })
      .toEqual(["Refund issued: $10.00"]);

    const checkout = await call(stack.url, "GET", `/checkouts/${checkoutId}`);
    expect(checkout.json.payment.refundedAmount).toBe(1000);
    expect(checkout.json.order.status).toBe("PAID");
    expect(checkout.json.refunds.map((r: any) => r.id)).toEqual([firstRefundId]);
  });

  it("answers a retried request (same key, same body) with the same refund, and refunds once", async () => {
    const again = await requestRefund(checkoutId, { amount: 1000 }, firstKey);
    expect(again.status, again.text).toBe(202);
    expect(again.json.id).toBe(firstRefundId);

    // Give a wrongly started second refund time to show.
    await new Promise((r) => setTimeout(r, 1500));
    const refunds = await refundsOf(checkoutId);
    expect(refunds.map((r) => [r.id, r.status, r.amount])).toEqual([[firstRefundId, "SUCCEEDED", 1000]]);
    const charge = await ledgerCharge(checkoutId);
    expect(charge.refundedAmount).toBe(1000);
    expect(await stack.db.sandboxRefund.count({ where: { chargeId: charge.id } })).toBe(1);
    expect(refundMails(checkoutId)).toHaveLength(1);

    // The same key for another amount is a different request: refused.
    const reused = await requestRefund(checkoutId, { amount: 500 }, firstKey);
    expect(reused.status, reused.text).toBe(422);
    expect(reused.json.error.code).toBe("idempotency_key_reused");
    expect(reused.json.error.fields[0].field).toBe("header.idempotency-key");
  });

  it("refuses more than is left (422, field amount) and a request without an Idempotency-Key (400)", async () => {
    const tooMuch = await requestRefund(checkoutId, { amount: 2999 }, newKey());
    expect(tooMuch.status, tooMuch.text).toBe(422);
    expect(tooMuch.json.error.code).toBe("refund_exceeds_captured");
    expect(tooMuch.json.error.fields).toEqual([{ field: "amount", reason: expect.stringContaining("2998") }]);

    const noKey = await requestRefund(checkoutId, { amount: 100 });
    expect(noKey.status, noKey.text).toBe(400);
    expect(noKey.json.error.code).toBe("validation_failed");
    expect(noKey.json.error.fields.map((f: any) => f.field)).toContain("header.idempotency-key");

    expect((await refundsOf(checkoutId)).map((r) => r.id)).toEqual([firstRefundId]);
    expect((await ledgerCharge(checkoutId)).refundedAmount).toBe(1000);
  });

  it("refunds the rest when no amount is given: order REFUNDED, payment.refundedAmount 3998", async () => {
    const accepted = await requestRefund(checkoutId, undefined, newKey());
    expect(accepted.status, accepted.text).toBe(202);
    expect(accepted.json.id).not.toBe(firstRefundId);

    const refund = await settledRefund(checkoutId, accepted.json.id);
    expect(refund).toMatchObject({ status: "SUCCEEDED", amount: 2998 });
    expect(refund.gatewayReference).toMatch(/^re_/);

    const checkout = await call(stack.url, "GET", `/checkouts/${checkoutId}`);
    expect(checkout.json.status).toBe("COMPLETED");
    expect(checkout.json.order.status).toBe("REFUNDED");
    expect(checkout.json.payment.refundedAmount).toBe(3998);
    expect(checkout.json.refunds.map((r: any) => [r.amount, r.status])).toEqual([
      [1000, "SUCCEEDED"],
      [2998, "SUCCEEDED"],
    ]);
    expect((await ledgerCharge(checkoutId)).refundedAmount).toBe(3998);
    await expect
      .poll(() => refundMails(checkoutId).map((m) => m.subject), { timeout: 10_000 })
      .toEqual(["Refund issued: $10.00", "Refund issued: $29.98"]);

    // Nothing left: a further refund is refused.
    const nothingLeft = await requestRefund(checkoutId, undefined, newKey());
    expect(nothingLeft.status, nothingLeft.text).toBe(409);
    expect(nothingLeft.json.error.code).toBe("not_refundable");
    const overLeft = await requestRefund(checkoutId, { amount: 1 }, newKey());
    expect(overLeft.status, overLeft.text).toBe(422);
    expect(overLeft.json.error.code).toBe("refund_exceeds_captured");
  });
});

describe("refusals", () => {
  it("refuses to refund a checkout whose payment failed (409 not_refundable)", async () => {
    const { id, done } = await completedCheckout("tok_decline");
    expect(done.status).toBe("FAILED");
    const res = await requestRefund(id, { amount: 100 }, newKey());
    expect(res.status, res.text).toBe(409);
    expect(res.json.error.code).toBe("not_refundable");
    expect(await refundsOf(id)).toEqual([]);
  });

  it("answers 404 for an unknown checkout", async () => {
    for (const id of ["chk_00000000000000000000000000000000", "nope"]) {
      const res = await requestRefund(id, { amount: 100 }, newKey());
      expect(res.status, res.text).toBe(404);
      expect(res.json.error.code).toBe("not_found");
      const list = await call(stack.url, "GET", `/checkouts/${id}/refunds`);
      expect(list.status, list.text).toBe(404);
    }
  });
});

describe("concurrent refunds", () => {
  it("two different keys asking 2500 each of 3998 at once: exactly one refund succeeds, never both", async () => {
    const { id, done } = await completedCheckout();
    expect(done.status).toBe("COMPLETED");

    const answers = await Promise.all([
      requestRefund(id, { amount: 2500 }, newKey()),
      requestRefund(id, { amount: 2500 }, newKey()),
    ]);
    for (const a of answers) expect([202, 422], a.text).toContain(a.status);
    const accepted = answers.filter((a) => a.status === 202).map((a) => a.json.id as string);
    const refused = answers.filter((a) => a.status === 422);
    for (const r of refused) expect(r.json.error.code).toBe("refund_exceeds_captured");
    expect(accepted.length).toBeGreaterThanOrEqual(1);

    // Wait for every accepted refund's workflow to end (succeeded, or failed: refused at reservation).
    const outcomes = await Promise.all(
      accepted.map((refundId) =>
        stack.temporal.workflow
          .getHandle(`refund-${id}-${refundId}`)
          .result()
          .then(
            (result: any) => result.status as string,
            () => "WORKFLOW_FAILED",
          ),
      ),
    );

    const refunds = await refundsOf(id);
    const succeeded = refunds.filter((r) => r.status === "SUCCEEDED");
    expect(succeeded).toHaveLength(1);
    expect(succeeded[0].amount).toBe(2500);
    expect(refunds.filter((r) => r.status === "PENDING")).toEqual([]);
    // The other one was refused (422), or accepted and then ended FAILED: its workflow failed at the
    // reservation (then it has no refund row at all; see the report) or its row is FAILED.
    expect(refused.length + outcomes.filter((o) => o !== "SUCCEEDED").length).toBe(1);
    for (const [i, refundId] of accepted.entries()) {
      if (outcomes[i] === "SUCCEEDED") continue;
      const row = refunds.find((r) => r.id === refundId);
      if (row) expect(row.status).toBe("FAILED");
    }

    const charge = await ledgerCharge(id);
    expect(charge.refundedAmount).toBe(2500);
    expect(charge.refundedAmount).toBeLessThanOrEqual(3998);
    expect(await stack.db.sandboxRefund.count({ where: { chargeId: charge.id } })).toBe(1);

    const checkout = await call(stack.url, "GET", `/checkouts/${id}`);
    expect(checkout.json.payment.refundedAmount).toBe(2500);
    expect(checkout.json.order.status).toBe("PAID");
    await expect.poll(() => refundMails(id).map((m) => m.subject), { timeout: 10_000 }).toEqual(["Refund issued: $25.00"]);
  });
});
