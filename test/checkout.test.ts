// The checkout over real HTTP, on the real Temporal dev server, PostgreSQL and SMTP.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headerOf } from "../infra/smtp-catcher.ts";
import { call, chargesFor, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const mailTo = (checkoutId: string) => stack.mail.messages.filter((m) => m.raw.includes(checkoutId));

describe("a checkout", () => {
  it("completes: order paid, exactly one sandbox charge, one email", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    const done = await waitForCheckout(stack.url, id);

    expect(done.status).toBe("COMPLETED");
    expect(done.payment).toMatchObject({ status: "SUCCEEDED", provider: "sandbox", attempts: 1 });
    expect(done.order).toMatchObject({ status: "PAID", totalAmount: 3998, currency: "USD", customerId: "cus_1" });

    const order = await call(stack.url, "GET", done.links.order);
    expect(order.status).toBe(200);
    expect(order.json.items).toEqual([{ sku: "tee", name: "T-shirt", quantity: 2, unitAmount: 1999, lineTotal: 3998 }]);

    const charges = await chargesFor(stack.url, id);
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({
      status: "SUCCEEDED",
      amount: 3998,
      currency: "USD",
      idempotencyKey: `checkout-${id}:payment`,
    });

    const mails = mailTo(id);
    expect(mails).toHaveLength(1);
    expect(mails[0].to).toEqual(["ada@example.com"]);
    expect(mails[0].subject).toBe("Payment received: $39.98");
    expect(headerOf(mails[0].raw, "Content-Type")).toMatch(/multipart\/alternative/);
  });

  it("fails on a decline: one attempt, no retry, order marked, failure email", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_decline"));
    const done = await waitForCheckout(stack.url, id);

    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("Your card was declined.");
    expect(done.payment).toMatchObject({ status: "FAILED", attempts: 1, failureCode: "card_declined" });
    expect(done.order.status).toBe("PAYMENT_FAILED");
    const charges = await chargesFor(stack.url, id);
    expect(charges.map((c) => [c.status, c.requests])).toEqual([["DECLINED", 1]]);

    const mails = mailTo(id);
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe("Your payment of $39.98 did not go through");
    expect(mails[0].raw).toContain("Your card was declined.");
  });

  it("retries a flaky gateway and charges exactly once", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_flaky"));
    const done = await waitForCheckout(stack.url, id);

    expect(done.status).toBe("COMPLETED");
    expect(done.payment.attempts).toBe(3);
    const charges = await chargesFor(stack.url, id);
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({ status: "SUCCEEDED", requests: 3 });
  });

  it("keeps money in minor units for currencies without cents", async () => {
    const body = validCheckout("tok_approve", {
      currency: "JPY",
      items: [{ sku: "mug", name: "Mug", quantity: 3, unitAmount: 1200 }],
    });
    const done = await waitForCheckout(stack.url, await startCheckout(stack.url, body));
    expect(done.order).toMatchObject({ totalAmount: 3600, currency: "JPY" });
    expect(mailTo(done.id)[0].subject).toBe("Payment received: ¥3,600");
  });
});

describe("Prefer: wait", () => {
  it("answers POST with the payment's first answer: the 3-D Secure URL at once", async () => {
    const res = await call(stack.url, "POST", "/checkouts", validCheckout("tok_3ds"), { prefer: "wait=10" });
    expect(res.status).toBe(202);
    expect(res.json.status).toBe("REQUIRES_ACTION");
    expect(res.json.payment.action).toMatchObject({
      type: "redirect",
      url: expect.stringMatching(/\/sandbox\/charges\/ch_\w+\/authenticate$/),
    });
  });

  it("answers POST once paid when no action is needed", async () => {
    const res = await call(stack.url, "POST", "/checkouts", validCheckout("tok_approve"), { prefer: "wait=10" });
    expect(res.status).toBe(202);
    expect(res.json.payment.status).toBe("SUCCEEDED");
  });
});

describe("idempotency", () => {
  it("returns the same checkout for the same key and body, and starts nothing new", async () => {
    const key = `key-${randomUUID()}`;
    const first = await startCheckout(stack.url, validCheckout(), key);
    await waitForCheckout(stack.url, first);
    const again = await startCheckout(stack.url, validCheckout(), key);
    expect(again).toBe(first);

    const runs = await countWorkflows(`WorkflowId = "checkout-${first}"`);
    expect(runs).toBe(1);
    expect(await chargesFor(stack.url, first)).toHaveLength(1);
    expect(await stack.db.order.count({ where: { checkoutId: first } })).toBe(1);
  });

  it("10 concurrent requests under one key: one workflow, one order, one charge", async () => {
    const key = `key-${randomUUID()}`;
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => call(stack.url, "POST", "/checkouts", validCheckout(), { "idempotency-key": key })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    const ids = new Set(answers.map((a) => a.json.id));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    await waitForCheckout(stack.url, id);

    expect(await countWorkflows(`WorkflowId = "checkout-${id}"`)).toBe(1);
    expect(await stack.db.order.count({ where: { checkoutId: id } })).toBe(1);
    expect(await chargesFor(stack.url, id)).toHaveLength(1);
    expect(mailTo(id)).toHaveLength(1);
  });

  it("refuses the same key with a different body", async () => {
    const key = `key-${randomUUID()}`;
    const id = await startCheckout(stack.url, validCheckout(), key);
    const other = await call(stack.url, "POST", "/checkouts", validCheckout("tok_approve", { currency: "EUR" }), {
      "idempotency-key": key,
    });
    expect(other.status).toBe(422);
    expect(other.json.error.code).toBe("idempotency_key_reused");
    expect(other.json.error.fields[0].field).toBe("header.idempotency-key");
    await waitForCheckout(stack.url, id);
    expect(await countWorkflows(`WorkflowId = "checkout-${id}"`)).toBe(1);
  });
});

describe("reading", () => {
  it("answers 404 JSON for unknown checkouts and orders", async () => {
    for (const path of ["/checkouts/chk_00000000000000000000000000000000", "/checkouts/nope", "/orders/nope"]) {
      const res = await call(stack.url, "GET", path);
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe("not_found");
    }
  });

  it("reports health of Temporal and the database: each one's answer with a key, the status alone without", async () => {
    const res = await call(stack.url, "GET", "/health");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: "ok", temporal: "ok", database: "ok" });
    const anonymous = await call(stack.url, "GET", "/health", undefined, { authorization: "" });
    expect(anonymous.status).toBe(200);
    expect(anonymous.json).toEqual({ status: "ok" });
  });

  it("serves the OpenAPI document and an offline docs page", async () => {
    const doc = await call(stack.url, "GET", "/openapi.json");
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining(["/checkouts", "/checkouts/{id}", "/checkouts/{id}/cancel", "/orders/{id}", "/health"]),
    );
    const page = await call(stack.url, "GET", "/docs");
    expect(page.text).toContain("/docs/assets/swagger-ui-bundle.js");
    expect(page.text).not.toMatch(/https?:\/\//);
    const asset = await call(stack.url, "GET", "/docs/assets/swagger-ui-bundle.js");
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
  });
});

async function countWorkflows(query: string): Promise<number> {
  // Visibility is eventually consistent; give it a moment to settle.
  let count = -1;
  for (let i = 0; i < 20; i++) {
    count = (await stack.temporal.workflow.count(`TaskQueue = "${stack.taskQueue}" AND ${query}`)).count;
    if (count > 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return count;
}
