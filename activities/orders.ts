// Orders in PostgreSQL, written idempotently (keyed by checkout ID): a retried activity finds
// the row its earlier attempt wrote and returns it instead of writing another.
import { fromDb, lineTotal, orderTotal } from "../money/amounts.ts";
import type { Db } from "../prisma/client.ts";
import type { CheckoutInput, OrderSummary } from "../workflows/types.ts";

export function orderActivities(db: Db) {
  return {
    async createOrder(input: CheckoutInput): Promise<OrderSummary> {
      const totalAmount = orderTotal(input.items);
      const order = await db.$transaction(async (tx) => {
        const customer = await tx.customer.upsert({
          where: { externalId: input.customer.id },
          create: { externalId: input.customer.id, email: input.customer.email },
          update: { email: input.customer.email },
        });
        const existing = await tx.order.findUnique({ where: { checkoutId: input.checkoutId } });
        if (existing) return existing;
        return tx.order.create({
          data: {
            checkoutId: input.checkoutId,
            customerId: customer.id,
            currency: input.currency,
            totalAmount,
            country: input.origin?.country ?? null,
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
    async cancelOrder({ checkoutId, reason }: { checkoutId: string; reason?: string }): Promise<void> {
      await db.$transaction([
        db.order.update({ where: { checkoutId }, data: { status: "CANCELLED" } }),
        db.payment.updateMany({
          where: { checkoutId, status: { not: "SUCCEEDED" } },
          data: { status: "CANCELLED", failureReason: reason ?? null },
        }),
      ]);
    },

    /** Compensation after a decline or a gateway that stayed down: no charge stands. */
    async markPaymentFailed({ checkoutId, code, reason }: { checkoutId: string; code: string; reason: string }) {
      await db.$transaction([
        db.order.update({ where: { checkoutId }, data: { status: "PAYMENT_FAILED" } }),
        db.payment.updateMany({
          where: { checkoutId, status: { not: "SUCCEEDED" } },
          data: { status: "FAILED", failureCode: code, failureReason: reason, failedAt: new Date() },
        }),
      ]);
    },
  };
}
