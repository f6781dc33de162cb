// An activity's retry policy retries a database that is down; a write the database refuses for
// good (prisma/errors.ts) would meet the same answer for ever, so the activity fails at once
// (DATABASE_REJECTED, non-retryable) and the workflow ends cleanly.
import { ApplicationFailure } from "@temporalio/activity";
import { describeDatabaseError, isPermanentDatabaseError } from "../prisma/errors.ts";
import { DATABASE_REJECTED } from "../workflows/definitions.ts";

/** Runs an activity's work; a permanent database error becomes a non-retryable failure with a short message. */
export function failFastOnRejectedWrites<A extends unknown[], R>(work: (...args: A) => Promise<R>) {
  return async (...args: A): Promise<R> => {
    try {
      return await work(...args);
    } catch (err) {
      if (err instanceof ApplicationFailure || !isPermanentDatabaseError(err)) throw err;
      throw ApplicationFailure.create({ message: describeDatabaseError(err), type: DATABASE_REJECTED, nonRetryable: true });
    }
  };
}
