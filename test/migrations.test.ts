// Migrations are created and applied by Prisma's own schema engine (WebAssembly) through the pg
// adapter. These tests pin that internal API: it applies the folder once, records it in Prisma's
// standard table, and the migrations build exactly the schema that schema.prisma describes.
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { applyMigrations, diffToSchema, migrationsDir } from "../prisma/migrations.ts";
import { createScratchDatabase, dropDatabase } from "./support/databases.ts";

const admin = inject("adminDatabaseUrl");
const scratch: string[] = [];
async function freshDatabase(): Promise<string> {
  const url = await createScratchDatabase(admin, `checkout_mig_${randomBytes(4).toString("hex")}`);
  scratch.push(url);
  return url;
}
afterAll(async () => {
  for (const url of scratch) await dropDatabase(admin, url);
});

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Tables, columns, types, nullability, defaults, enums and indexes: what "the same schema" means. */
async function describeSchema(url: string) {
  const columns = await query(
    url,
    `SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default
       FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'
      ORDER BY table_name, column_name`,
  );
  const enums = await query(
    url,
    `SELECT t.typname, e.enumlabel FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid ORDER BY t.typname, e.enumsortorder`,
  );
  const indexes = await query(
    url,
    `SELECT tablename, indexname, indexdef FROM pg_indexes
      WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY tablename, indexname`,
  );
  const foreignKeys = await query(
    url,
    `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'f' ORDER BY conname`,
  );
  return { columns, enums, indexes, foreignKeys };
}

describe("prisma migrations", () => {
  it("apply once, are recorded in _prisma_migrations, and a second run applies nothing", async () => {
    const url = await freshDatabase();
    const first = await applyMigrations(url);
    expect(first.length).toBeGreaterThan(0);
    expect(first.every((name) => /^\d{14}_[a-z0-9_]+$/.test(name))).toBe(true);
    expect(await applyMigrations(url)).toEqual([]);

    const recorded = await query<{ migration_name: string; finished_at: Date | null }>(
      url,
      "SELECT migration_name, finished_at FROM _prisma_migrations ORDER BY migration_name",
    );
    expect(recorded.map((r) => r.migration_name)).toEqual(first);
    expect(recorded.every((r) => r.finished_at !== null)).toBe(true);
  });

  it("build exactly the schema that schema.prisma describes", async () => {
    const migrated = await freshDatabase();
    await applyMigrations(migrated);

    const fromSchema = await freshDatabase();
    const sql = await diffToSchema(fromSchema, null);
    expect(sql).toContain('CREATE TABLE "Order"');
    await query(fromSchema, sql);

    expect(await describeSchema(migrated)).toEqual(await describeSchema(fromSchema));
  });

  it("widen every money column to BIGINT and keep the rows that were there", async () => {
    const url = await freshDatabase();
    const names = (await readdir(migrationsDir)).filter((n) => /^\d{14}_/.test(n)).sort();
    const widening = names.findIndex((n) => n.endsWith("_money_bigint_charge_keys_refund_review"));
    expect(widening).toBeGreaterThan(0);
    const run = async (name: string) => query(url, await readFile(path.join(migrationsDir, name, "migration.sql"), "utf8"));
    for (const name of names.slice(0, widening)) await run(name);

    // Rows written by the 32-bit schema, at its largest amounts.
    const max32 = 2_147_483_647;
    await query(
      url,
      `INSERT INTO "Customer" (id, "externalId", email, "updatedAt") VALUES ('cu1', 'cus_1', 'ada@example.com', now());
       INSERT INTO "Order" (id, "checkoutId", "customerId", status, currency, "totalAmount", "updatedAt")
         VALUES ('o1', 'chk_1', 'cu1', 'PAID', 'IDR', ${max32}, now());
       INSERT INTO "OrderItem" (id, "orderId", position, sku, name, quantity, "unitAmount", "lineTotal")
         VALUES ('i1', 'o1', 0, 'tee', 'T-shirt', 1, ${max32}, ${max32});
       INSERT INTO "Payment" (id, "checkoutId", "orderId", provider, method, status, amount, currency, "idempotencyKey", "refundedAmount", "updatedAt")
         VALUES ('p1', 'chk_1', 'o1', 'sandbox', 'card', 'SUCCEEDED', ${max32}, 'IDR', 'checkout-chk_1:payment', 1000, now());
       INSERT INTO "Refund" (id, "checkoutId", "paymentId", amount, currency, status, "idempotencyKey", "updatedAt")
         VALUES ('re1', 'chk_1', 'p1', 1000, 'IDR', 'SUCCEEDED', 'refund-chk_1-re1:refund', now());`,
    );
    for (const name of names.slice(widening)) await run(name);

    const types = await query<{ table_name: string; column_name: string; data_type: string }>(
      url,
      `SELECT table_name, column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'public' AND column_name IN ('totalAmount', 'unitAmount', 'lineTotal', 'amount', 'refundedAmount')
        ORDER BY table_name, column_name`,
    );
    expect(types.length).toBeGreaterThanOrEqual(9);
    expect(types.filter((t) => t.data_type !== "bigint")).toEqual([]);
    const [row] = await query<{ total: string; unit: string; amount: string; refunded: string; keys: string[] }>(
      url,
      `SELECT o."totalAmount"::text AS total, i."unitAmount"::text AS unit, p.amount::text AS amount,
              p."refundedAmount"::text AS refunded, p."keysUsed" AS keys
         FROM "Order" o JOIN "OrderItem" i ON i."orderId" = o.id JOIN "Payment" p ON p."orderId" = o.id`,
    );
    expect(row).toEqual({ total: String(max32), unit: String(max32), amount: String(max32), refunded: "1000", keys: [] });
    // What the old columns could not hold now fits.
    await query(url, `UPDATE "Order" SET "totalAmount" = 999999999999999 WHERE id = 'o1'`);
  });
  it("list the checkouts started before lists by what their order and payment say", async () => {
    const url = await freshDatabase();
    const names = (await readdir(migrationsDir)).filter((n) => /^\d{14}_/.test(n)).sort();
    const lists = names.findIndex((n) => n.endsWith("_lists_metadata"));
    expect(lists).toBeGreaterThan(0);
    const run = async (name: string) => query(url, await readFile(path.join(migrationsDir, name, "migration.sql"), "utf8"));
    for (const name of names.slice(0, lists)) await run(name);
    // A checkout that wrote its order and payment, and one held before its workflow started.
    await query(
      url,
      `INSERT INTO "Checkout" (id, "merchantId", "clientSecret") VALUES ('chk_1', 'mer_default', 's1'), ('chk_2', 'mer_default', 's2');
       INSERT INTO "Customer" (id, "merchantId", "externalId", email, "updatedAt") VALUES ('cu1', 'mer_default', 'cus_1', 'ada@example.com', now());
       INSERT INTO "Order" (id, "checkoutId", "merchantId", "customerId", recipient, status, currency, "totalAmount", "updatedAt")
         VALUES ('o1', 'chk_1', 'mer_default', 'cu1', 'ada@example.com', 'PAID', 'USD', 100, now());
       INSERT INTO "Payment" (id, "checkoutId", "orderId", provider, method, status, amount, currency, "idempotencyKey", "updatedAt")
         VALUES ('p1', 'chk_1', 'o1', 'stripe', 'card', 'SUCCEEDED', 100, 'USD', 'checkout-chk_1:payment', now());`,
    );
    for (const name of names.slice(lists)) await run(name);
    const rows = await query(url, `SELECT id, "customerExternalId", provider, metadata FROM "Checkout" ORDER BY id`);
    expect(rows).toEqual([
      { id: "chk_1", customerExternalId: "cus_1", provider: "stripe", metadata: {} },
      { id: "chk_2", customerExternalId: null, provider: null, metadata: {} },
    ]);
    expect(await query(url, `SELECT metadata FROM "Order"`)).toEqual([{ metadata: {} }]);
  });
});
