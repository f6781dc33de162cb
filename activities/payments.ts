// The payment step. The idempotency key is derived from the workflow ID and the step, so every
// retry, a worker crash or a workflow reset all reach the gateway under the same key. And before
// any charge under a key that was sent before (a retry, a new run after a reset, a run that failed
// over and back), the provider is asked whether that earlier attempt charged: by the provider's
// reference when an answer gave one, else by our key. So a reset long after the provider forgot
// the key (Stripe keeps keys for a day) still never charges twice.
import { ApplicationFailure, Context, log } from "@temporalio/activity";
import type { Db } from "../prisma/client.ts";
import type { GatewayRegistry } from "../providers/registry.ts";
import { type ChargeOutcome, GatewayRequestError, GatewayUnavailableError } from "../providers/types.ts";
import { GATEWAY_OUTCOME_UNKNOWN, GATEWAY_REQUEST_REJECTED, PAYMENT_DECLINED } from "../workflows/definitions.ts";
import type { CustomerAction, EventRequest, OrderSummary } from "../workflows/types.ts";
import { whileHeartbeating } from "./heartbeat.ts";
import { withEvent } from "./outbox.ts";

export interface PaymentRequest {
  checkoutId: string;
  provider: string;
  /** `<workflowId>:payment` (or `…:payment:<provider>` for a fallback provider). */
  idempotencyKey: string;
  order: OrderSummary;
  /** payment.succeeded, written in the transaction that records the success. */
  eventOnSuccess?: EventRequest;
}

export interface InitiatePaymentInput extends PaymentRequest {
  token: string;
  method: string;
  customerEmail: string;
  returnUrl?: string;
}

export interface ReconcilePaymentInput extends PaymentRequest {
  /** The provider's reference, when an earlier answer gave one. */
  reference?: string;
}

export type PaymentStepResult =
  | { status: "succeeded"; provider: string; reference: string; attempts: number }
  | { status: "requires_action"; provider: string; reference: string; action: CustomerAction; attempts: number }
  | { status: "processing"; provider: string; reference: string; attempts: number }
  | {
      status: "not_found";
      provider: string;
      attempts: number;
      /**
       * The provider's lookup by our key may lag (Stripe's search): believe "no charge" only if a
       * second lookup this many seconds later agrees. Absent where the answer is certain.
       */
      confirmAfterSeconds?: number;
    };

/** After the payment's retries are spent: what the provider says, or that it cannot be asked. */
export type RetriesSpentCheck = PaymentStepResult | { status: "unreachable"; provider: string; outcomeUnknown: boolean };

export function paymentActivities(db: Db, gateways: GatewayRegistry) {
  /**
   * Whether a charge may already stand under this key (an earlier attempt, in this run or an
   * earlier one, sent it), and the provider's reference for it when an answer gave one.
   */
  async function earlierUse(request: PaymentRequest): Promise<{ sent: boolean; current: boolean; reference?: string }> {
    const [row, answered] = await Promise.all([
      db.payment.findUnique({
        where: { checkoutId: request.checkoutId },
        select: { idempotencyKey: true, keysUsed: true, gatewayReference: true },
      }),
      db.paymentAttempt.findFirst({
        where: { checkoutId: request.checkoutId, idempotencyKey: request.idempotencyKey, reference: { not: null } },
        orderBy: { endedAt: "desc" },
        select: { reference: true },
      }),
    ]);
    const current = row?.idempotencyKey === request.idempotencyKey;
    const sent = current || (row?.keysUsed.includes(request.idempotencyKey) ?? false) || answered !== null;
    const reference = answered?.reference ?? (current ? row?.gatewayReference : null) ?? undefined;
    return { sent, current, reference };
  }

  /** Writes what the provider said to the payment row (and the order), idempotently. */
  async function record(request: PaymentRequest, outcome: ChargeOutcome, attempt: number): Promise<PaymentStepResult> {
    const { checkoutId, provider } = request;
    switch (outcome.status) {
      case "succeeded":
        await withEvent(db, checkoutId, request.eventOnSuccess, async (tx) => {
          await tx.payment.update({
            where: { checkoutId },
            data: {
              status: "SUCCEEDED",
              provider,
              idempotencyKey: request.idempotencyKey,
              gatewayReference: outcome.reference,
              failureCode: null,
              failureReason: null,
              outcomeUnknownAt: null,
              succeededAt: new Date(),
            },
          });
          await tx.order.update({ where: { checkoutId }, data: { status: "PAID" } });
        });
        return { status: "succeeded", provider, reference: outcome.reference, attempts: attempt };
      case "declined":
        await db.payment.update({
          where: { checkoutId },
          data: {
            status: "FAILED",
            gatewayReference: outcome.reference,
            failureCode: outcome.declineCode,
            failureReason: outcome.declineReason,
            outcomeUnknownAt: null,
            failedAt: new Date(),
          },
        });
        throw ApplicationFailure.create({
          message: outcome.declineReason,
          type: PAYMENT_DECLINED,
          nonRetryable: true,
          details: [{ code: outcome.declineCode, attempt, gatewayReference: outcome.reference }],
        });
      case "requires_action":
        await db.payment.update({
          where: { checkoutId },
          data: { status: "REQUIRES_ACTION", gatewayReference: outcome.reference, outcomeUnknownAt: null },
        });
        return { status: "requires_action", provider, reference: outcome.reference, action: outcome.action, attempts: attempt };
      case "processing":
        await db.payment.update({ where: { checkoutId }, data: { gatewayReference: outcome.reference } });
        return { status: "processing", provider, reference: outcome.reference, attempts: attempt };
    }
  }

  /**
   * What the provider says about the charge made under our key (completing a capture if due): by
   * the reference an earlier answer gave, where there is one.
   */
  async function askProvider(input: ReconcilePaymentInput): Promise<ChargeOutcome | null> {
    const gateway = gateways.get(input.provider);
    const reference = input.reference ?? (await earlierUse(input)).reference;
    return whileHeartbeating(() => gateway.reconcile({ ...lookupOf(input), reference }));
  }

  /** "No charge under this key", with how long to wait before a second lookup may confirm it. */
  function notFound(input: PaymentRequest, attempt: number): PaymentStepResult {
    const lag = gateways.get(input.provider).searchLagSeconds;
    return { status: "not_found", provider: input.provider, attempts: attempt, ...(lag > 0 ? { confirmAfterSeconds: lag } : {}) };
  }

  /** Records a failed attempt and turns the gateway's error into a retryable or final failure. */
  async function failure(request: PaymentRequest, err: unknown): Promise<never> {
    if (err instanceof GatewayUnavailableError || err instanceof GatewayRequestError) {
      await db.payment.update({
        where: { checkoutId: request.checkoutId },
        data: {
          failureCode: err.status ? `http_${err.status}` : "unreachable",
          failureReason: err.message,
          ...(err instanceof GatewayUnavailableError && err.outcomeUnknown ? { outcomeUnknownAt: new Date() } : {}),
        },
      });
      if (err instanceof GatewayRequestError) throw ApplicationFailure.nonRetryable(err.message, GATEWAY_REQUEST_REJECTED);
      throw ApplicationFailure.retryable(err.message, err.outcomeUnknown ? GATEWAY_OUTCOME_UNKNOWN : "GatewayUnavailable");
    }
    throw err;
  }

  /**
   * Keeps the attempt that just ended in PaymentAttempt: the history keeps only the last failure
   * of a retried activity. Best effort: a payment never fails because its log could not be written.
   */
  async function recordAttempt(request: PaymentRequest, startedAt: Date, ended: AttemptEnd): Promise<void> {
    const { activityId, activityType, attempt, workflowExecution } = Context.current().info;
    const key = { checkoutId: request.checkoutId, runId: workflowExecution?.runId ?? "", activityId, attempt };
    const fields = { endedAt: new Date(), idempotencyKey: request.idempotencyKey, ...ended };
    try {
      await db.paymentAttempt.upsert({
        where: { checkoutId_runId_activityId_attempt: key },
        create: { ...key, activityType, provider: request.provider, startedAt, ...fields },
        update: fields,
      });
    } catch (err) {
      log.warn("could not record the payment attempt", { ...key, activityType, error: (err as Error).message });
    }
  }

  /** A payment activity whose every attempt, failed or not, is recorded as it ends. */
  function logged<I extends PaymentRequest, R extends { status: string }>(step: (input: I) => Promise<R>) {
    return async (input: I): Promise<R> => {
      const startedAt = new Date();
      try {
        const result = await step(input);
        const reference = "reference" in result && typeof result.reference === "string" ? result.reference : null;
        await recordAttempt(input, startedAt, { outcome: result.status, reference });
        return result;
      } catch (err) {
        await recordAttempt(input, startedAt, attemptEndOf(err));
        throw err;
      }
    };
  }

  const steps = {
    async initiatePayment(input: InitiatePaymentInput): Promise<PaymentStepResult> {
      const { attempt } = Context.current().info;
      const gateway = gateways.get(input.provider);
      const earlier = await earlierUse(input);
      const fields = {
        provider: gateway.provider,
        method: input.method,
        status: "PROCESSING" as const,
        amount: input.order.totalAmount,
        currency: input.order.currency,
        idempotencyKey: input.idempotencyKey,
        attempts: attempt,
      };
      await db.payment.upsert({
        where: { checkoutId: input.checkoutId },
        // `set`, not a bare list: Prisma makes a bare list part of the query's shape, so every
        // checkout compiled a plan of its own and kept it in the client's plan cache.
        create: {
          checkoutId: input.checkoutId,
          orderId: input.order.orderId,
          ...fields,
          keysUsed: { set: [input.idempotencyKey] },
        },
        update: {
          ...fields,
          // Recorded before the request leaves: a crash mid-request still marks the key as sent.
          ...(earlier.sent ? {} : { keysUsed: { push: input.idempotencyKey } }),
          // Another key than the row's (a fallback provider, or back after one): the row's
          // reference was the other charge's.
          ...(earlier.current ? {} : { gatewayReference: earlier.reference ?? null }),
        },
      });

      let outcome: ChargeOutcome;
      try {
        outcome = await whileHeartbeating(async () => {
          // An earlier attempt under this key may have charged without us learning of it, and the
          // provider may have forgotten the key since: ask first, and charge only if nothing stands.
          const standing =
            attempt > 1 || earlier.sent
              ? await gateway.reconcile({
                  ...lookupOf(input),
                  reference: earlier.reference,
                  customerEmail: input.customerEmail,
                  returnUrl: input.returnUrl,
                })
              : null;
          return (
            standing ??
            gateway.charge({
              idempotencyKey: input.idempotencyKey,
              checkoutId: input.checkoutId,
              amount: input.order.totalAmount,
              currency: input.order.currency,
              token: input.token,
              method: input.method,
              customerEmail: input.customerEmail,
              returnUrl: input.returnUrl,
            })
          );
        });
      } catch (err) {
        return failure(input, err);
      }
      if (outcome.status === "processing") {
        throw ApplicationFailure.create({
          message: "the gateway is still processing the charge",
          type: "GatewayProcessing",
          details: [{ gatewayReference: outcome.reference }],
        });
      }
      return record(input, outcome, attempt);
    },

    /** Asks the provider what became of the charge (after a webhook, a deadline or spent retries). */
    async reconcilePayment(input: ReconcilePaymentInput): Promise<PaymentStepResult> {
      const { attempt } = Context.current().info;
      let outcome: ChargeOutcome | null;
      try {
        outcome = await askProvider(input);
      } catch (err) {
        return failure(input, err);
      }
      if (!outcome) return notFound(input, attempt);
      return record(input, outcome, attempt);
    },

    /**
     * The customer did not act in time: stop the charge at the provider, so a late approval takes
     * no money. If the customer completed it first after all, it is recorded as paid.
     */
    async voidPayment(input: ReconcilePaymentInput & { reference: string }): Promise<PaymentStepResult | { status: "voided" }> {
      const { attempt } = Context.current().info;
      const gateway = gateways.get(input.provider);
      let outcome: ChargeOutcome | null;
      try {
        outcome = await whileHeartbeating(() =>
          gateway.cancel ? gateway.cancel({ ...lookupOf(input), reference: input.reference }) : askProvider(input),
        );
      } catch (err) {
        return failure(input, err);
      }
      if (outcome?.status === "succeeded") return record(input, outcome, attempt);
      return { status: "voided" };
    },

    /**
     * The payment's retries are spent. Did an attempt charge after all? A provider that cannot be
     * asked is reported, with whether any attempt had an unknown outcome: only a payment known
     * not to have charged may move to another provider.
     */
    async checkAfterRetries(input: ReconcilePaymentInput): Promise<RetriesSpentCheck> {
      const { attempt } = Context.current().info;
      let outcome: ChargeOutcome | null;
      try {
        outcome = await askProvider(input);
      } catch (err) {
        if (!(err instanceof GatewayUnavailableError)) return failure(input, err);
        const row = await db.payment.findUnique({ where: { checkoutId: input.checkoutId } });
        return {
          status: "unreachable",
          provider: input.provider,
          outcomeUnknown: err.outcomeUnknown || row?.outcomeUnknownAt != null,
        };
      }
      if (!outcome) {
        await db.payment.update({ where: { checkoutId: input.checkoutId }, data: { outcomeUnknownAt: null } });
        return notFound(input, attempt);
      }
      return record(input, outcome, attempt);
    },
  };

  return {
    initiatePayment: logged(steps.initiatePayment),
    reconcilePayment: logged(steps.reconcilePayment),
    voidPayment: logged(steps.voidPayment),
    checkAfterRetries: logged(steps.checkAfterRetries),
  };
}

interface AttemptEnd {
  outcome: string;
  reference?: string | null;
  errorType?: string;
  errorMessage?: string;
}

/** How a failed attempt is told in PaymentAttempt: a decline, a charge still processing, or a failure. */
function attemptEndOf(err: unknown): AttemptEnd {
  const errorType = err instanceof ApplicationFailure ? (err.type ?? "ApplicationFailure") : ((err as Error)?.name ?? "Error");
  const errorMessage = String((err as Error)?.message ?? err).slice(0, 2000);
  const outcome = errorType === PAYMENT_DECLINED ? "declined" : errorType === "GatewayProcessing" ? "processing" : "failed";
  const details =
    err instanceof ApplicationFailure ? (err.details?.[0] as { gatewayReference?: unknown } | undefined) : undefined;
  const reference = typeof details?.gatewayReference === "string" ? details.gatewayReference : null;
  return { outcome, reference, errorType, errorMessage };
}

function lookupOf(request: PaymentRequest) {
  return {
    idempotencyKey: request.idempotencyKey,
    checkoutId: request.checkoutId,
    amount: request.order.totalAmount,
    currency: request.order.currency,
  };
}
