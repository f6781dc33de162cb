// Tenants and who acted, on the real stack: an Idempotency-Key is a merchant's own, a customer's
// email is never rewritten by a checkout (its emails go to the order's own recipient), a revoked
// key stops working, and the key that refunded or cancelled is in the history.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCOPES } from "../api/caller.ts";
import { decodePayload } from "../archive/history-json.ts";
import { fetchDecodedHistory } from "../codec/history.ts";
import { createApiKey, revokeApiKey } from "../merchants/api-keys.ts";
import { createMerchant } from "../merchants/merchants.ts";
import { cancelUpdate } from "../workflows/definitions.ts";
import type { RefundInput } from "../workflows/refund.ts";
import { call, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let stack: TestStack;
let other: { merchantId: string; key: string; keyId: string };
const as = (key: string) => ({ authorization: `Bearer ${key}` });

beforeAll(async () => {
  stack = await startTestStack({ sandboxSlowMs: 3000 });
  const merchant = await createMerchant(stack.db, "other shop");
  const created = await createApiKey(stack.db, { merchantId: merchant.id, type: "secret", scopes: SCOPES });
  other = { merchantId: merchant.id, key: created.key, keyId: created.id };
}, 60_000);
afterAll(() => stack?.stop());

describe("merchants are tenants", () => {
  it("one Idempotency-Key at two merchants: two checkouts, each its own merchant's", async () => {
    const key = `shared-${Date.now()}`;
    const mine = await call(stack.url, "POST", "/checkouts", validCheckout(), { "idempotency-key": key });
    const theirs = await call(stack.url, "POST", "/checkouts", validCheckout("tok_decline"), {
      "idempotency-key": key,
      ...as(other.key),
    });
    expect([mine.status, theirs.status]).toEqual([202, 202]);
    expect(mine.json.id).not.toBe(theirs.json.id);
    // Each merchant's retry finds its own.
    const again = await call(stack.url, "POST", "/checkouts", validCheckout("tok_decline"), {
      "idempotency-key": key,
      ...as(other.key),
    });
    expect(again.json.id).toBe(theirs.json.id);
    expect((await call(stack.url, "GET", `/checkouts/${theirs.json.id}`)).status).toBe(404);
    expect((await waitForCheckout(stack.url, mine.json.id)).status).toBe("COMPLETED");
  });

  it("a checkout never rewrites a customer's email: its emails go to the order's own recipient", async () => {
    const customer = `cus_tenant_${Date.now()}`;
    const first = await startCheckout(
      stack.url,
      validCheckout("tok_approve", { customer: { id: customer, email: "ada@example.com" } }),
    );
    expect((await waitForCheckout(stack.url, first)).status).toBe("COMPLETED");
    // Someone else checks out under the same customer id with their own address.
    const second = await startCheckout(
      stack.url,
      validCheckout("tok_decline", { customer: { id: customer, email: "mallory@example.com" } }),
    );
    expect((await waitForCheckout(stack.url, second)).status).toBe("FAILED");
    const row = await stack.db.customer.findUniqueOrThrow({
      where: { merchantId_externalId: { merchantId: stack.merchantId, externalId: customer } },
    });
    expect(row.email).toBe("ada@example.com");
    // The first order's refund is told to its own recipient, not to the latest address.
    const refund = await call(stack.url, "POST", `/checkouts/${first}/refunds`, { amount: 100 }, { "idempotency-key": "r1" });
    expect(refund.status, refund.text).toBe(202);
    await waitFor(async () => stack.mail.messages.some((m) => m.raw.includes(first) && /refund/i.test(m.raw)));
    const refundMail = stack.mail.messages.find((m) => m.raw.includes(first) && /refund/i.test(m.raw))!;
    expect(refundMail.raw).toContain("ada@example.com");
    expect(refundMail.raw).not.toContain("mallory@example.com");
    // And the other merchant's customer of the same id is another customer.
    const theirs = await call(
      stack.url,
      "POST",
      "/checkouts",
      validCheckout("tok_approve", { customer: { id: customer, email: "bo@example.com" } }),
      as(other.key),
    );
    expect(theirs.status).toBe(202);
    const theirRow = () =>
      stack.db.customer.findUnique({ where: { merchantId_externalId: { merchantId: other.merchantId, externalId: customer } } });
    await waitFor(async () => (await theirRow()) !== null);
    expect((await theirRow())?.email).toBe("bo@example.com");
  });

  it("the key that refunded or cancelled is in the history", async () => {
    const paid = await startCheckout(stack.url, validCheckout());
    expect((await waitForCheckout(stack.url, paid)).status).toBe("COMPLETED");
    const refund = await call(stack.url, "POST", `/checkouts/${paid}/refunds`, {}, { "idempotency-key": "all" });
    expect(refund.status).toBe(202);
    const refundHandle = stack.temporal.workflow.getHandle(`refund-${paid}-${refund.json.id}`);
    const started = (await fetchDecodedHistory(stack.temporal, refundHandle.workflowId)).events?.[0]
      ?.workflowExecutionStartedEventAttributes;
    const input = decodePayload<RefundInput>(started!.input!.payloads![0]);
    const keyId = stack.secretKeyId;
    expect(input?.requestedBy).toBe(keyId);

    // A cancel before charging: the worker has not taken the checkout yet when it arrives.
    await stack.stopWorker();
    const pending = await startCheckout(stack.url, validCheckout());
    const cancelled = call(stack.url, "POST", `/checkouts/${pending}/cancel`, { reason: "changed my mind" });
    await new Promise((r) => setTimeout(r, 500));
    await stack.startWorker();
    expect((await cancelled).status).toBe(200);
    const history = await fetchDecodedHistory(stack.temporal, `checkout-${pending}`);
    const update = history.events?.find(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
    )?.workflowExecutionUpdateAcceptedEventAttributes;
    expect(update?.acceptedRequest?.input?.name).toBe(cancelUpdate.name);
    const args = decodePayload<{ reason: string; requestedBy: string }>(update!.acceptedRequest!.input!.args!.payloads![0]);
    expect(args).toEqual({ reason: "changed my mind", requestedBy: keyId });
  }, 90_000);

  it("a revoked key stops working", async () => {
    const created = await createApiKey(stack.db, { merchantId: stack.merchantId, type: "secret", scopes: ["checkouts:read"] });
    expect((await call(stack.url, "GET", "/webhook-endpoints", undefined, as(created.key))).status).toBe(403);
    expect(await revokeApiKey(stack.db, created.id)).toBe(true);
    const res = await call(stack.url, "GET", "/checkouts/chk_0", undefined, as(created.key));
    expect(res.status).toBe(401);
    expect(await revokeApiKey(stack.db, created.id)).toBe(false);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 200));
  }
}
