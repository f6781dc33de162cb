// The lists, Stripe's way: GET /orders, /payments, /checkouts and /customers/{id}/orders. One
// query shape (api/list-query.ts), one pagination (api/pagination.ts), one rule of whose objects
// a caller sees (api/list-scope.ts); each list's service filters and answers its own views.
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { OrderStatus, PaymentStatus } from "../../generated/prisma/enums.ts";
import type { Db } from "../../prisma/client.ts";
import { access, callerFor } from "../auth.ts";
import { notFound as notFoundError } from "../errors.ts";
import { CustomerId, type ListFilters, listFilters, listQuery } from "../list-query.ts";
import { type ListScope, listScope } from "../list-scope.ts";
import { ListOf, listBody } from "../pagination.ts";
import { createRouter } from "../router.ts";
import { CheckoutView, CustomerCheckoutView, ErrorResponse, json, OrderView, PaymentRecord, PROVIDERS } from "../schemas.ts";
import type { CheckoutListService } from "../services/checkout-list.ts";
import type { OrderService } from "../services/orders.ts";
import type { PaymentService } from "../services/payments.ts";

const notFound = json(
  ErrorResponse,
  "`starting_after` or `ending_before` is no object of this list; with a publishable key, the client secret is not one of this customer's checkouts",
);
const readAccess = access("checkouts:read", { publishable: true });
const description = `${readAccess.description} A publishable key lists only with \`client_secret\` (of one of the customer's checkouts) and the customer named.`;

const orderQuery = listQuery({ status: z.enum(OrderStatus) });
const customerOrderQuery = listQuery({ status: z.enum(OrderStatus), customer: false });
const paymentQuery = listQuery({ status: z.enum(PaymentStatus), provider: z.enum(PROVIDERS) });
const checkoutQuery = listQuery({ provider: z.enum(PROVIDERS) });

const listOrders = createRoute({
  method: "get",
  path: "/orders",
  summary: "The orders, newest first",
  ...readAccess,
  description,
  request: { query: orderQuery.schema },
  parameters: orderQuery.parameters,
  responses: { 200: json(ListOf(OrderView, "OrderList"), "A page of orders"), 404: notFound, ...orderQuery.responses },
});

const listCustomerOrders = createRoute({
  method: "get",
  path: "/customers/{id}/orders",
  summary: "A customer's orders, newest first",
  ...readAccess,
  description,
  request: {
    params: z.object({ id: CustomerId.openapi({ description: "Your own customer id, as given to POST /checkouts." }) }),
    query: customerOrderQuery.schema,
  },
  parameters: customerOrderQuery.parameters,
  responses: {
    200: json(ListOf(OrderView, "OrderList"), "A page of the customer's orders"),
    404: json(ErrorResponse, "No such customer, or a cursor that is no object of this list"),
    ...customerOrderQuery.responses,
  },
});

const listPayments = createRoute({
  method: "get",
  path: "/payments",
  summary: "The payments, newest first",
  ...readAccess,
  description,
  request: { query: paymentQuery.schema },
  parameters: paymentQuery.parameters,
  responses: { 200: json(ListOf(PaymentRecord, "PaymentList"), "A page of payments"), 404: notFound, ...paymentQuery.responses },
});

const listCheckouts = createRoute({
  method: "get",
  path: "/checkouts",
  summary: "The checkouts, newest first",
  ...readAccess,
  description: `${description} Each checkout as GET /checkouts/{id} answers it to the same key.`,
  request: { query: checkoutQuery.schema },
  parameters: checkoutQuery.parameters,
  responses: {
    200: json(ListOf(z.union([CheckoutView, CustomerCheckoutView]), "CheckoutList"), "A page of checkouts"),
    404: notFound,
    ...checkoutQuery.responses,
  },
});

export interface ListServices {
  orders: OrderService;
  payments: PaymentService;
  checkoutList: CheckoutListService;
  /** Where a publishable key's client secret is looked up. */
  db: Db;
}

export function listRoutes({ orders, payments, checkoutList, db }: ListServices) {
  /** One page of `lister`'s, for the caller's scope, in the list envelope. */
  async function page<T>(
    c: Context,
    lister: (scope: ListScope, filters: ListFilters) => Promise<{ data: T[]; hasMore: boolean }>,
    query: Record<string, unknown>,
    pathCustomer?: string,
  ) {
    const filters = listFilters(query);
    const scope = await listScope(db, callerFor(c), {
      customer: pathCustomer ?? filters.customer,
      clientSecret: filters.client_secret,
      customerField: pathCustomer === undefined ? "query.customer" : "id",
    });
    // A customer the merchant has never seen is an unknown id (a browser's client secret proved its own).
    if (pathCustomer !== undefined && !scope.forCustomer) {
      const where = { merchantId_externalId: { merchantId: scope.merchantId, externalId: pathCustomer } };
      if (!(await db.customer.findUnique({ where, select: { id: true } }))) throw notFoundError("customer", pathCustomer);
    }
    const { data, hasMore } = await lister(scope, filters);
    return listBody(c.req.path, data, hasMore);
  }

  return createRouter()
    .openapi(listOrders, async (c) => c.json(await page(c, orders.list, c.req.valid("query")), 200))
    .openapi(listCustomerOrders, async (c) =>
      c.json(await page(c, orders.list, c.req.valid("query"), c.req.valid("param").id), 200),
    )
    .openapi(listPayments, async (c) => c.json(await page(c, payments.list, c.req.valid("query")), 200))
    .openapi(listCheckouts, async (c) => c.json(await page(c, checkoutList.list, c.req.valid("query")), 200));
}
