// The payment step. The idempotency key is derived from the workflow ID and the step, so every
// retry, a worker crash or a workflow reset all reach the gateway under the same key; and a retry
// first asks the gateway whether an earlier attempt already charged, before charging again.
import { ApplicationFailure, Context, heartbeat } from "@temporalio/activity";
import type { Db } from "../prisma/client.ts";
import { PAYMENT_DECLINED, paymentIdempotencyKey } from "../workflows/definitions.ts";
import type { OrderSummary, PaymentInstruction } from "../workflows/types.ts";
import type { GatewayRegistry } from "./gateways/registry.ts";
import { type Charge, GatewayUnavailableError, type PaymentGateway } from "./gateways/types.ts";

export interface InitiatePaymentInput {
  checkoutId: string;
  workflowId: string;
  order: OrderSummary;
  payment: PaymentInstruction;
}

export interface InitiatePaymentResult {
  paymentId: string;
  provider: string;
  gatewayReference: string;
  attempts: number;
}

const HEARTBEAT_EVERY_MS = 1_000;

export function paymentActivities(db: Db, gateways: GatewayRegistry) {
  return {
    async initiatePayment(input: InitiatePaymentInput): Promise<InitiatePaymentResult> {
      const { attempt } = Context.current().info;
      const idempotencyKey = paymentIdempotencyKey(input.workflowId);
      const gateway = gateways.get(input.payment.provider);
      const payment = await db.payment.upsert({
        where: { checkoutId: input.checkoutId },
        create: {
          checkoutId: input.checkoutId,
          orderId: input.order.orderId,
          provider: gateway.provider,
          method: input.payment.method,
          status: "PROCESSING",
          amount: input.order.totalAmount,
          currency: input.order.currency,
          idempotencyKey,
          attempts: attempt,
        },
        update: { status: "PROCESSING", attempts: attempt },
      });

      let charge: Charge;
      try {
        charge = await whileHeartbeating(() => chargeOnce(gateway, input, idempotencyKey, attempt));
      } catch (err) {
        if (err instanceof GatewayUnavailableError) {
          await db.payment.update({
            where: { id: payment.id },
            data: { failureCode: err.status ? `http_${err.status}` : "unreachable", failureReason: err.message },
          });
          throw ApplicationFailure.retryable(err.message, "GatewayUnavailable");
        }
        throw err;
      }

      if (charge.status === "declined") {
        const code = charge.declineCode ?? "declined";
        const reason = charge.declineReason ?? "The payment was declined.";
        await db.payment.update({
          where: { id: payment.id },
          data: {
            status: "FAILED",
            gatewayReference: charge.reference,
            failureCode: code,
            failureReason: reason,
            failedAt: new Date(),
          },
        });
        throw ApplicationFailure.create({
          message: reason,
          type: PAYMENT_DECLINED,
          nonRetryable: true,
          details: [{ code, attempt, gatewayReference: charge.reference }],
        });
      }
      if (charge.status === "processing") {
        throw ApplicationFailure.retryable("the gateway is still processing the charge", "GatewayProcessing");
      }

      await db.$transaction([
        db.payment.update({
          where: { id: payment.id },
          data: {
            status: "SUCCEEDED",
            gatewayReference: charge.reference,
            failureCode: null,
            failureReason: null,
            succeededAt: new Date(),
          },
        }),
        db.order.update({ where: { checkoutId: input.checkoutId }, data: { status: "PAID" } }),
      ]);
      return { paymentId: payment.id, provider: gateway.provider, gatewayReference: charge.reference, attempts: attempt };
    },
  };
}

/** On a retry, an earlier attempt may have charged without us learning of it: ask first. */
async function chargeOnce(gateway: PaymentGateway, input: InitiatePaymentInput, idempotencyKey: string, attempt: number) {
  if (attempt > 1) {
    const earlier = await gateway.findCharge(idempotencyKey);
    if (earlier) return earlier;
  }
  return gateway.charge({
    idempotencyKey,
    checkoutId: input.checkoutId,
    amount: input.order.totalAmount,
    currency: input.order.currency,
    token: input.payment.token,
  });
}

/** Heartbeats while a slow gateway answers, so a dead worker is noticed in seconds, not minutes. */
async function whileHeartbeating<T>(work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    heartbeat();
    return await work();
  } finally {
    clearInterval(timer);
  }
}
