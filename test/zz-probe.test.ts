import { afterAll, beforeAll, expect, it } from "vitest";
import { call, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";
let stack: TestStack;
beforeAll(async () => { stack = await startTestStack({ paymentActionTimeoutSeconds: 2 }); });
afterAll(async () => { await stack?.stop(); });
it("probe: authenticate after expiry", async () => {
  const id = await startCheckout(stack.url, validCheckout("tok_3ds"));
  const w = await waitForCheckout(stack.url, id, (b) => b.status === "REQUIRES_ACTION", 20_000);
  const done = await waitForCheckout(stack.url, id, (b) => b.status === "EXPIRED", 20_000);
  const auth = await call(stack.url, "POST", `/sandbox/charges/${w.payment.gatewayReference}/authenticate`, { outcome: "succeeded" });
  await new Promise((r) => setTimeout(r, 1500));
  const after = await call(stack.url, "GET", `/checkouts/${id}`);
  const ledger = await call(stack.url, "GET", `/sandbox/charges?checkoutId=${id}`);
  console.log("PROBE", auth.status, auth.json?.status, after.json.status, after.json.order.status, after.json.payment.status, ledger.json.data.map((c: any) => c.status));
  expect(done.status).toBe("EXPIRED");
});
