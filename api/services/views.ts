// What the API answers for the rows it reads: orders and refunds as their JSON views, amounts
// back from the database's BIGINT to numbers.
import { fromDb } from "../../money/amounts.ts";
import type { Db } from "../../prisma/client.ts";
import type { CheckoutState } from "../../workflows/types.ts";
import { metadataOf } from "../metadata.ts";

type RefundRow = Awaited<ReturnType<Db["refund"]["findMany"]>>[number];

export function refundView(row: RefundRow) {
  return {
    id: row.id,
    checkoutId: row.checkoutId,
    status: row.status,
    amount: fromDb(row.amount),
    currency: row.currency,
    gatewayReference: row.gatewayReference,
    failureReason: row.failureReason,
    needsAttention: row.needsAttention,
    createdAt: row.createdAt.toISOString(),
  };
}

export type OrderRow = NonNullable<Awaited<ReturnType<Db["order"]["findUnique"]>>> & {
  customer: { externalId: string };
  items: { sku: string; name: string; quantity: number; unitAmount: bigint; lineTotal: bigint; position: number }[];
};

/** The order's line items in the order they were given, amounts as numbers. */
export function lineItems(order: Pick<OrderRow, "items">) {
  return [...order.items]
    .sort((a, b) => a.position - b.position)
    .map(({ sku, name, quantity, unitAmount, lineTotal }) => ({
      sku,
      name,
      quantity,
      unitAmount: fromDb(unitAmount),
      lineTotal: fromDb(lineTotal),
    }));
}

export function orderView(order: OrderRow) {
  return {
    id: order.id,
    checkoutId: order.checkoutId,
    status: order.status,
    customerId: order.customer.externalId,
    totalAmount: fromDb(order.totalAmount),
    currency: order.currency,
    items: lineItems(order),
    metadata: metadataOf(order.metadata),
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    ...(order.shippedAt
      ? {
          shipment: {
            carrier: order.carrier ?? "",
            tracking: order.trackingNumber ?? "",
            shippedAt: order.shippedAt.toISOString(),
          },
        }
      : {}),
    ...(order.deliveredAt ? { deliveredAt: order.deliveredAt.toISOString() } : {}),
    ...(order.cancelledAt
      ? {
          cancellation: {
            cancelledAt: order.cancelledAt.toISOString(),
            reason: order.cancelReason,
            refundId: order.cancelRefundId,
          },
        }
      : {}),
  };
}

export type PaymentRow = NonNullable<Awaited<ReturnType<Db["payment"]["findUnique"]>>> & {
  order: { metadata: unknown; customer: { externalId: string } };
};

/** A payment row as the payment lists answer it, with its order's customer and metadata. */
export function paymentView(payment: PaymentRow) {
  return {
    id: payment.id,
    checkoutId: payment.checkoutId,
    orderId: payment.orderId,
    customerId: payment.order.customer.externalId,
    status: payment.status,
    provider: payment.provider,
    method: payment.method,
    amount: fromDb(payment.amount),
    currency: payment.currency,
    attempts: payment.attempts,
    gatewayReference: payment.gatewayReference,
    failureCode: payment.failureCode,
    failureReason: payment.failureReason,
    refundedAmount: fromDb(payment.refundedAmount),
    metadata: metadataOf(payment.order.metadata),
    createdAt: payment.createdAt.toISOString(),
    updatedAt: payment.updatedAt.toISOString(),
  };
}

/** A closed checkout with no final state to read (terminated, or deleted unarchived): what its order says. */
export function statusOfOrder(status: string | undefined): CheckoutState["status"] {
  if (status === "PAID" || status === "REFUNDED" || status === "SHIPPED" || status === "DELIVERED") return "COMPLETED";
  if (status === "CANCELLED") return "CANCELLED";
  return "FAILED";
}
