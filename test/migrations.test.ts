// Migrations are created and applied by Prisma's own schema engine (WebAssembly) through the pg
// adapter. These tests pin that internal API: it applies the folder once, records it in Prisma's
// standard table, and the migrations build exactly the schema that schema.prisma describes.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { applyMigrations, diffToSchema } from "../prisma/migrations.ts";
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
});
