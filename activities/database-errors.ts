// Which database errors a retry can fix. A connection that dropped, a server restarting, a pool
// that timed out, a deadlock: retried by the activity's policy. A constraint or a value the
// column cannot hold: retrying sends the same write again and gets the same answer, so the
// activity fails at once (DATABASE_REJECTED, non-retryable) and the workflow ends cleanly.
import { ApplicationFailure } from "@temporalio/activity";
import { Prisma } from "../prisma/client.ts";
import { DATABASE_REJECTED } from "../workflows/definitions.ts";

/** Prisma's query-engine codes (P2xxx) that a retry can fix: pool timeout, transaction conflicts. */
const RETRYABLE_QUERY_CODES = new Set(["P2024", "P2028", "P2034"]);
/** PostgreSQL SQLSTATE classes of a request the server will refuse again: data exceptions, integrity. */
const PERMANENT_SQLSTATE_CLASSES = new Set(["22", "23"]);

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

/**
 * Runs an activity's work; a permanent database error becomes a non-retryable failure with a
 * short message (Prisma's own message quotes our source code; the history needs only the cause).
 */
export function failFastOnRejectedWrites<A extends unknown[], R>(work: (...args: A) => Promise<R>) {
  return async (...args: A): Promise<R> => {
    try {
      return await work(...args);
    } catch (err) {
      if (err instanceof ApplicationFailure || !isPermanentDatabaseError(err)) throw err;
      throw ApplicationFailure.create({ message: describe(err), type: DATABASE_REJECTED, nonRetryable: true });
    }
  };
}

function sqlStateOf(err: Prisma.PrismaClientKnownRequestError): string | undefined {
  const cause = (err.meta?.driverAdapterError as { cause?: { originalCode?: unknown } } | undefined)?.cause;
  return typeof cause?.originalCode === "string" ? cause.originalCode : undefined;
}

function describe(err: unknown): string {
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    const cause = (err.meta?.driverAdapterError as { cause?: { originalMessage?: unknown } } | undefined)?.cause;
    const detail = typeof cause?.originalMessage === "string" ? cause.originalMessage : err.message.split("\n").at(-1);
    const model = typeof err.meta?.modelName === "string" ? ` on ${err.meta.modelName}` : "";
    return `the database refused the write${model} (${err.code}${sqlStateOf(err) ? `, SQLSTATE ${sqlStateOf(err)}` : ""}): ${detail}`.slice(
      0,
      500,
    );
  }
  if (err instanceof Prisma.PrismaClientValidationError) {
    return `the database client refused the query: ${err.message.split("\n").at(-1)}`.slice(0, 500);
  }
  return `the database refused the write: ${(err as Error).message}`.slice(0, 500);
}
