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
  ErrorResponse,
  IdParam,
  json,
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

export function orderLifecycleRoutes(service: OrderLifecycleService) {
  return createRouter().openapi(payAgain, async (c) => {
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
