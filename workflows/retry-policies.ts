// Timeouts and retry policies of each step. Temporal retries with backoff stand in for a
// hand-made circuit breaker: a gateway that is down is retried with growing pauses (capped),
// for a bounded time, while the checkout's state survives any crash in between.
import type { ActivityOptions } from "@temporalio/workflow";
import { GATEWAY_REQUEST_REJECTED, PAYMENT_DECLINED, REFUND_NOT_ALLOWED } from "./definitions.ts";

/** Database writes: quick, idempotent, retried until the database is back. */
export const orderActivityOptions: ActivityOptions = {
  startToCloseTimeout: "10 seconds",
  retry: { initialInterval: "500 milliseconds", backoffCoefficient: 2, maximumInterval: "10 seconds" },
};

/**
 * A charge: the gateway may be slow (tok_slow) or down. The activity heartbeats while it waits,
 * so a worker that dies mid-charge is noticed within the heartbeat timeout and another one
 * retries; the retry asks the gateway about the earlier attempt before charging again.
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
      nonRetryableErrorTypes: [PAYMENT_DECLINED, GATEWAY_REQUEST_REJECTED],
    },
  };
}

/** Asking a provider what became of a charge: retried for a few minutes, then given up on. */
export const reconcileActivityOptions: ActivityOptions = {
  startToCloseTimeout: "30 seconds",
  scheduleToCloseTimeout: "3 minutes",
  retry: {
    initialInterval: "1 second",
    backoffCoefficient: 2,
    maximumInterval: "30 seconds",
    nonRetryableErrorTypes: [PAYMENT_DECLINED, GATEWAY_REQUEST_REJECTED],
  },
};

/** Refunds: retried while the provider is down, for up to a day; a refused refund stops at once. */
export const refundActivityOptions: ActivityOptions = {
  startToCloseTimeout: "60 seconds",
  scheduleToCloseTimeout: "24 hours",
  retry: {
    initialInterval: "1 second",
    backoffCoefficient: 2,
    maximumInterval: "5 minutes",
    nonRetryableErrorTypes: [REFUND_NOT_ALLOWED, GATEWAY_REQUEST_REJECTED],
  },
};

/** Emails: an SMTP server that is down is retried for up to a day; the checkout's outcome stands. */
export const notificationActivityOptions: ActivityOptions = {
  startToCloseTimeout: "30 seconds",
  scheduleToCloseTimeout: "24 hours",
  retry: { initialInterval: "2 seconds", backoffCoefficient: 2, maximumInterval: "10 minutes" },
};

/** A subscriber that is down is retried with backoff for up to 24 hours; the checkout never waits. */
export const deliveryActivityOptions: ActivityOptions = {
  startToCloseTimeout: "30 seconds",
  scheduleToCloseTimeout: "24 hours",
  retry: {
    initialInterval: "1 second",
    backoffCoefficient: 2,
    maximumInterval: "1 hour",
    nonRetryableErrorTypes: ["EndpointDeleted"],
  },
};

/** Telling a customer's risk workflow about a decline: worth a minute of retries, never more. */
export const riskReportActivityOptions: ActivityOptions = {
  startToCloseTimeout: "10 seconds",
  scheduleToCloseTimeout: "1 minute",
  retry: { initialInterval: "500 milliseconds", backoffCoefficient: 2, maximumInterval: "10 seconds" },
};

/**
 * Archiving a closed history. The activity fails (and is retried) until the run has closed, so
 * the pause between attempts bounds how long after the close the archive is written.
 */
export const archiveActivityOptions: ActivityOptions = {
  startToCloseTimeout: "1 minute",
  retry: { initialInterval: "200 milliseconds", backoffCoefficient: 2, maximumInterval: "1 minute" },
};
