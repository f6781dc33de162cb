// Orders in PostgreSQL, written idempotently (keyed by checkout ID): a retried activity finds
// the row its earlier attempt wrote and returns it instead of writing another.
import { DEFAULT_MERCHANT_ID } from "../merchants/merchants.ts";
import { fromDb, lineTotal, orderTotal } from "../money/amounts.ts";
import type { Db } from "../prisma/client.ts";
import type { CheckoutInput, EventRequest, OrderSummary } from "../workflows/types.ts";
import { withEvent } from "./outbox.ts";

export function orderActivities(db: Db) {
  return {
    async createOrder(input: CheckoutInput): Promise<OrderSummary> {
      const totalAmount = orderTotal(input.items);
      const merchantId = input.merchantId ?? DEFAULT_MERCHANT_ID;
      const order = await db.$transaction(async (tx) => {
        // The customer's record is the merchant's, and a checkout never rewrites its email: the
        // order keeps its own recipient, so no checkout can redirect another one's emails.
        // (Insert-or-nothing, then read: two first checkouts of one customer may run at once.)
        const externalId = input.customer.id;
        await tx.customer.createMany({ data: [{ merchantId, externalId, email: input.customer.email }], skipDuplicates: true });
        const customer = await tx.customer.findUniqueOrThrow({ where: { merchantId_externalId: { merchantId, externalId } } });
        const existing = await tx.order.findUnique({ where: { checkoutId: input.checkoutId } });
        if (existing) return existing;
        return tx.order.create({
          data: {
            checkoutId: input.checkoutId,
            merchantId,
            customerId: customer.id,
            recipient: input.customer.email,
            currency: input.currency,
            totalAmount,
            country: input.origin?.country ?? null,
            metadata: input.metadata ?? {},
            items: {
              create: input.items.map((item, position) => ({
                position,
                sku: item.sku,
                name: item.name,
                quantity: item.quantity,
                unitAmount: item.unitAmount,
                lineTotal: lineTotal(item),
              })),
            },
          },
        });
      });
      return { orderId: order.id, totalAmount: fromDb(order.totalAmount), currency: order.currency };
    },

    /** A cancelled or expired checkout: the order is cancelled and no charge stands. */
    async cancelOrder({
      checkoutId,
      reason,
      event,
    }: {
      checkoutId: string;
      reason?: string;
      event?: EventRequest;
    }): Promise<void> {
      await withEvent(db, checkoutId, event, async (tx) => {
        await tx.order.update({
          where: { checkoutId },
          data: { status: "CANCELLED", cancelledAt: new Date(), cancelReason: reason ?? null },
        });
        await tx.payment.updateMany({
          where: { checkoutId, status: { not: "SUCCEEDED" } },
          data: { status: "CANCELLED", failureReason: reason ?? null },
        });
      });
    },

    /** Compensation after a decline or a gateway that stayed down: no charge stands. */
    async markPaymentFailed({
      checkoutId,
      code,
      reason,
      event,
    }: {
      checkoutId: string;
      code: string;
      reason: string;
      event?: EventRequest;
    }) {
      await withEvent(db, checkoutId, event, async (tx) => {
        await tx.order.update({ where: { checkoutId }, data: { status: "PAYMENT_FAILED" } });
        await tx.payment.updateMany({
          where: { checkoutId, status: { not: "SUCCEEDED" } },
          data: { status: "FAILED", failureCode: code, failureReason: reason, failedAt: new Date() },
        });
      });
    },

    /** A confirmed order shipped (workflows/order.ts); the event order.shipped in the same transaction. */
    async recordShipment({
      checkoutId,
      carrier,
      tracking,
      shippedAt,
      event,
    }: {
      checkoutId: string;
      carrier: string;
      tracking: string;
      shippedAt: string;
      event?: EventRequest;
    }): Promise<void> {
      await withEvent(db, checkoutId, event, (tx) =>
        tx.order.update({
          where: { checkoutId },
          data: { status: "SHIPPED", carrier, trackingNumber: tracking, shippedAt: new Date(shippedAt) },
        }),
      );
    },

    /** The order delivered; order.delivered in the same transaction. */
    async recordDelivery({
      checkoutId,
      deliveredAt,
      event,
    }: {
      checkoutId: string;
      deliveredAt: string;
      event?: EventRequest;
    }): Promise<void> {
      await withEvent(db, checkoutId, event, (tx) =>
        tx.order.update({ where: { checkoutId }, data: { status: "DELIVERED", deliveredAt: new Date(deliveredAt) } }),
      );
    },

    /** A paid order cancelled before it shipped, once its refund went through; order.cancelled with it. */
    async recordOrderCancelled({
      checkoutId,
      reason,
      refundId,
      cancelledAt,
      event,
    }: {
      checkoutId: string;
      reason?: string;
      refundId: string;
      cancelledAt: string;
      event?: EventRequest;
    }): Promise<void> {
      await withEvent(db, checkoutId, event, (tx) =>
        tx.order.update({
          where: { checkoutId },
          data: {
            status: "CANCELLED",
            cancelledAt: new Date(cancelledAt),
            cancelReason: reason ?? null,
            cancelRefundId: refundId,
          },
        }),
      );
    },
  };
}
