// Cancelling a checkout: allowed before the payment starts, refused (409) once it has, after the
// checkout ended (409), and for a checkout that does not exist (404).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { call, chargesFor, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const mailsFor = (stack: TestStack, checkoutId: string) => stack.mail.messages.filter((m) => m.raw.includes(checkoutId));

describe("cancel before payment", () => {
  let stack: TestStack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it("cancels a checkout whose worker has not picked it up yet: order cancelled, nothing charged, one email", async () => {
    stack = await startTestStack({ startWorker: false });
    const id = await startCheckout(stack.url, validCheckout("tok_approve"));

    // No worker polls yet: the update waits in the server until one does.
    const cancelling = call(stack.url, "POST", `/checkouts/${id}/cancel`, { reason: "changed my mind" });
    cancelling.catch(() => {}); // awaited below; keep an early rejection from counting as unhandled
    await new Promise((r) => setTimeout(r, 500));
    await stack.startWorker();

    const cancelled = await cancelling;
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json.status).toBe("CANCELLED");

    const seen = await call(stack.url, "GET", `/checkouts/${id}`);
    expect(seen.status).toBe(200);
    expect(seen.json.status).toBe("CANCELLED");
    expect(seen.json.step).toBe("DONE");
    expect(seen.json.order.status).toBe("CANCELLED");
    expect(seen.json.payment).toMatchObject({ status: "CANCELLED", attempts: 0, gatewayReference: null });
    expect(await stack.db.payment.count({ where: { checkoutId: id } })).toBe(0);

    expect(await chargesFor(stack.url, id)).toEqual([]);

    const mails = mailsFor(stack, id);
    expect(mails).toHaveLength(1);
    expect(mails[0].to).toEqual(["ada@example.com"]);
    expect(mails[0].subject).toBe("Your order was cancelled");
  });
});

describe("cancel refused", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ sandboxSlowMs: 4000 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("refuses once the payment has started, and the checkout completes with one charge", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_slow"));
    await waitForCheckout(stack.url, id, (body) => body.payment?.status === "PROCESSING", 15_000);

    const refused = await call(stack.url, "POST", `/checkouts/${id}/cancel`, { reason: "too late" });
    expect(refused.status, refused.text).toBe(409);
    expect(refused.headers.get("content-type")).toMatch(/application\/json/);
    expect(refused.json.error.code).toBe("not_cancellable");

    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
    expect(done.order.status).toBe("PAID");
    expect(done.payment.status).toBe("SUCCEEDED");
    const charges = await chargesFor(stack.url, id);
    expect(charges.map((c) => c.status)).toEqual(["SUCCEEDED"]);
    expect(mailsFor(stack, id).map((m) => m.subject)).toEqual(["Payment received: $39.98"]);
  });

  it("refuses a checkout that has already completed", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");

    const refused = await call(stack.url, "POST", `/checkouts/${id}/cancel`, {});
    expect(refused.status, refused.text).toBe(409);
    expect(refused.json.error.code).toBe("not_cancellable");

    const after = await call(stack.url, "GET", `/checkouts/${id}`);
    expect(after.json.status).toBe("COMPLETED");
    expect(after.json.order.status).toBe("PAID");
  });

  it("answers 404 for an unknown checkout", async () => {
    for (const id of ["chk_00000000000000000000000000000000", "nope"]) {
      const res = await call(stack.url, "POST", `/checkouts/${id}/cancel`, { reason: "whatever" });
      expect(res.status, res.text).toBe(404);
      expect(res.json.error.code).toBe("not_found");
    }
  });
});
