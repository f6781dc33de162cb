// Deny by default, over every route the OpenAPI document names: with no key, another merchant's
// key, a key without the route's scope, a publishable key, and the right key, each route answers
// what it should, and nothing of merchant A's changes without A's key.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPublic } from "../api/auth.ts";
import { SCOPES } from "../api/caller.ts";
import { createApiKey } from "../merchants/api-keys.ts";
import { createMerchant } from "../merchants/merchants.ts";
import { call, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let stack: TestStack;
let checkoutId: string;
let clientSecret: string;
let orderId: string;
let endpointId: string;
let chargeId: string;
let otherKey: string;
let accountId: string;
let balanceId: string;
let transferId: string;
let scopelessKey: string;
const routes: Array<{ method: string; template: string }> = [];

beforeAll(async () => {
  stack = await startTestStack();
  checkoutId = await startCheckout(stack.url, validCheckout());
  const done = await waitForCheckout(stack.url, checkoutId);
  expect(done.status).toBe("COMPLETED");
  clientSecret = done.clientSecret;
  orderId = done.order.id;
  // A local port with no one on it: the test stack lets webhooks go to this machine, and no other.
  const endpoint = await call(stack.url, "POST", "/webhook-endpoints", {
    url: "http://127.0.0.1:9/checkout",
    eventTypes: ["checkout.completed"],
  });
  expect(endpoint.status, endpoint.text).toBe(201);
  endpointId = endpoint.json.id;
  chargeId = (await call(stack.url, "GET", `/sandbox/charges?checkoutId=${checkoutId}`)).json.data[0].id;

  // A's ledger: an account with a USD and a EUR balance, a transfer (which fails: nothing to move).
  const open = async (currency: string, account?: string) => {
    const id = account ?? (await call(stack.url, "POST", "/accounts", { owner: "A" })).json.id;
    return { account: id, balance: (await call(stack.url, "POST", `/accounts/${id}/balances`, { currency })).json.id };
  };
  ({ account: accountId, balance: balanceId } = await open("USD"));
  await open("EUR", accountId);
  const to = (await open("USD")).balance;
  const transfer = await call(
    stack.url,
    "POST",
    "/transfers",
    { from: balanceId, to, amount: 1, currency: "USD" },
    { "idempotency-key": "a" },
  );
  expect(transfer.status, transfer.text).toBe(202);
  transferId = transfer.json.id;

  const other = await createMerchant(stack.db, "another merchant");
  otherKey = (await createApiKey(stack.db, { merchantId: other.id, type: "secret", scopes: SCOPES })).key;
  scopelessKey = (await createApiKey(stack.db, { merchantId: stack.merchantId, type: "secret", scopes: [] })).key;

  const doc = (await call(stack.url, "GET", "/openapi.json")).json;
  for (const [template, operations] of Object.entries<Record<string, unknown>>(doc.paths)) {
    for (const method of Object.keys(operations)) routes.push({ method: method.toUpperCase(), template });
  }
}, 120_000);

afterAll(() => stack?.stop());

/** The route's path with merchant A's own resources in it. */
function pathOf(template: string): string {
  const id = template.startsWith("/customers")
    ? "cus_1" // validCheckout's customer
    : template.startsWith("/orders")
      ? orderId
      : template.startsWith("/accounts")
        ? accountId
        : template.startsWith("/balances")
          ? balanceId
          : template.startsWith("/transfers")
            ? transferId
            : template.startsWith("/webhook-endpoints")
              ? endpointId
              : template.startsWith("/sandbox")
                ? chargeId
                : checkoutId;
  const path = template.replace("{id}", id).replace("{provider}", "sandbox").replace("{key}", "no-such-key");
  templateOf.set(path, template);
  return path;
}

/** A body each route takes as valid, so that what answers is the key's check or the lookup, not validation. */
const BODIES: Record<string, unknown> = {
  "POST /orders/{id}/payments": { payment: { provider: "sandbox", token: "tok_approve" } },
  "POST /orders/{id}/shipment": { carrier: "UPS", tracking: "1Z999" },
  // The currency of a new balance: without one the body is refused before the account is looked up.
  "POST /accounts/{id}/balances": { currency: "JPY" },
};
/** Routes a browser may call with a publishable key and the checkout's client secret: without it, 404. */
const BROWSER_ROUTES = ["POST /orders/{id}/payments", "POST /orders/{id}/cancel", "DELETE /orders/{id}"];
const templateOf = new Map<string, string>();

const send = (method: string, path: string, key: string | null, headers: Record<string, string> = {}) =>
  call(
    stack.url,
    method,
    path,
    ["POST", "PUT", "PATCH"].includes(method) ? (BODIES[`${method} ${templateOf.get(path)}`] ?? {}) : undefined,
    {
      authorization: key === null ? "" : `Bearer ${key}`,
      ...headers,
    },
  );

/** A's state that no one else may change: the checkout, its refunds, its endpoint. */
async function snapshotOfA() {
  const [checkout, refunds, endpoints, account, balances, transfer] = await Promise.all([
    call(stack.url, "GET", `/checkouts/${checkoutId}`),
    stack.db.refund.count({ where: { checkoutId } }),
    stack.db.webhookEndpoint.findMany({ where: { merchantId: stack.merchantId }, select: { id: true, deletedAt: true } }),
    stack.db.ledgerAccount.findUniqueOrThrow({ where: { id: accountId } }),
    stack.db.ledgerBalance.findMany({ where: { accountId }, orderBy: { currency: "asc" } }),
    stack.db.transfer.findUniqueOrThrow({ where: { id: transferId } }),
  ]);
  return {
    status: checkout.json.status,
    refunded: checkout.json.payment.refundedAmount,
    refunds,
    endpoints,
    ledger: { account: account.status, balances: balances.map((b) => `${b.currency} ${b.status}`), transfer: transfer.attempt },
  };
}

describe("every route of the OpenAPI document", () => {
  it("is documented at all (the matrix has something to cover)", () => {
    expect(routes.length).toBeGreaterThan(15);
  });

  it("without a key: 401, except the public routes", async () => {
    for (const { method, template } of routes) {
      const res = await send(method, pathOf(template), null);
      if (isPublic(method, pathOf(template))) expect(res.status, `${method} ${template}`).not.toBe(401);
      else {
        expect(res.status, `${method} ${template}`).toBe(401);
        expect(res.json.error.code).toBe("authentication_required");
      }
    }
  });

  it("with a key that is not one: 401 everywhere a key is looked at", async () => {
    for (const { method, template } of routes.filter((r) => !isPublic(r.method, pathOf(r.template)))) {
      expect((await send(method, pathOf(template), "sk_not_a_key")).status, `${method} ${template}`).toBe(401);
    }
  });

  it("with a secret key without the route's scope: 403", async () => {
    for (const { method, template } of routes.filter((r) => !isPublic(r.method, pathOf(r.template)))) {
      const res = await send(method, pathOf(template), scopelessKey);
      expect(res.status, `${method} ${template}`).toBe(403);
      expect(res.json.error.code).toBe("insufficient_scope");
    }
  });

  it("with a publishable key: 403, except starting a checkout and reading one by its client secret", async () => {
    for (const { method, template } of routes.filter((r) => !isPublic(r.method, pathOf(r.template)))) {
      const res = await send(method, pathOf(template), stack.publishableKey);
      if (method === "POST" && template === "/checkouts")
        expect(res.status).toBe(400); // the empty body
      else if ((method === "GET" && template === "/checkouts/{id}") || BROWSER_ROUTES.includes(`${method} ${template}`))
        expect(res.status, `${method} ${template}`).toBe(404); // no client secret
      else expect(res.status, `${method} ${template}`).toBe(403);
    }
    const customer = await call(stack.url, "GET", `/checkouts/${checkoutId}?client_secret=${clientSecret}`, undefined, {
      authorization: `Bearer ${stack.publishableKey}`,
    });
    expect(customer.status).toBe(200);
    expect(customer.json).toEqual({
      id: checkoutId,
      status: "COMPLETED",
      payment: { status: "SUCCEEDED", action: null },
      failureReason: null,
      orderId,
    });
    const wrong = await call(stack.url, "GET", `/checkouts/${checkoutId}?client_secret=${clientSecret}x`, undefined, {
      authorization: `Bearer ${stack.publishableKey}`,
    });
    expect(wrong.status).toBe(404);
  });

  it("with another merchant's key: A's checkout, order and endpoint do not exist; lists hold none of A's", async () => {
    for (const { method, template } of routes.filter((r) => !isPublic(r.method, pathOf(r.template)))) {
      const res = await send(method, pathOf(template), otherKey, { "idempotency-key": `other-${method}-${template}` });
      if (template.includes("{id}")) expect(res.status, `${method} ${template}`).toBe(404);
      else expect(res.text, `${method} ${template}`).not.toContain(checkoutId);
    }
    const endpoints = await call(stack.url, "GET", "/webhook-endpoints", undefined, { authorization: `Bearer ${otherKey}` });
    expect(endpoints.json.data).toEqual([]);
    const charges = await call(stack.url, "GET", "/sandbox/charges", undefined, { authorization: `Bearer ${otherKey}` });
    expect(charges.json.data).toEqual([]);
  });

  it("nothing of A's changed through all of that; A's own key does what its scopes allow", async () => {
    const before = await snapshotOfA();
    expect(before).toMatchObject({
      status: "COMPLETED",
      refunded: 0,
      refunds: 0,
      endpoints: [{ id: endpointId, deletedAt: null }],
      ledger: { account: "ACTIVE", balances: ["EUR ACTIVE", "USD ACTIVE"], transfer: 1 },
    });
    // The same refund, now with A's key: it goes through.
    const refund = await call(
      stack.url,
      "POST",
      `/checkouts/${checkoutId}/refunds`,
      { amount: 100 },
      { "idempotency-key": "mine" },
    );
    expect(refund.status, refund.text).toBe(202);
    for (const { method, template } of routes.filter((r) => !isPublic(r.method, pathOf(r.template)))) {
      const res = await send(method, pathOf(template), stack.secretKey);
      expect([401, 403], `${method} ${template}: ${res.status}`).not.toContain(res.status);
    }
  });
});
