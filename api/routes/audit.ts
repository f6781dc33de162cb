// /checkouts/{id}/audit: the checkout's story from its workflow history, running or closed.
import { createRoute } from "@hono/zod-openapi";
import type { Client } from "@temporalio/client";
import { checkoutAudit } from "../../history/audit.ts";
import type { Db } from "../../prisma/client.ts";
import { isCheckoutId } from "../../workflows/definitions.ts";
import { notFound } from "../errors.ts";
import { createRouter } from "../router.ts";
import { AuditTimeline, ErrorResponse, IdParam, json } from "../schemas.ts";

const getAudit = createRoute({
  method: "get",
  path: "/checkouts/{id}/audit",
  summary: "A checkout's audit trail: steps, every payment attempt, signals, updates, outcome",
  request: { params: IdParam },
  responses: {
    200: json(AuditTimeline, "The timeline (never the customer's email or the payment token)"),
    404: json(ErrorResponse, "No such checkout"),
  },
});

export function auditRoutes(temporal: Client, db: Db) {
  return createRouter().openapi(getAudit, async (c) => {
    const { id } = c.req.valid("param");
    const audit = isCheckoutId(id) ? await checkoutAudit({ temporal, db }, id) : undefined;
    if (!audit) throw notFound("checkout", id);
    return c.json(audit, 200);
  });
}
