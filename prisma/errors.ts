// What a database error means, for whoever meets it: a request the database refuses for good
// (a constraint, a value the column cannot hold: the same request will meet the same answer), or
// a database that cannot be reached right now (down, restarting, out of connections: try later).
import { Prisma } from "./client.ts";

/** Prisma's query-engine codes (P2xxx) that a retry can fix: pool timeout, transaction conflicts. */
const RETRYABLE_QUERY_CODES = new Set(["P2024", "P2028", "P2034"]);
/** Prisma's codes for a server that cannot be reached or answered in time. */
const UNREACHABLE_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
/** PostgreSQL SQLSTATE classes of a request the server will refuse again: data exceptions, integrity. */
const PERMANENT_SQLSTATE_CLASSES = new Set(["22", "23"]);
/** SQLSTATEs of a server that is going away or cannot take the connection: 08 (connection), 57P0x, 53300. */
const UNAVAILABLE_SQLSTATE = /^(08|57P0[1-4]|53300)/;
/** Node's socket errors and pg's own message for a connection that ended under it. */
const CONNECTION_LOST = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection terminated|connection timeout|Can't reach database/i;

/** True when the database refused the request itself, in a way that the same request will meet again. */
export function isPermanentDatabaseError(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientValidationError) return true;
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    const sqlState = sqlStateOf(err);
    if (sqlState) return PERMANENT_SQLSTATE_CLASSES.has(sqlState.slice(0, 2));
    return err.code.startsWith("P2") && !RETRYABLE_QUERY_CODES.has(err.code);
  }
  // pg's own errors (raw queries through `pg`) carry the SQLSTATE as `code`.
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && PERMANENT_SQLSTATE_CLASSES.has(code.slice(0, 2));
}

/** True when the database could not be reached or went away: the same request may succeed later. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientInitializationError) return true;
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    if (UNREACHABLE_CODES.has(err.code)) return true;
    const sqlState = sqlStateOf(err);
    if (sqlState) return UNAVAILABLE_SQLSTATE.test(sqlState);
  }
  if (err instanceof Prisma.PrismaClientKnownRequestError || err instanceof Prisma.PrismaClientUnknownRequestError) {
    return CONNECTION_LOST.test(err.message);
  }
  const code = (err as { code?: unknown })?.code;
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_SQLSTATE.test(code);
  return err instanceof Error && CONNECTION_LOST.test(`${(err as { code?: string }).code ?? ""} ${err.message}`);
}

/** A one-line account of a refused request (Prisma's own message quotes our source code). */
export function describeDatabaseError(err: unknown): string {
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    const cause = (err.meta?.driverAdapterError as { cause?: { originalMessage?: unknown } } | undefined)?.cause;
    const detail = typeof cause?.originalMessage === "string" ? cause.originalMessage : err.message.split("\n").at(-1);
    const model = typeof err.meta?.modelName === "string" ? ` on ${err.meta.modelName}` : "";
    const state = sqlStateOf(err);
    return `the database refused the write${model} (${err.code}${state ? `, SQLSTATE ${state}` : ""}): ${detail}`.slice(0, 500);
  }
  if (err instanceof Prisma.PrismaClientValidationError) {
    return `the database client refused the query: ${err.message.split("\n").at(-1)}`.slice(0, 500);
  }
  return `the database refused the write: ${(err as Error).message}`.slice(0, 500);
}

function sqlStateOf(err: Prisma.PrismaClientKnownRequestError): string | undefined {
  const cause = (err.meta?.driverAdapterError as { cause?: { originalCode?: unknown } } | undefined)?.cause;
  return typeof cause?.originalCode === "string" ? cause.originalCode : undefined;
}
