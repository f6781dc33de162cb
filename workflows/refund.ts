// A refund, durably: reserve the amount (never more than captured minus earlier refunds), ask
// the provider under an idempotency key derived from this workflow, record it, tell the customer.
// A refund the provider never answered for the whole retry window is settled by asking the
// provider about it; one whose outcome stays unknown ends PENDING for an operator (its amount
// stays reserved), and the workflow fails so that it stands out in the Web UI and the CLI.
import { ActivityFailure, ApplicationFailure, patched, proxyActivities, workflowInfo } from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";
import type { RefundResult } from "../activities/refunds.ts";
import { emitEvent } from "./events.ts";
import {
  notificationActivityOptions,
  orderActivityOptions,
  reconcileActivityOptions,
  refundActivityOptions,
} from "./retry-policies.ts";
import type { LineItem, OrderSummary } from "./types.ts";

export interface RefundInput {
  refundId: string;
  checkoutId: string;
  /** Minor units; absent: everything not yet refunded. */
  amount?: number;
  recipient: string;
  /** Who asked for it: the API key's id, or `operator` from the CLI; absent in older histories. */
  requestedBy?: string;
  order: OrderSummary;
  items: LineItem[];
  requestedAt: string;
  /** How long the provider is retried before the refund is settled without its answer; absent in older histories. */
  retryWindowSeconds?: number;
}

export const REFUND_OUTCOME_UNKNOWN = "RefundOutcomeUnknown";
/** patched() id: settle an unanswered refund by asking the provider, instead of releasing it. */
const SETTLE_UNANSWERED = "settle-unanswered-refund";
const DEFAULT_RETRY_WINDOW_SECONDS = 24 * 3600;

const { reserveRefund, releaseRefund } = proxyActivities<Activities>(orderActivityOptions);
const { settleUnansweredRefund } = proxyActivities<Activities>(reconcileActivityOptions);
const { sendNotification } = proxyActivities<Activities>(notificationActivityOptions);

export async function refund(input: RefundInput): Promise<RefundResult> {
  const idempotencyKey = `${workflowInfo().workflowId}:refund`;
  const reserved = await reserveRefund({
    refundId: input.refundId,
    checkoutId: input.checkoutId,
    amount: input.amount,
    idempotencyKey,
  });
  const { executeRefund } = proxyActivities<Activities>(
    refundActivityOptions(input.retryWindowSeconds ?? DEFAULT_RETRY_WINDOW_SECONDS),
  );
  const request = { ...reserved, checkoutId: input.checkoutId, idempotencyKey };
  let result: RefundResult;
  try {
    result = await executeRefund(request);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const reason = err.cause?.message ?? err.message;
    if (!patched(SETTLE_UNANSWERED)) {
      await releaseRefund({ refundId: input.refundId, reason });
      throw ApplicationFailure.nonRetryable(`The refund could not be made: ${reason}`, "RefundFailed");
    }
    result = await settleUnansweredRefund({ ...request, reason });
    if (result.status === "FAILED") {
      throw ApplicationFailure.nonRetryable(`The refund could not be made: ${result.failureReason}`, "RefundFailed", result);
    }
  }
  if (result.status === "PENDING") {
    throw ApplicationFailure.nonRetryable(
      `The refund's outcome is unknown; its amount stays reserved for an operator: ${result.needsAttention}`,
      REFUND_OUTCOME_UNKNOWN,
      result,
    );
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
