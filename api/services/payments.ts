// Payments: the payment rows of the checkouts (one per order), listed. A payment row has no
// merchant of its own: it is its order's, and so is its customer and its metadata.
import type { Db, Prisma } from "../../prisma/client.ts";
import { createdWithin, type ListFilters } from "../list-query.ts";
import type { ListScope } from "../list-scope.ts";
import { metadataWhere } from "../metadata.ts";
import { paginate } from "../pagination.ts";
import { paymentView } from "./views.ts";

export function paymentService(db: Db) {
  /** A page of the scope's payments that pass the filters, newest first. */
  async function list(scope: ListScope, filters: ListFilters) {
    const ofScope: Prisma.OrderWhereInput = {
      merchantId: scope.merchantId,
      ...(scope.customer === undefined ? {} : { customer: { externalId: scope.customer } }),
    };
    const visible: Prisma.PaymentWhereInput = { order: ofScope };
    const where: Prisma.PaymentWhereInput = {
      order: { ...ofScope, AND: metadataWhere(filters.metadata) },
      ...(filters.status ? { status: filters.status as Prisma.PaymentWhereInput["status"] } : {}),
      ...(filters.provider ? { provider: filters.provider } : {}),
      createdAt: createdWithin(filters),
    };
    const { rows, hasMore } = await paginate(filters, {
      find: (id) => db.payment.findFirst({ where: { ...visible, id }, select: { id: true, createdAt: true } }),
      rows: ({ after, orderBy, take }) =>
        db.payment.findMany({
          where: { AND: [where, after ?? {}] },
          orderBy,
          take,
          include: { order: { select: { metadata: true, customer: { select: { externalId: true } } } } },
        }),
    });
    return { data: rows.map(paymentView), hasMore };
  }

  return { list };
}

export type PaymentService = ReturnType<typeof paymentService>;
