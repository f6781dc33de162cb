// Refunds. The amount is reserved first (a PENDING row, under a lock on the payment), so that
// concurrent refunds can never add up to more than was captured; then the provider is asked,
// under an idempotency key derived from the refund workflow, so a retry never refunds twice.
import { ApplicationFailure } from "@temporalio/activity";
import type { Db } from "../prisma/client.ts";
import type { GatewayRegistry } from "../providers/registry.ts";
import { GatewayRequestError, GatewayUnavailableError } from "../providers/types.ts";
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
  status: "SUCCEEDED" | "FAILED";
  amount: number;
  reference?: string;
  failureReason?: string;
}

/** What can still be refunded: captured minus refunds that succeeded or are under way. */
function refundable(payment: { amount: number; refunds: { status: string; amount: number }[] }): number {
  return payment.amount - payment.refunds.filter((r) => r.status !== "FAILED").reduce((sum, r) => sum + r.amount, 0);
}

export async function refundableAmount(db: Db, checkoutId: string): Promise<{ refundable: number; currency: string } | null> {
  const payment = await db.payment.findUnique({ where: { checkoutId }, include: { refunds: true } });
  if (payment?.status !== "SUCCEEDED") return null;
  return { refundable: refundable(payment), currency: payment.currency };
}

export function refundActivities(db: Db, gateways: GatewayRegistry) {
  return {
    async reserveRefund(input: ReserveRefundInput): Promise<ReservedRefund> {
      return db.$transaction(async (tx) => {
        const existing = await tx.refund.findUnique({ where: { id: input.refundId }, include: { payment: true } });
        if (existing) {
          return {
            refundId: existing.id,
            amount: existing.amount,
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
        if (amount <= 0 || amount > left) {
          // Refused (another refund got there first): recorded, so the client sees why.
          const reason = `A refund of ${amount} exceeds the ${left} ${payment.currency} that can still be refunded.`;
          await tx.refund.create({
            data: {
              id: input.refundId,
              checkoutId: input.checkoutId,
              paymentId: payment.id,
              amount: Math.max(amount, 0),
              currency: payment.currency,
              idempotencyKey: input.idempotencyKey,
              status: "FAILED",
              failureReason: reason,
            },
          });
          return {
            refundId: input.refundId,
            amount,
            currency: payment.currency,
            provider: payment.provider,
            chargeReference: payment.gatewayReference,
          };
        }
        await tx.refund.create({
          data: {
            id: input.refundId,
            checkoutId: input.checkoutId,
            paymentId: payment.id,
            amount,
            currency: payment.currency,
            idempotencyKey: input.idempotencyKey,
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

    async executeRefund(refund: ReservedRefund & { checkoutId: string; idempotencyKey: string }): Promise<RefundResult> {
      const row = await db.refund.findUniqueOrThrow({ where: { id: refund.refundId } });
      if (row.status !== "PENDING") {
        return {
          refundId: row.id,
          status: row.status,
          amount: row.amount,
          reference: row.gatewayReference ?? undefined,
          failureReason: row.failureReason ?? undefined,
        };
      }
      const gateway = gateways.get(refund.provider);
      let outcome: Awaited<ReturnType<typeof gateway.refund>>;
      try {
        outcome = await gateway.refund({
          idempotencyKey: refund.idempotencyKey,
          checkoutId: refund.checkoutId,
          chargeReference: refund.chargeReference,
          amount: refund.amount,
          currency: refund.currency,
        });
      } catch (err) {
        if (err instanceof GatewayUnavailableError) throw ApplicationFailure.retryable(err.message, "GatewayUnavailable");
        if (err instanceof GatewayRequestError) outcome = { status: "failed", reason: err.message };
        else throw err;
      }
      if (outcome.status === "pending") {
        // Accepted by the provider, not final yet: ask again on the next attempt (same key).
        throw ApplicationFailure.retryable(`refund ${outcome.reference} is pending at ${refund.provider}`, "RefundPending");
      }
      if (outcome.status === "failed") {
        await db.refund.update({ where: { id: refund.refundId }, data: { status: "FAILED", failureReason: outcome.reason } });
        return { refundId: refund.refundId, status: "FAILED", amount: refund.amount, failureReason: outcome.reason };
      }
      await db.$transaction(async (tx) => {
        await tx.refund.update({
          where: { id: refund.refundId },
          data: { status: "SUCCEEDED", gatewayReference: outcome.reference },
        });
        const payment = await tx.payment.update({
          where: { checkoutId: refund.checkoutId },
          data: { refundedAmount: { increment: refund.amount } },
        });
        if (payment.refundedAmount >= payment.amount) {
          await tx.order.update({ where: { checkoutId: refund.checkoutId }, data: { status: "REFUNDED" } });
        }
      });
      return { refundId: refund.refundId, status: "SUCCEEDED", amount: refund.amount, reference: outcome.reference };
    },

    /** The provider stayed unreachable for the whole retry budget: release the reserved amount. */
    async releaseRefund({ refundId, reason }: { refundId: string; reason: string }): Promise<void> {
      await db.refund.updateMany({
        where: { id: refundId, status: "PENDING" },
        data: { status: "FAILED", failureReason: reason },
      });
    },
  };
}
