// /checkouts: start a checkout, read it, cancel it.
import { createRoute, z } from "@hono/zod-openapi";
import type { GatewayRegistry } from "../../providers/registry.ts";
import { access, callerFor } from "../auth.ts";
import { refuseUnpayable } from "../checkout-checks.ts";
import { type WaitingRequests, waitingRequests } from "../limits/waiting.ts";
import { type OriginOptions, requestOrigin } from "../origin.ts";
import { createRouter } from "../router.ts";
import {
  CheckoutRequest,
  CheckoutView,
  CustomerCheckoutView,
  displayText,
  ErrorResponse,
  IdempotencyHeaders,
  IdParam,
  json,
  PaymentView,
} from "../schemas.ts";
import type { CheckoutService } from "../services/checkouts.ts";

const errors = {
  400: json(ErrorResponse, "Invalid request: each wrong field is named with the reason"),
  404: json(ErrorResponse, "No such checkout"),
};

const Accepted = z
  .object({
    id: z.string(),
    status: z.string(),
    clientSecret: z
      .string()
      .openapi({ description: "For the customer's browser: GET /checkouts/{id}?client_secret= with a publishable key" }),
    payment: PaymentView.partial().optional(),
    links: z.record(z.string(), z.string()),
  })
  .openapi("CheckoutAccepted");

const createCheckout = createRoute({
  method: "post",
  path: "/checkouts",
  summary: "Start a checkout (create order, charge, notify)",
  ...access("checkouts:write", { publishable: true }),
  request: { headers: IdempotencyHeaders, body: { ...json(CheckoutRequest, "The order and how to pay"), required: true } },
  responses: {
    202: {
      ...json(Accepted, "Accepted: the checkout runs; follow links.self for its status"),
      headers: {
        "Preference-Applied": {
          description: "`wait=N` when the answer waited for the payment (absent when too many requests were already waiting)",
          schema: { type: "string" },
        },
      },
    },
    400: errors[400],
    422: json(
      ErrorResponse,
      "Idempotency-Key reused with another body; a provider not configured; a total above the maximum; a currency or amount a provider cannot take",
    ),
    503: {
      ...json(
        ErrorResponse,
        "The database or Temporal is not answering (`dependency_unavailable`): retry, with the same Idempotency-Key",
      ),
      headers: { "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer", minimum: 1 } } },
    },
    429: {
      ...json(ErrorResponse, "The customer is on hold after repeated declined payments (`customer_on_hold`); nothing started"),
      headers: {
        "Retry-After": {
          description: "Whole seconds until the hold ends and a new checkout may be tried",
          schema: { type: "integer", minimum: 1 },
        },
      },
    },
  },
});

const getCheckout = createRoute({
  method: "get",
  path: "/checkouts/{id}",
  summary: "A checkout's status, order and payment, while it runs and after",
  ...access("checkouts:read", { publishable: true }),
  request: {
    params: IdParam,
    query: z.object({
      client_secret: z
        .string()
        .max(200)
        .optional()
        .openapi({ description: "With a publishable key: the checkout's client secret; answers its status and action only" }),
    }),
  },
  responses: {
    200: json(z.union([CheckoutView, CustomerCheckoutView]), "The checkout (with a publishable key: its status and action only)"),
    404: errors[404],
  },
});

const cancelCheckout = createRoute({
  method: "post",
  path: "/checkouts/{id}/cancel",
  summary: "Cancel a checkout that has not started charging",
  ...access("checkouts:write"),
  request: {
    params: IdParam,
    body: { ...json(z.object({ reason: displayText(500, 0).optional() }), "Why (optional)"), required: false },
  },
  responses: {
    200: json(CheckoutView, "Cancelled"),
    404: errors[404],
    409: json(ErrorResponse, "Too late: the payment has started or the checkout has ended"),
  },
});

export function checkoutRoutes(
  service: CheckoutService,
  gateways: GatewayRegistry,
  origin: OriginOptions = { trustedProxies: [] },
  waiting: WaitingRequests = waitingRequests(100),
) {
  return createRouter()
    .openapi(createCheckout, async (c) => {
      const body = c.req.valid("json");
      refuseUnpayable(body, gateways);
      const headers = c.req.valid("header");
      const caller = callerFor(c);
      const { id, clientSecret } = await service.start(caller, body, headers["idempotency-key"], requestOrigin(c, origin));
      c.header("Location", `/checkouts/${id}`);
      // `Prefer: wait=N` (RFC 7240): answer with the checkout once the payment has its first
      // answer, so a client gets a 3-D Secure URL or QR code without polling. While too many
      // already wait (API_MAX_WAITING_REQUESTS), answer at once, as without the preference.
      const wait = /\bwait=(\d+)/.exec(headers.prefer ?? "")?.[1];
      const release = wait ? waiting.take() : undefined;
      if (wait && release) {
        try {
          const seconds = Math.min(Number(wait), 30);
          await service.awaitPaymentAnswer(id, seconds);
          const view = await service.get(caller.merchantId, id);
          const payment =
            caller.type === "publishable" ? { status: view.payment.status, action: view.payment.action } : view.payment;
          c.header("Preference-Applied", `wait=${seconds}`);
          return c.json({ id, status: view.status, clientSecret, payment, links: view.links }, 202);
        } finally {
          release();
        }
      }
      return c.json(
        { id, status: "RUNNING", clientSecret, links: { self: `/checkouts/${id}`, cancel: `/checkouts/${id}/cancel` } },
        202,
      );
    })
    .openapi(getCheckout, async (c) => {
      const caller = callerFor(c);
      const { id } = c.req.valid("param");
      if (caller.type === "publishable") {
        return c.json(await service.getForCustomer(caller.merchantId, id, c.req.valid("query").client_secret), 200);
      }
      return c.json(await service.get(caller.merchantId, id), 200);
    })
    .openapi(cancelCheckout, async (c) => {
      const { reason } = c.req.valid("json") ?? {};
      return c.json(await service.cancel(callerFor(c), c.req.valid("param").id, reason), 200);
    });
}
