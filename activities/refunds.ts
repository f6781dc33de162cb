// Refunds. The amount is reserved first (a PENDING row, under a lock on the payment), so that
// concurrent refunds can never add up to more than was captured; then the provider is asked,
// under an idempotency key derived from the refund workflow, so a retry never refunds twice.
// A refund whose answer was lost (a timeout, a 500) may have been made: its amount stays
// reserved until the provider, asked by our key, says what became of it; what stays unknown is
// left PENDING for an operator, never released silently.
import { ApplicationFailure } from "@temporalio/activity";
import { fromDb } from "../money/amounts.ts";
import type { Db } from "../prisma/client.ts";
import type { GatewayRegistry } from "../providers/registry.ts";
import { GatewayRequestError, GatewayUnavailableError, type RefundOutcome, type RefundRequest } from "../providers/types.ts";
import { REFUND_NOT_ALLOWED } from "../workflows/definitions.ts";

export interface ReserveRefundInput {
  refundId: string;
  checkoutId: string;
  /** Minor units; absent: everything not yet refunded. */
  amount?: number;
  idempotencyKey: string;
}

export interface ReservedRefund {
  refundId: string;
  amount: number;
  currency: string;
  provider: string;
  chargeReference: string;
}

export interface RefundResult {
  refundId: string;
  /** PENDING: the outcome stayed unknown; the amount stays reserved for an operator to decide. */
  status: "SUCCEEDED" | "FAILED" | "PENDING";
  amount: number;
  reference?: string;
  failureReason?: string;
  needsAttention?: string;
}

type ExecuteRefundInput = ReservedRefund & { checkoutId: string; idempotencyKey: string };

/** What can still be refunded: captured minus refunds that succeeded, or may have (PENDING). */
function refundable(payment: { amount: bigint; refunds: { status: string; amount: bigint }[] }): number {
  const reserved = payment.refunds.filter((r) => r.status !== "FAILED").reduce((sum, r) => sum + r.amount, 0n);
  return fromDb(payment.amount - reserved);
}

export async function refundableAmount(
  db: Db,
  checkoutId: string,
): Promise<{ refundable: number; currency: string; provider: string } | null> {
  const payment = await db.payment.findUnique({ where: { checkoutId }, include: { refunds: true } });
  if (payment?.status !== "SUCCEEDED") return null;
  return { refundable: refundable(payment), currency: payment.currency, provider: payment.provider };
}

export function refundActivities(db: Db, gateways: GatewayRegistry) {
  async function resultOf(refundId: string): Promise<RefundResult> {
    const row = await db.refund.findUniqueOrThrow({ where: { id: refundId } });
    return {
      refundId: row.id,
      status: row.status,
      amount: fromDb(row.amount),
      reference: row.gatewayReference ?? undefined,
      failureReason: row.failureReason ?? undefined,
      needsAttention: row.needsAttention ?? undefined,
    };
  }

  /** Writes the provider's final answer (succeeded or failed) to the refund and the payment. */
  async function settle(
    refund: ExecuteRefundInput,
    outcome: Exclude<RefundOutcome, { status: "pending" }>,
  ): Promise<RefundResult> {
    if (outcome.status === "failed") {
      await db.refund.updateMany({
        where: { id: refund.refundId, status: "PENDING" },
        data: { status: "FAILED", failureReason: outcome.reason, needsAttention: null },
      });
      return resultOf(refund.refundId);
    }
    await db.$transaction(async (tx) => {
      const marked = await tx.refund.updateMany({
        where: { id: refund.refundId, status: "PENDING" },
        data: { status: "SUCCEEDED", gatewayReference: outcome.reference, needsAttention: null },
      });
      if (marked.count === 0) return; // settled by an earlier attempt
      const payment = await tx.payment.update({
        where: { checkoutId: refund.checkoutId },
        data: { refundedAmount: { increment: refund.amount } },
      });
      if (payment.refundedAmount >= payment.amount) {
        await tx.order.update({ where: { checkoutId: refund.checkoutId }, data: { status: "REFUNDED" } });
      }
    });
    return resultOf(refund.refundId);
  }

  function requestOf(refund: ExecuteRefundInput): RefundRequest {
    return {
      idempotencyKey: refund.idempotencyKey,
      checkoutId: refund.checkoutId,
      chargeReference: refund.chargeReference,
      amount: refund.amount,
      currency: refund.currency,
    };
  }

  return {
    async reserveRefund(input: ReserveRefundInput): Promise<ReservedRefund> {
      return db.$transaction(async (tx) => {
        const existing = await tx.refund.findUnique({ where: { id: input.refundId }, include: { payment: true } });
        if (existing) {
          return {
            refundId: existing.id,
            amount: fromDb(existing.amount),
            currency: existing.currency,
            provider: existing.payment.provider,
            chargeReference: existing.payment.gatewayReference ?? "",
          };
        }
        await tx.$queryRaw`SELECT id FROM "Payment" WHERE "checkoutId" = ${input.checkoutId} FOR UPDATE`;
        const payment = await tx.payment.findUnique({ where: { checkoutId: input.checkoutId }, include: { refunds: true } });
        if (payment?.status !== "SUCCEEDED" || !payment.gatewayReference) {
          throw ApplicationFailure.nonRetryable("This checkout has no captured payment to refund.", REFUND_NOT_ALLOWED);
        }
        const left = refundable(payment);
        const amount = input.amount ?? left;
        const refused = amount <= 0 || amount > left;
        await tx.refund.create({
          data: {
            id: input.refundId,
            checkoutId: input.checkoutId,
            paymentId: payment.id,
            amount: Math.max(amount, 0),
            currency: payment.currency,
            idempotencyKey: input.idempotencyKey,
            // Refused (another refund got there first): recorded, so the client sees why.
            ...(refused
              ? {
                  status: "FAILED" as const,
                  failureReason: `A refund of ${amount} exceeds the ${left} ${payment.currency} that can still be refunded.`,
                }
              : {}),
          },
        });
        return {
          refundId: input.refundId,
          amount,
          currency: payment.currency,
          provider: payment.provider,
          chargeReference: payment.gatewayReference,
        };
      });
    },

    async executeRefund(refund: ExecuteRefundInput): Promise<RefundResult> {
      const row = await db.refund.findUniqueOrThrow({ where: { id: refund.refundId } });
      if (row.status !== "PENDING") return resultOf(row.id);
      const gateway = gateways.get(refund.provider);
      let outcome: RefundOutcome;
      try {
        // An earlier attempt may have refunded without us learning of it, and the provider may
        // have forgotten our key since: ask first, where the provider can be asked.
        const earlier = row.outcomeUnknownAt && gateway.findRefund ? await gateway.findRefund(requestOf(refund)) : null;
        outcome = earlier ?? (await gateway.refund(requestOf(refund)));
      } catch (err) {
        if (err instanceof GatewayUnavailableError) {
          if (err.outcomeUnknown) await db.refund.update({ where: { id: row.id }, data: { outcomeUnknownAt: new Date() } });
          throw ApplicationFailure.retryable(err.message, "GatewayUnavailable");
        }
        if (err instanceof GatewayRequestError) outcome = { status: "failed", reason: err.message };
        else throw err;
      }
      if (outcome.status === "pending") {
        // Accepted by the provider, not final yet: money may move. Ask again on the next attempt.
        await db.refund.update({
          where: { id: row.id },
          data: { outcomeUnknownAt: new Date(), gatewayReference: outcome.reference },
        });
        throw ApplicationFailure.retryable(`refund ${outcome.reference} is pending at ${refund.provider}`, "RefundPending");
      }
      return settle(refund, outcome);
    },

    /**
     * The refund's retries are spent without a final answer. If no attempt can have reached the
     * provider, nothing was refunded: the reserved amount is released (FAILED). Otherwise the
     * provider is asked by our key; an answer settles it, and what it cannot tell stays PENDING,
     * its amount reserved, with the reason for an operator (API, `npx checkout refunds`).
     */
    async settleUnansweredRefund(refund: ExecuteRefundInput & { reason: string }): Promise<RefundResult> {
      const row = await db.refund.findUniqueOrThrow({ where: { id: refund.refundId } });
      if (row.status !== "PENDING") return resultOf(row.id);
      if (!row.outcomeUnknownAt) {
        return settle(refund, { status: "failed", reason: `The provider could not be reached: ${refund.reason}` });
      }
      const gateway = gateways.get(refund.provider);
      let found: RefundOutcome | null | undefined;
      let unknownBecause = `${refund.provider} cannot be asked about a refund by our key`;
      if (gateway.findRefund) {
        try {
          found = await gateway.findRefund(requestOf(refund));
        } catch (err) {
          if (!(err instanceof GatewayUnavailableError || err instanceof GatewayRequestError)) throw err;
          unknownBecause = `${refund.provider} could not be asked: ${err.message}`;
        }
      }
      if (found === null) return settle(refund, { status: "failed", reason: `${refund.provider} has no refund under our key` });
      if (found && found.status !== "pending") return settle(refund, found);
      const needsAttention = found
        ? `${refund.provider} still reports refund ${found.reference} pending after every retry (last error: ${refund.reason})`
        : `the outcome is unknown: an attempt may have reached ${refund.provider}, and ${unknownBecause} (last error: ${refund.reason})`;
      await db.refund.update({ where: { id: row.id }, data: { needsAttention: needsAttention.slice(0, 2000) } });
      return resultOf(row.id);
    },

    /** The provider stayed unreachable for the whole retry budget: release the reserved amount (histories before settleUnansweredRefund). */
    async releaseRefund({ refundId, reason }: { refundId: string; reason: string }): Promise<void> {
      await db.refund.updateMany({
        where: { id: refundId, status: "PENDING" },
        data: { status: "FAILED", failureReason: reason },
      });
    },
  };
}
