// /checkouts/{id}/audit: the checkout's story from its workflow history, running or closed.
import { createRoute } from "@hono/zod-openapi";
import { access, callerFor } from "../auth.ts";
import { createRouter } from "../router.ts";
import { AuditTimeline, ErrorResponse, IdParam, json } from "../schemas.ts";
import type { AuditService } from "../services/audits.ts";

const getAudit = createRoute({
  method: "get",
  path: "/checkouts/{id}/audit",
  summary: "A checkout's audit trail: steps, every payment attempt, signals, updates, outcome",
  ...access("checkouts:read"),
  request: { params: IdParam },
  responses: {
    200: json(AuditTimeline, "The timeline (never the customer's email or the payment token)"),
    404: json(ErrorResponse, "No such checkout"),
  },
});

export function auditRoutes(audits: AuditService) {
  return createRouter().openapi(getAudit, async (c) =>
    c.json(await audits.get(callerFor(c).merchantId, c.req.valid("param").id), 200),
  );
}
