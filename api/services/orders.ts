// Orders: the order rows the checkouts wrote, one by id or a list of them.
import type { Db, Prisma } from "../../prisma/client.ts";
import { notFound } from "../errors.ts";
import { createdWithin, type ListFilters } from "../list-query.ts";
import type { ListScope } from "../list-scope.ts";
import { metadataWhere } from "../metadata.ts";
import { paginate } from "../pagination.ts";
import { orderView } from "./views.ts";

export function orderService(db: Db) {
  async function get(merchantId: string, orderId: string) {
    const order = await db.order.findFirst({ where: { id: orderId, merchantId }, include: { items: true, customer: true } });
    if (!order) throw notFound("order", orderId);
    return orderView(order);
  }

  /** A page of the scope's orders that pass the filters, newest first. */
  async function list(scope: ListScope, filters: ListFilters) {
    const visible: Prisma.OrderWhereInput = {
      merchantId: scope.merchantId,
      ...(scope.customer === undefined ? {} : { customer: { externalId: scope.customer } }),
    };
    const where: Prisma.OrderWhereInput = {
      ...visible,
      ...(filters.status ? { status: filters.status as Prisma.OrderWhereInput["status"] } : {}),
      createdAt: createdWithin(filters),
      AND: metadataWhere(filters.metadata),
    };
    const { rows, hasMore } = await paginate(filters, {
      find: (id) => db.order.findFirst({ where: { ...visible, id }, select: { id: true, createdAt: true } }),
      rows: ({ after, orderBy, take }) =>
        db.order.findMany({ where: { AND: [where, after ?? {}] }, orderBy, take, include: { items: true, customer: true } }),
    });
    return { data: rows.map(orderView), hasMore };
  }

  return { get, list };
}

export type OrderService = ReturnType<typeof orderService>;
