// A payment provider that is down: the payment step is retried with backoff while the outage
// lasts, and charges exactly once when it ends; if it outlasts the retry window, the checkout
// fails cleanly (order marked, customer told, nothing charged).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { call, chargesFor, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const run = promisify(execFile);
const mailsFor = (stack: TestStack, checkoutId: string) => stack.mail.messages.filter((m) => m.raw.includes(checkoutId));

async function setOutage(stack: TestStack, active: boolean) {
  const res = await call(stack.url, "PUT", "/sandbox/outage", { active });
  expect(res.status, res.text).toBe(200);
  expect(res.json).toEqual({ active });
}

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterEach(async () => {
  // The switch lives in the shared database: never leave it on for the next test or file.
  await stack.db.sandboxSetting.upsert({
    where: { key: "outage" },
    create: { key: "outage", value: false },
    update: { value: false },
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe("sandbox outage", () => {
  it("retries while the provider is down and charges exactly once when it is back", async () => {
    await setOutage(stack, true);
    const outage = await call(stack.url, "GET", "/sandbox/outage");
    expect(outage.status).toBe(200);
    expect(outage.json).toEqual({ active: true });

    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    const retrying = await waitForCheckout(
      stack.url,
      id,
      (body) => body.status === "RUNNING" && body.payment?.attempts >= 2 && body.lastError !== null,
      20_000,
    );
    expect(retrying.lastError.message).toMatch(/503|outage/);
    expect(await chargesFor(stack.url, id)).toEqual([]);

    await setOutage(stack, false);
    expect((await call(stack.url, "GET", "/sandbox/outage")).json).toEqual({ active: false });

    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
    expect(done.order.status).toBe("PAID");
    expect(done.payment.status).toBe("SUCCEEDED");
    expect(done.payment.attempts).toBeGreaterThanOrEqual(2);
    const charges = await chargesFor(stack.url, id);
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({ status: "SUCCEEDED", requests: 1 });
    expect(mailsFor(stack, id).map((m) => m.subject)).toEqual(["Payment received: $39.98"]);
  });

  it("fails the checkout cleanly once the retry window is spent, and a reset retries it", async () => {
    const short = await startTestStack({ paymentRetryWindowSeconds: 6 });
    try {
      await setOutage(short, true);
      const id = await startCheckout(short.url, validCheckout("tok_approve"));
      const done = await waitForCheckout(short.url, id, undefined, 30_000);

      expect(done.status).toBe("FAILED");
      expect(done.step).toBe("DONE");
      expect(done.order.status).toBe("PAYMENT_FAILED");
      expect(done.payment.status).toBe("FAILED");
      expect(done.payment.attempts).toBeGreaterThanOrEqual(2);
      expect(done.lastError).toMatchObject({ type: "PaymentUnavailable" });
      expect(done.failureReason).toMatch(/could not be reached/);

      const row = await short.db.payment.findUnique({ where: { checkoutId: id } });
      expect(row?.status).toBe("FAILED");
      expect(row?.failureCode).toBe("gateway_unavailable");

      const charges = await chargesFor(short.url, id);
      expect(charges.filter((c) => c.status === "SUCCEEDED")).toEqual([]);

      const mails = mailsFor(short, id);
      expect(mails).toHaveLength(1);
      expect(mails[0].to).toEqual(["ada@example.com"]);
      expect(mails[0].subject).toContain("did not go through");

      // The README's retry: once the provider is back, reset the workflow with the real CLI.
      await setOutage(short, false);
      await run(inject("temporalCli"), [
        "workflow",
        "reset",
        "-w",
        `checkout-${id}`,
        "--type",
        "FirstWorkflowTask",
        "--reason",
        "gateway back up",
        "--address",
        inject("temporalAddress"),
      ]);
      const retried = await waitForCheckout(short.url, id, (body) => body.status === "COMPLETED", 30_000);
      expect(retried.order.status).toBe("PAID");
      expect(retried.payment.status).toBe("SUCCEEDED");
      expect(await short.db.order.count({ where: { checkoutId: id } })).toBe(1);
      const after = await chargesFor(short.url, id);
      expect(after.map((c) => c.status)).toEqual(["SUCCEEDED"]);
    } finally {
      await setOutage(short, false).catch(() => {});
      await short.stop();
    }
  });
});
