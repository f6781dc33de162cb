// The checkouts list: the merchant's checkout rows that were let through (api/services/checkouts.ts
// writes their customer, provider and metadata then), filtered in the database, each answered in
// the view GET /checkouts/{id} gives the same caller: the whole checkout to a secret key, its
// status and action to a customer's browser.
import type { Db, Prisma } from "../../prisma/client.ts";
import { ApiError } from "../errors.ts";
import { createdWithin, type ListFilters } from "../list-query.ts";
import type { ListScope } from "../list-scope.ts";
import { metadataWhere } from "../metadata.ts";
import { paginate } from "../pagination.ts";
import type { CheckoutService } from "./checkouts.ts";

export function checkoutListService(db: Db, checkouts: CheckoutService) {
  async function list(scope: ListScope, filters: ListFilters) {
    const visible: Prisma.CheckoutWhereInput = {
      merchantId: scope.merchantId,
      customerExternalId: scope.customer ?? { not: null },
    };
    const where: Prisma.CheckoutWhereInput = {
      ...visible,
      ...(filters.provider ? { provider: filters.provider } : {}),
      createdAt: createdWithin(filters),
      AND: metadataWhere(filters.metadata),
    };
    const { rows, hasMore } = await paginate(filters, {
      find: (id) => db.checkout.findFirst({ where: { ...visible, id }, select: { id: true, createdAt: true } }),
      rows: ({ after, orderBy, take }) =>
        db.checkout.findMany({ where: { AND: [where, after ?? {}] }, orderBy, take, select: { id: true, clientSecret: true } }),
    });
    const views = await Promise.all(
      rows.map((row) =>
        (scope.forCustomer
          ? checkouts.getForCustomer(scope.merchantId, row.id, row.clientSecret)
          : checkouts.get(scope.merchantId, row.id)
        ).catch((err) => {
          // A row let through whose workflow never started (Temporal refused the start): no checkout to show.
          if (err instanceof ApiError && err.status === 404) return undefined;
          throw err;
        }),
      ),
    );
    return { data: views.filter((view) => view !== undefined), hasMore };
  }
  return { list };
}

export type CheckoutListService = ReturnType<typeof checkoutListService>;
