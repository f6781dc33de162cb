// Orders: the order rows the checkouts wrote.
import type { Db } from "../../prisma/client.ts";
import { notFound } from "../errors.ts";
import { orderView } from "./views.ts";

export function orderService(db: Db) {
  async function get(merchantId: string, orderId: string) {
    const order = await db.order.findFirst({ where: { id: orderId, merchantId }, include: { items: true, customer: true } });
    if (!order) throw notFound("order", orderId);
    return orderView(order);
  }
  return { get };
}

export type OrderService = ReturnType<typeof orderService>;
