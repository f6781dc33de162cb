// The Prisma client, on the pure-JS query compiler and the pg driver adapter (no native engine).
// The pool is ours, so that every connection it opens has an 'error' listener for its whole life:
// a PostgreSQL restart (57P01) or a dropped socket then costs the queries in flight, which fail
// and are retried, and never the process (an 'error' event with no listener would crash it).
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import { log } from "../observability/logger.ts";

export type Db = InstanceType<typeof PrismaClient>;
export { Prisma } from "../generated/prisma/client.ts";

const pools = new WeakMap<Db, pg.Pool>();

/** The pg pool under a client made by createDb, for what talks SQL itself (the API's rate-limit store). */
export function poolOf(db: Db): pg.Pool | undefined {
  return pools.get(db);
}

/** `poolSize`: connections at most (DATABASE_POOL_SIZE for the worker's and the API's; pg's own 10 otherwise). */
export function createDb(databaseUrl: string, poolSize = 10): Db {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  // The pool opens a new connection for the next query: a line to say so is all it takes.
  const onError = (err: Error) =>
    log.warn(`database connection lost (${(err as { code?: string }).code ?? err.name}): ${err.message}`);
  pool.on("error", onError);
  pool.on("connect", (client) => client.on("error", onError));
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(db, pool);
  return db;
}
