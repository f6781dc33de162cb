// A refund, durably: reserve the amount (never more than captured minus earlier refunds), ask
// the provider under an idempotency key derived from this workflow, record it, tell the customer.
import { ActivityFailure, ApplicationFailure, proxyActivities, workflowInfo } from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";
import type { RefundResult } from "../activities/refunds.ts";
import { emitEvent } from "./events.ts";
import { notificationActivityOptions, orderActivityOptions, refundActivityOptions } from "./retry-policies.ts";
import type { LineItem, OrderSummary } from "./types.ts";

export interface RefundInput {
  refundId: string;
  checkoutId: string;
  /** Minor units; absent: everything not yet refunded. */
  amount?: number;
  recipient: string;
  order: OrderSummary;
  items: LineItem[];
  requestedAt: string;
}

const { reserveRefund, releaseRefund } = proxyActivities<Activities>(orderActivityOptions);
const { executeRefund } = proxyActivities<Activities>(refundActivityOptions);
const { sendNotification } = proxyActivities<Activities>(notificationActivityOptions);

export async function refund(input: RefundInput): Promise<RefundResult> {
  const idempotencyKey = `${workflowInfo().workflowId}:refund`;
  const reserved = await reserveRefund({
    refundId: input.refundId,
    checkoutId: input.checkoutId,
    amount: input.amount,
    idempotencyKey,
  });
  let result: RefundResult;
  try {
    result = await executeRefund({ ...reserved, checkoutId: input.checkoutId, idempotencyKey });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const reason = err.cause?.message ?? err.message;
    await releaseRefund({ refundId: input.refundId, reason });
    throw ApplicationFailure.nonRetryable(`The refund could not be made: ${reason}`, "RefundFailed");
  }
  if (result.status === "SUCCEEDED") {
    await sendNotification({
      checkoutId: input.checkoutId,
      template: "refund-issued",
      recipient: input.recipient,
      order: input.order,
      items: input.items,
      refund: { id: input.refundId, amount: result.amount },
    });
    await emitEvent(workflowInfo().workflowId, "refund.succeeded", input.checkoutId, {
      checkoutId: input.checkoutId,
      refund: {
        id: input.refundId,
        amount: result.amount,
        currency: input.order.currency,
        gatewayReference: result.reference ?? null,
      },
    });
  }
  return result;
}
