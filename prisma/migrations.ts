// Applies and creates migrations with Prisma's own schema engine, run as WebAssembly through the
// pg driver adapter, because the CLI's native engine cannot be downloaded everywhere we run.
// The folder layout and the `_prisma_migrations` table are Prisma's standard ones.
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import * as engineBindings from "@prisma/schema-engine-wasm/schema_engine_bg";
import pg from "pg";

const prismaDir = path.dirname(fileURLToPath(import.meta.url));
export const migrationsDir = path.join(prismaDir, "migrations");
export const schemaPath = path.join(prismaDir, "schema.prisma");

type Engine = engineBindings.SchemaEngine;
let wasmLoaded: Promise<void> | undefined;

/** Instantiates the engine's WebAssembly module once per process (Node 20 cannot `import` .wasm). */
function loadWasm(): Promise<void> {
  wasmLoaded ??= (async () => {
    const bindings = createRequire(import.meta.url).resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const bytes = await readFile(path.join(path.dirname(bindings), "schema_engine_bg.wasm"));
    const { instance } = await WebAssembly.instantiate(bytes, { "./schema_engine_bg.js": engineBindings });
    engineBindings.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
  })();
  return wasmLoaded;
}

/**
 * PrismaPg runs a migration script by splitting it at every ";", which cuts a PL/pgSQL function
 * body (or a comment) into broken statements. Prisma's native engine sends the script whole; so
 * does this, on a connection of its own, in PostgreSQL's simple query protocol.
 */
function sendingScriptsWhole(factory: PrismaPg, databaseUrl: string): PrismaPg {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    adapter.executeScript = async (script: string) => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(script);
      } finally {
        await client.end();
      }
    };
    return adapter;
  };
  return factory;
}

async function withEngine<T>(databaseUrl: string, run: (engine: Engine) => Promise<T>): Promise<T> {
  await loadWasm();
  const adapter = bindMigrationAwareSqlAdapterFactory(
    sendingScriptsWhole(new PrismaPg({ connectionString: databaseUrl }), databaseUrl),
  );
  const schema = await readFile(schemaPath, "utf8");
  const engine = await engineBindings.SchemaEngine.new(
    { datamodels: [[schemaPath, schema]] },
    (log: string) => {
      if (process.env.PRISMA_ENGINE_DEBUG) console.error(log);
    },
    adapter,
  );
  try {
    return await run(engine);
  } finally {
    engine.free();
  }
}

async function loadMigrationList(): Promise<engineBindings.MigrationList> {
  const entries = await readdir(migrationsDir, { withFileTypes: true }).catch(() => []);
  const dirs = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const lockPath = path.join(migrationsDir, "migration_lock.toml");
  return {
    baseDir: migrationsDir,
    lockfile: { path: "migration_lock.toml", content: await readFile(lockPath, "utf8").catch(() => null) },
    shadowDbInitScript: "",
    migrationDirectories: await Promise.all(
      dirs.map(async (dir) => ({
        path: dir,
        migrationFile: {
          path: "migration.sql",
          content: await readFile(path.join(migrationsDir, dir, "migration.sql"), "utf8").then(
            (value) => ({ tag: "ok" as const, value }),
            (error: Error) => ({ tag: "error" as const, value: error.message }),
          ),
        },
      })),
    ),
  };
}

const noFilters = { externalTables: [], externalEnums: [] };

/** Applies every migration not yet recorded in `_prisma_migrations`; returns the names applied. */
export async function applyMigrations(databaseUrl: string): Promise<string[]> {
  const migrationsList = await loadMigrationList();
  return withEngine(databaseUrl, async (engine) => {
    const out = await engine.applyMigrations({ migrationsList, filters: noFilters });
    return out.appliedMigrationNames;
  });
}

/**
 * The SQL that takes the datamodel `fromSchema` (null: an empty database) to `schema.prisma`.
 * Datamodel to datamodel, so no database is needed: describing a live database through the
 * WebAssembly engine fails on PostgreSQL's "char" catalog columns.
 */
export async function diffToSchema(databaseUrl: string, fromSchema: string | null): Promise<string> {
  const schema = await readFile(schemaPath, "utf8");
  return withEngine(databaseUrl, async (engine) => {
    const out = await engine.diff({
      from:
        fromSchema === null ? { tag: "empty" } : { tag: "schemaDatamodel", files: [{ path: schemaPath, content: fromSchema }] },
      to: { tag: "schemaDatamodel", files: [{ path: schemaPath, content: schema }] },
      script: true,
      exitCode: null,
      filters: noFilters,
    });
    return out.stdout ?? "";
  });
}
