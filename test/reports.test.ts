// GET /reports/payments on the real stack, over its own scratch database so the counts are exact.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { applyMigrations } from "../prisma/migrations.ts";
import { createScratchDatabase, dropDatabase } from "./support/databases.ts";
import { call, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let stack: TestStack;
let databaseUrl: string;
let before: Date;
let after: Date;

beforeAll(async () => {
  databaseUrl = await createScratchDatabase(inject("adminDatabaseUrl"), `checkout_rep_${randomBytes(4).toString("hex")}`);
  await applyMigrations(databaseUrl);
  stack = await startTestStack({ databaseUrl });
  before = new Date();
  const ids = await Promise.all([
    startCheckout(stack.url, validCheckout("tok_approve")),
    startCheckout(stack.url, validCheckout("tok_decline", { customer: { id: "cus_decline", email: "bo@example.com" } })),
    startCheckout(
      stack.url,
      validCheckout("tok_approve", { currency: "JPY", items: [{ sku: "mug", name: "Mug", quantity: 3, unitAmount: 1200 }] }),
    ),
  ]);
  await Promise.all(ids.map((id) => waitForCheckout(stack.url, id)));
  after = new Date();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  if (databaseUrl) await dropDatabase(inject("adminDatabaseUrl"), databaseUrl);
});

const report = (from: string, to: string) =>
  call(stack.url, "GET", `/reports/payments?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);

describe("GET /reports/payments", () => {
  it("counts and sums the window's payments per currency, by provider, method, status and country", async () => {
    const res = await report(before.toISOString(), after.toISOString());
    expect(res.status, res.text).toBe(200);
    const r = res.json;
    expect(r.total).toEqual({
      count: 3,
      amounts: [
        { currency: "JPY", amount: 3600 },
        { currency: "USD", amount: 7996 },
      ],
    });
    expect(r.byProvider).toEqual([{ key: "sandbox", count: 3, amounts: r.total.amounts }]);
    expect(r.byMethod).toEqual([{ key: "card", count: 3, amounts: r.total.amounts }]);
    expect(r.byStatus).toEqual([
      {
        key: "SUCCEEDED",
        count: 2,
        amounts: [
          { currency: "JPY", amount: 3600 },
          { currency: "USD", amount: 3998 },
        ],
      },
      { key: "FAILED", count: 1, amounts: [{ currency: "USD", amount: 3998 }] },
    ]);
    expect(r.byCountry).toEqual([{ key: null, count: 3, amounts: r.total.amounts }]);
    expect(r.failureReasons).toEqual([{ reason: "Your card was declined.", count: 1 }]);
    expect(r.medianTimeToPaidMs).toBeGreaterThanOrEqual(0);
    expect(r.medianTimeToPaidMs).toBeLessThan(after.getTime() - before.getTime() + 1000);
  });

  it("is empty for a window before them", async () => {
    const res = await report(
      new Date(before.getTime() - 3_600_000).toISOString(),
      new Date(before.getTime() - 1000).toISOString(),
    );
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      total: { count: 0, amounts: [] },
      byProvider: [],
      byMethod: [],
      byStatus: [],
      byCountry: [],
      failureReasons: [],
      medianTimeToPaidMs: null,
    });
  });

  it("refuses missing, invalid and inverted windows, naming the field", async () => {
    const fieldsOf = async (query: string) => {
      const res = await call(stack.url, "GET", `/reports/payments${query}`);
      expect(res.status, res.text).toBe(400);
      return res.json.error.fields.map((f: { field: string }) => f.field);
    };
    expect(await fieldsOf("")).toEqual(expect.arrayContaining(["query.from", "query.to"]));
    expect(await fieldsOf("?from=2026-01-01T00:00:00Z")).toEqual(["query.to"]);
    expect(await fieldsOf("?from=yesterday&to=2026-01-01T00:00:00Z")).toEqual(["query.from"]);
    expect(await fieldsOf("?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z")).toEqual(["query.from"]);
    expect(await fieldsOf("?from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z")).toEqual(["query.to"]);
  });
});
