import { describe, expect, it } from "vitest";
import type { CheckoutRequest } from "../../api/schemas.ts";
import { legacyCheckoutId, newCheckoutId, newClientSecret, requestHash } from "../../api/services/idempotency.ts";

const ID = /^chk_[a-f0-9]{32}$/;

describe("checkout ids", () => {
  it("are random and well-formed: nothing about a request (its key) can compute one", () => {
    const ids = Array.from({ length: 50 }, newCheckoutId);
    for (const id of ids) expect(id).toMatch(ID);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("before merchants, were derived from the key: the same key, the same id (how a retry finds such a checkout)", () => {
    expect(legacyCheckoutId("order-42")).toMatch(ID);
    expect(legacyCheckoutId("order-42")).toBe(legacyCheckoutId("order-42"));
    expect(legacyCheckoutId("order-43")).not.toBe(legacyCheckoutId("order-42"));
  });

  it("client secrets name their checkout and are not guessable", () => {
    const id = newCheckoutId();
    const [a, b] = [newClientSecret(id), newClientSecret(id)];
    expect(a.startsWith(`${id}_secret_`)).toBe(true);
    expect(a.length).toBeGreaterThan(id.length + 30);
    expect(a).not.toBe(b);
  });
});

const body = (): CheckoutRequest => ({
  customer: { id: "cus_1", email: "ada@example.com" },
  items: [
    { sku: "tee", name: "T-shirt", quantity: 2, unitAmount: 1999 },
    { sku: "mug", name: "Mug", quantity: 1, unitAmount: 1200 },
  ],
  currency: "USD",
  payment: { provider: "sandbox", token: "tok_approve", method: "card" },
});

describe("requestHash", () => {
  it("is a SHA-256 hex digest, the same for the same body", () => {
    expect(requestHash(body())).toMatch(/^[a-f0-9]{64}$/);
    expect(requestHash(body())).toBe(requestHash(body()));
  });

  it("does not depend on the order of keys, at any depth", () => {
    const b = body();
    const reordered = {
      payment: { method: "card", token: "tok_approve", provider: "sandbox" },
      currency: "USD",
      items: b.items.map(({ unitAmount, quantity, name, sku }) => ({ unitAmount, quantity, name, sku })),
      customer: { email: "ada@example.com", id: "cus_1" },
    } as CheckoutRequest;
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(b));
    expect(requestHash(reordered)).toBe(requestHash(b));
  });

  it.each<[string, unknown]>([
    ["customer.id", "cus_2"],
    ["customer.email", "grace@example.com"],
    ["items.0.sku", "tee2"],
    ["items.0.name", "T-Shirt"],
    ["items.0.quantity", 3],
    ["items.1.unitAmount", 1201],
    ["currency", "EUR"],
    ["payment.provider", "stripe"],
    ["payment.token", "tok_decline"],
    ["payment.method", "wallet"],
  ])("changes when %s changes", (path, value) => {
    const changed = body();
    const keys = path.split(".");
    const last = keys.pop()!;
    let target = changed as unknown as Record<string, unknown>;
    for (const key of keys) target = target[key] as Record<string, unknown>;
    expect(target[last]).not.toEqual(value);
    target[last] = value;
    expect(requestHash(changed)).not.toBe(requestHash(body()));
  });

  it("changes with the order or number of items", () => {
    const reversed = body();
    reversed.items.reverse();
    expect(requestHash(reversed)).not.toBe(requestHash(body()));
    const fewer = body();
    fewer.items.pop();
    expect(requestHash(fewer)).not.toBe(requestHash(body()));
  });

  it("tells a number from the same digits in a string", () => {
    const changed = body();
    (changed.items[0] as { quantity: unknown }).quantity = "2";
    expect(requestHash(changed)).not.toBe(requestHash(body()));
  });
});
