// Refunds: start (or find, for the same key) a checkout's refund workflow, after checking what
// can still be refunded and that the provider can take the amount; list a checkout's refunds.
import type { Client, WorkflowHandle } from "@temporalio/client";
import { WorkflowExecutionAlreadyStartedError } from "@temporalio/common";
import { refundableAmount } from "../../activities/refunds.ts";
import { fromDb } from "../../money/amounts.ts";
import type { Db } from "../../prisma/client.ts";
import { checkAmount } from "../../providers/currency-rules.ts";
import { refundWorkflowId } from "../../workflows/definitions.ts";
import type { refund } from "../../workflows/refund.ts";
import type { Caller } from "../caller.ts";
import { ApiError } from "../errors.ts";
import type { CheckoutRuns } from "./checkout-runs.ts";
import { refundIdFor, refundRequestHash, refuseOtherRequest } from "./idempotency.ts";
import { lineItems, refundView } from "./views.ts";

export interface RefundSettings {
  taskQueue: string;
  refundRetryWindowSeconds: number;
}

export function refundService(temporal: Client, db: Db, runs: CheckoutRuns, settings: RefundSettings) {
  /** Refuses what cannot be refunded (nothing captured, more than is left, an amount the provider cannot take). */
  async function refusals(checkoutId: string, amount: number | undefined) {
    const order = await db.order.findUnique({ where: { checkoutId }, include: { items: true } });
    const refundable = await refundableAmount(db, checkoutId);
    if (!order || !refundable) throw new ApiError(409, "not_refundable", "This checkout has no captured payment to refund.");
    if ((amount ?? refundable.refundable) > refundable.refundable) {
      throw new ApiError(
        422,
        "refund_exceeds_captured",
        `At most ${refundable.refundable} ${refundable.currency} can still be refunded.`,
        [{ field: "amount", reason: `must be at most ${refundable.refundable}` }],
      );
    }
    if (refundable.refundable === 0) throw new ApiError(409, "not_refundable", "Everything was already refunded.");
    // Refunds go through the same currency rules as charges: refused here, not late at the provider.
    const check = checkAmount(refundable.provider, refundable.currency, amount ?? refundable.refundable);
    if (!check.ok) {
      throw new ApiError(422, "amount_not_supported", `${refundable.provider} cannot refund this amount as it is.`, [
        { field: "amount", reason: check.reason },
      ]);
    }
    return order;
  }

  /** Starts (or finds, for the same key) the refund workflow of a checkout. */
  async function start(caller: Caller, checkoutId: string, amount: number | undefined, idempotencyKey: string) {
    await runs.ensureExists(caller.merchantId, checkoutId);
    const refundId = refundIdFor(checkoutId, idempotencyKey);
    const hash = refundRequestHash(amount);
    const workflowId = refundWorkflowId(checkoutId, refundId);
    // A retried request finds its refund even once nothing is left to refund.
    const existing = await db.refund.findUnique({ where: { id: refundId }, select: { id: true } });
    const order = existing
      ? await db.order.findUnique({ where: { checkoutId }, include: { items: true } })
      : await refusals(checkoutId, amount);
    if (!order) throw new ApiError(409, "not_refundable", "This checkout has no captured payment to refund.");
    let handle: WorkflowHandle;
    try {
      handle = await temporal.workflow.start<typeof refund>("refund", {
        workflowId,
        taskQueue: settings.taskQueue,
        args: [
          {
            refundId,
            checkoutId,
            amount,
            recipient: order.recipient,
            requestedBy: caller.keyId,
            order: { orderId: order.id, totalAmount: fromDb(order.totalAmount), currency: order.currency },
            items: lineItems(order).map(({ sku, name, quantity, unitAmount }) => ({ sku, name, quantity, unitAmount })),
            requestedAt: new Date().toISOString(),
            retryWindowSeconds: settings.refundRetryWindowSeconds,
          },
        ],
        workflowIdConflictPolicy: "USE_EXISTING",
        workflowIdReusePolicy: "REJECT_DUPLICATE",
        memo: { requestHash: hash, checkoutId },
        staticSummary: `Refund ${amount ?? "the rest"} of checkout ${checkoutId}`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      handle = temporal.workflow.getHandle(workflowId);
    }
    refuseOtherRequest((await handle.describe()).memo, hash, "another refund");
    return { id: refundId, workflowId };
  }

  async function list(merchantId: string, checkoutId: string) {
    await runs.ensureExists(merchantId, checkoutId);
    const rows = await db.refund.findMany({ where: { checkoutId }, orderBy: { createdAt: "asc" } });
    return rows.map(refundView);
  }

  return { start, list };
}

export type RefundService = ReturnType<typeof refundService>;
