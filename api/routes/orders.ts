// /orders: the order rows the checkouts wrote.
import { createRoute } from "@hono/zod-openapi";
import { access, callerFor } from "../auth.ts";
import { createRouter } from "../router.ts";
import { ErrorResponse, IdParam, json, OrderView } from "../schemas.ts";
import type { OrderService } from "../services/orders.ts";

const getOrder = createRoute({
  method: "get",
  path: "/orders/{id}",
  summary: "An order with its line items",
  ...access("checkouts:read"),
  request: { params: IdParam },
  responses: {
    200: json(OrderView, "The order"),
    404: json(ErrorResponse, "No such order"),
  },
});

export function orderRoutes(orders: OrderService) {
  return createRouter().openapi(getOrder, async (c) =>
    c.json(await orders.get(callerFor(c).merchantId, c.req.valid("param").id), 200),
  );
}
