// /checkouts/{id}/refunds: refund all or part of a captured payment, durably, once per key.
import { createRoute, z } from "@hono/zod-openapi";
import { access, callerFor } from "../auth.ts";
import { createRouter } from "../router.ts";
import { ErrorResponse, IdParam, idempotencyKey, json, minorUnits, RefundView } from "../schemas.ts";
import type { RefundService } from "../services/refunds.ts";

const createRefund = createRoute({
  method: "post",
  path: "/checkouts/{id}/refunds",
  summary: "Refund a checkout's payment, in full or in part",
  ...access("refunds:write"),
  request: {
    params: IdParam,
    headers: z.object({ "idempotency-key": idempotencyKey("is required: a retried refund request must not refund twice") }),
    body: {
      required: false,
      ...json(
        z.strictObject({
          amount: minorUnits("must be an integer amount in minor units (cents)")
            .min(1)
            .optional()
            .openapi({ description: "Minor units; absent: everything not refunded yet." }),
        }),
        "How much",
      ),
    },
  },
  responses: {
    202: json(z.object({ id: z.string(), status: z.string(), links: z.record(z.string(), z.string()) }), "Accepted"),
    400: json(ErrorResponse, "Invalid request"),
    404: json(ErrorResponse, "No such checkout"),
    409: json(ErrorResponse, "Nothing captured to refund"),
    422: json(ErrorResponse, "More than can still be refunded, or the key was used for another refund"),
  },
});

const listRefunds = createRoute({
  method: "get",
  path: "/checkouts/{id}/refunds",
  summary: "A checkout's refunds",
  ...access("refunds:read"),
  request: { params: IdParam },
  responses: {
    200: json(z.object({ data: z.array(RefundView) }), "Refunds, oldest first"),
    404: json(ErrorResponse, "No such checkout"),
  },
});

export function refundRoutes(refunds: RefundService) {
  return createRouter()
    .openapi(createRefund, async (c) => {
      const { id } = c.req.valid("param");
      const refund = await refunds.start(callerFor(c), id, c.req.valid("json")?.amount, c.req.valid("header")["idempotency-key"]);
      return c.json({ id: refund.id, status: "PENDING", links: { refunds: `/checkouts/${id}/refunds` } }, 202);
    })
    .openapi(listRefunds, async (c) =>
      c.json({ data: await refunds.list(callerFor(c).merchantId, c.req.valid("param").id) }, 200),
    );
}
