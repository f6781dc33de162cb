// Timeouts and retry policies of each step. Temporal retries with backoff stand in for a
// hand-made circuit breaker: a provider or database that is down is retried with growing pauses
// (capped), while the checkout's state survives any crash in between.
//
// No step retries for ever: every one has a total time (scheduleToCloseTimeout), after which the
// workflow handles the failure (the checkout ends FAILED cleanly, a refund is settled by asking
// the provider). Errors that no retry can fix are named in nonRetryableErrorTypes and stop at once:
// a decline, a request the provider refused (a 4xx that is not a decline), a write the database
// refused (a constraint or a value out of range; prisma/errors.ts tells them apart).
// Where waiting is the design, the bound is long and says so: a customer's email and a
// subscriber's webhook are worth a day of retries; a run's own archiver waits for it to close.
import type { ActivityOptions, LocalActivityOptions } from "@temporalio/workflow";
import {
  DATABASE_REJECTED,
  GATEWAY_REQUEST_REJECTED,
  LEDGER_REFUSED,
  PAYMENT_DECLINED,
  REFUND_NOT_ALLOWED,
} from "./definitions.ts";

/** Database writes: quick and idempotent; a database that is down is retried for up to a day. */
export const orderActivityOptions: ActivityOptions = {
  startToCloseTimeout: "10 seconds",
  scheduleToCloseTimeout: "24 hours",
  retry: {
    initialInterval: "500 milliseconds",
    backoffCoefficient: 2,
    maximumInterval: "1 minute",
    nonRetryableErrorTypes: [DATABASE_REJECTED],
  },
};

/**
 * Creating the order, in the checkout's first workflow task (a local activity: no task of its own
 * to schedule, poll and record). The same bounds; past a minute of failures, its retries wait on
 * timers in the history.
 */
export const orderLocalActivityOptions: LocalActivityOptions = {
  startToCloseTimeout: orderActivityOptions.startToCloseTimeout,
  scheduleToCloseTimeout: orderActivityOptions.scheduleToCloseTimeout,
  retry: orderActivityOptions.retry,
};

/**
 * A charge: the gateway may be slow (tok_slow) or down. The activity heartbeats while it waits,
 * so a worker that dies mid-charge is noticed within the heartbeat timeout and another one
 * retries; the retry asks the gateway about the earlier attempt before charging again. Bounded by
 * the retry window (PAYMENT_RETRY_WINDOW_SECONDS, kept below every provider's key retention).
 */
export function paymentActivityOptions(retryWindowSeconds: number): ActivityOptions {
  return {
    startToCloseTimeout: "60 seconds",
    heartbeatTimeout: "5 seconds",
    scheduleToCloseTimeout: `${retryWindowSeconds} seconds`,
    retry: {
      initialInterval: "1 second",
      backoffCoefficient: 2,
      maximumInterval: "30 seconds",
      nonRetryableErrorTypes: [PAYMENT_DECLINED, GATEWAY_REQUEST_REJECTED, DATABASE_REJECTED],
    },
  };
}

/** Asking a provider what became of a charge or a refund: retried for a few minutes, then given up on. */
export const reconcileActivityOptions: ActivityOptions = {
  startToCloseTimeout: "30 seconds",
  scheduleToCloseTimeout: "3 minutes",
  retry: {
    initialInterval: "1 second",
    backoffCoefficient: 2,
    maximumInterval: "30 seconds",
    nonRetryableErrorTypes: [PAYMENT_DECLINED, GATEWAY_REQUEST_REJECTED, DATABASE_REJECTED],
  },
};

/**
 * Refunds: retried while the provider is down, for the refund window (REFUND_RETRY_WINDOW_SECONDS,
 * a day by default); a refused refund stops at once.
 */
export function refundActivityOptions(retryWindowSeconds: number): ActivityOptions {
  return {
    startToCloseTimeout: "60 seconds",
    scheduleToCloseTimeout: `${retryWindowSeconds} seconds`,
    retry: {
      initialInterval: "1 second",
      backoffCoefficient: 2,
      maximumInterval: "5 minutes",
      nonRetryableErrorTypes: [REFUND_NOT_ALLOWED, GATEWAY_REQUEST_REJECTED, DATABASE_REJECTED],
    },
  };
}

/**
 * Emails: waiting is the design; an SMTP server that is down is retried for up to a day; the
 * checkout's outcome stands. The activity heartbeats while it talks to the server, so a worker
 * that dies is noticed in seconds.
 */
export const notificationActivityOptions: ActivityOptions = {
  startToCloseTimeout: "30 seconds",
  heartbeatTimeout: "5 seconds",
  scheduleToCloseTimeout: "24 hours",
  retry: {
    initialInterval: "2 seconds",
    backoffCoefficient: 2,
    maximumInterval: "10 minutes",
    nonRetryableErrorTypes: [DATABASE_REJECTED],
  },
};

/** Waiting is the design: a subscriber that is down is retried for up to 24 hours; the checkout never waits. */
export const deliveryActivityOptions: ActivityOptions = {
  startToCloseTimeout: "30 seconds",
  scheduleToCloseTimeout: "24 hours",
  retry: {
    initialInterval: "1 second",
    backoffCoefficient: 2,
    maximumInterval: "1 hour",
    nonRetryableErrorTypes: ["EndpointDeleted", DATABASE_REJECTED],
  },
};

/** Telling a customer's risk workflow about a decline: worth a minute of retries, never more. */
export const riskReportActivityOptions: ActivityOptions = {
  startToCloseTimeout: "10 seconds",
  scheduleToCloseTimeout: "1 minute",
  retry: { initialInterval: "500 milliseconds", backoffCoefficient: 2, maximumInterval: "10 seconds" },
};

/**
 * A run's own archiver (workflows/archive.ts). Waiting is the design: the activity fails (and is
 * retried) until the run has closed, so the pause between attempts bounds how long after the close
 * the archive is written; a run that never closes in a week is left to the schedule's batches.
 */
export const archiveActivityOptions: ActivityOptions = {
  startToCloseTimeout: "1 minute",
  scheduleToCloseTimeout: "7 days",
  retry: {
    initialInterval: "200 milliseconds",
    backoffCoefficient: 2,
    maximumInterval: "1 minute",
    nonRetryableErrorTypes: [DATABASE_REJECTED],
  },
};

/**
 * A round of the event relay: it waits up to 30 s for events, heartbeating. A database or broker
 * that is down is retried for ten minutes; the relay then pauses and starts a new round.
 */
export const relayActivityOptions: ActivityOptions = {
  startToCloseTimeout: "2 minutes",
  heartbeatTimeout: "15 seconds",
  scheduleToCloseTimeout: "10 minutes",
  retry: {
    initialInterval: "500 milliseconds",
    backoffCoefficient: 2,
    maximumInterval: "30 seconds",
    nonRetryableErrorTypes: [DATABASE_REJECTED],
  },
};

/**
 * One batch of the archiving schedule (workflows/archive-batch.ts): a few seconds of copying,
 * heartbeating as it goes. A database or a Temporal that is down is retried for up to an hour;
 * then the run fails, and the schedule's next tick starts from the watermark again.
 */
export const archiveBatchActivityOptions: ActivityOptions = {
  startToCloseTimeout: "10 minutes",
  heartbeatTimeout: "30 seconds",
  scheduleToCloseTimeout: "1 hour",
  retry: {
    initialInterval: "1 second",
    backoffCoefficient: 2,
    maximumInterval: "1 minute",
    nonRetryableErrorTypes: [DATABASE_REJECTED],
  },
};

/**
 * A transfer's debit and credit (activities/ledger.ts): one database transaction each, posted once
 * per key. A refusal (insufficient funds, a disabled balance) stops at once; a database that is
 * down is retried for up to an hour, then the transfer is compensated (its debit reversed).
 */
export const ledgerActivityOptions: ActivityOptions = {
  startToCloseTimeout: "10 seconds",
  scheduleToCloseTimeout: "1 hour",
  retry: {
    initialInterval: "200 milliseconds",
    backoffCoefficient: 2,
    maximumInterval: "1 minute",
    nonRetryableErrorTypes: [LEDGER_REFUSED, DATABASE_REJECTED],
  },
};

/**
 * The compensation: it must happen, so it is retried for up to a week (a database down for that
 * long is an operator's matter; the run then fails and stands out).
 */
export const compensationActivityOptions: ActivityOptions = {
  startToCloseTimeout: "10 seconds",
  scheduleToCloseTimeout: "7 days",
  retry: { initialInterval: "500 milliseconds", backoffCoefficient: 2, maximumInterval: "5 minutes" },
};
