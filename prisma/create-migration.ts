// `npm run db:migration -- <name>`: writes the SQL that takes the schema as the last migration
// left it (schema.prisma in the newest commit that touched prisma/migrations) to the current
// schema.prisma, as a new folder in Prisma's standard layout. test/migrations.test.ts checks that
// the migrations and schema.prisma agree.
import { execFileSync } from "node:child_process";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { diffToSchema, migrationsDir } from "./migrations.ts";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run db:migration -- <name_in_snake_case>");
  process.exit(2);
}
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("Set DATABASE_URL (any reachable PostgreSQL; nothing is written to it).");
  process.exit(2);
}

const hasMigrations = (await readdir(migrationsDir).catch(() => [])).some((e) => /^\d{14}_/.test(e));
const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8" });
const lastMigrationCommit = hasMigrations ? git("log", "-1", "--format=%H", "--", "prisma/migrations").trim() : "";
if (hasMigrations && !lastMigrationCommit) {
  console.error("Commit the existing migrations (with schema.prisma) first.");
  process.exit(2);
}
const fromSchema = hasMigrations ? git("show", `${lastMigrationCommit}:prisma/schema.prisma`) : null;
const sql = await diffToSchema(databaseUrl, fromSchema);
if (!sql.trim() || sql.includes("This is an empty migration")) {
  console.log("schema.prisma and the migrations agree: nothing to write.");
} else {
  const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  const dir = path.join(migrationsDir, `${stamp}_${name}`);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "migration.sql"), sql);
  await writeFile(path.join(migrationsDir, "migration_lock.toml"), 'provider = "postgresql"\n');
  console.log(`wrote ${path.relative(process.cwd(), dir)}/migration.sql`);
}
