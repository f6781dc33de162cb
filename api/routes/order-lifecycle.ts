// An order's life after its checkout started: pay again after a decline; cancel (refunding a
// paid order), ship and deliver. Merchant operations (secret keys with the scope); paying again
// and cancelling may also come from the customer's browser, with a publishable key and the
// checkout's client secret. Shipping and delivery are the merchant's alone.
import { createRoute, z } from "@hono/zod-openapi";
import { access, callerFor } from "../auth.ts";
import { createRouter } from "../router.ts";
import {
  CheckoutView,
  CustomerCheckoutView,
  displayText,
  ErrorResponse,
  IdParam,
  json,
  OrderView,
  PaymentInstruction,
  refuseRepeatedProviders,
} from "../schemas.ts";
import type { OrderLifecycleService } from "../services/order-lifecycle.ts";

const ClientSecretQuery = z.object({
  client_secret: z
    .string()
    .max(200)
    .optional()
    .openapi({ description: "With a publishable key: the checkout's client secret (required then)." }),
});

const payAgain = createRoute({
  method: "post",
  path: "/orders/{id}/payments",
  summary: "Pay again for an order whose payment was declined",
  ...access("checkouts:write", { publishable: true }),
  request: {
    params: IdParam,
    query: ClientSecretQuery,
    headers: z.object({
      prefer: z
        .string()
        .max(100)
        .optional()
        .openapi({ description: "`wait=N` (N ≤ 30): answer once the new payment has its first answer." }),
    }),
    body: {
      ...json(
        z.strictObject({ payment: PaymentInstruction }).superRefine((body, ctx) => refuseRepeatedProviders(body.payment, ctx)),
        "The new payment: the same fields as a checkout's",
      ),
      required: true,
    },
  },
  responses: {
    202: json(z.union([CheckoutView, CustomerCheckoutView]), "Accepted: the new payment runs (its checkout, as GET shows it)"),
    400: json(ErrorResponse, "Invalid request"),
    404: json(ErrorResponse, "No such order"),
    409: json(ErrorResponse, "The checkout is not awaiting a payment (`payment_not_awaited`, with the reason)"),
    422: json(ErrorResponse, "A provider not configured, or one that cannot take this amount or currency"),
  },
});

const CancelBody = z.object({ reason: displayText(500, 0).optional() });
const Accepted = (what: string) =>
  json(OrderView, `Accepted, still under way after 20 s (${what}): GET /orders/{id} shows when it is done`);
const cancelResponses = {
  200: json(OrderView, "Cancelled: before payment, nothing was charged; after it, the payment was refunded in full"),
  202: Accepted("the refund waits on the provider"),
  403: json(ErrorResponse, "A paid order's cancel refunds it: a secret key needs `refunds:write` too"),
  404: json(ErrorResponse, "No such order"),
  409: json(
    ErrorResponse,
    "Too late or not possible: shipped (`order_shipped`), delivered, already cancelled, a payment in progress (`not_cancellable`), a refund that did not go through (`refund_failed`)",
  ),
};
const cancelOrder = createRoute({
  method: "post",
  path: "/orders/{id}/cancel",
  summary: "Cancel an order (refunding it once paid); refused once shipped",
  ...access("checkouts:write", { publishable: true }),
  request: {
    params: IdParam,
    query: ClientSecretQuery,
    body: { ...json(CancelBody, "Why (optional)"), required: false },
  },
  responses: cancelResponses,
});

const deleteOrder = createRoute({
  method: "delete",
  path: "/orders/{id}",
  summary: "Cancel an order: the same as POST /orders/{id}/cancel",
  ...access("checkouts:write", { publishable: true }),
  request: { params: IdParam, query: ClientSecretQuery },
  responses: cancelResponses,
});

const shipOrder = createRoute({
  method: "post",
  path: "/orders/{id}/shipment",
  summary: "Ship a paid order (CONFIRMED → SHIPPED)",
  ...access("orders:write"),
  request: {
    params: IdParam,
    body: {
      ...json(
        z.strictObject({
          carrier: displayText(100).openapi({ example: "UPS" }),
          tracking: displayText(100).openapi({ example: "1Z999AA10123456784" }),
        }),
        "The carrier and tracking number",
      ),
      required: true,
    },
  },
  responses: {
    200: json(OrderView, "Shipped: the customer is emailed, order.shipped is sent"),
    202: Accepted("the record waits on the database"),
    400: json(ErrorResponse, "Invalid request"),
    404: json(ErrorResponse, "No such order"),
    409: json(ErrorResponse, "Not paid, already shipped, delivered or cancelled"),
  },
});

const deliverOrder = createRoute({
  method: "post",
  path: "/orders/{id}/delivery",
  summary: "Mark a paid or shipped order delivered",
  ...access("orders:write"),
  request: { params: IdParam },
  responses: {
    200: json(OrderView, "Delivered: the customer is emailed, order.delivered is sent"),
    202: Accepted("the record waits on the database"),
    404: json(ErrorResponse, "No such order"),
    409: json(ErrorResponse, "Not paid, already delivered, or cancelled"),
  },
});

export function orderLifecycleRoutes(service: OrderLifecycleService) {
  return createRouter()
    .openapi(cancelOrder, async (c) => {
      const { reason } = c.req.valid("json") ?? {};
      const { order, done } = await service.cancel(
        callerFor(c),
        c.req.valid("param").id,
        reason,
        c.req.valid("query").client_secret,
      );
      return done ? c.json(order, 200) : c.json(order, 202);
    })
    .openapi(deleteOrder, async (c) => {
      const { order, done } = await service.cancel(
        callerFor(c),
        c.req.valid("param").id,
        undefined,
        c.req.valid("query").client_secret,
      );
      return done ? c.json(order, 200) : c.json(order, 202);
    })
    .openapi(shipOrder, async (c) => {
      const { order, done } = await service.ship(callerFor(c), c.req.valid("param").id, c.req.valid("json"));
      return done ? c.json(order, 200) : c.json(order, 202);
    })
    .openapi(deliverOrder, async (c) => {
      const { order, done } = await service.deliver(callerFor(c), c.req.valid("param").id);
      return done ? c.json(order, 200) : c.json(order, 202);
    })
    .openapi(payAgain, async (c) => {
      const caller = callerFor(c);
      const wait = /\bwait=(\d+)/.exec(c.req.valid("header").prefer ?? "")?.[1];
      const { view } = await service.payAgain(caller, c.req.valid("param").id, c.req.valid("json").payment, {
        clientSecret: c.req.valid("query").client_secret,
        waitSeconds: wait ? Number(wait) : 0,
      });
      if (wait) c.header("Preference-Applied", `wait=${Math.min(Number(wait), 30)}`);
      return c.json(view, 202);
    });
}
