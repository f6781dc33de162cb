// /reports: read-only figures over the checkouts of a time window.
import { createRoute, z } from "@hono/zod-openapi";
import { access, callerFor } from "../auth.ts";
import { createRouter } from "../router.ts";
import { ErrorResponse, json } from "../schemas.ts";
import type { ReportService } from "../services/reports.ts";

export const MAX_REPORT_DAYS = 366;

const instant = (example: string) =>
  z.iso
    .datetime({ offset: true, error: "must be an ISO 8601 date-time with a zone, like 2026-01-01T00:00:00Z" })
    .openapi({ example });

const ReportQuery = z
  .object({
    from: instant("2026-01-01T00:00:00Z").openapi({
      description: "Start of the window (inclusive): checkouts started then or later.",
    }),
    to: instant("2026-02-01T00:00:00Z").openapi({ description: "End of the window (inclusive)." }),
  })
  .superRefine((q, ctx) => {
    const span = Date.parse(q.to) - Date.parse(q.from);
    if (span < 0) ctx.addIssue({ code: "custom", path: ["from"], message: "must not be after `to`" });
    else if (span > MAX_REPORT_DAYS * 86_400_000)
      ctx.addIssue({ code: "custom", path: ["to"], message: `must be at most ${MAX_REPORT_DAYS} days after \`from\`` });
  });

const Amount = z.object({ currency: z.string(), amount: z.int().openapi({ description: "Minor units" }) });
const Bucket = z.object({ key: z.string().nullable(), count: z.int(), amounts: z.array(Amount) });

const PaymentsReport = z
  .object({
    from: z.string(),
    to: z.string(),
    total: z.object({ count: z.int(), amounts: z.array(Amount) }),
    byProvider: z.array(Bucket),
    byMethod: z.array(Bucket),
    byStatus: z.array(Bucket),
    byCountry: z.array(Bucket.extend({ key: z.string().nullable().openapi({ description: "null: unknown" }) })),
    failureReasons: z.array(z.object({ reason: z.string(), count: z.int() })).openapi({ description: "The 10 most common" }),
    medianTimeToPaidMs: z
      .number()
      .nullable()
      .openapi({ description: "Median from the checkout's start to the payment's success; null when none succeeded" }),
  })
  .openapi("PaymentsReport");

const getPaymentsReport = createRoute({
  method: "get",
  path: "/reports/payments",
  summary: "Payments of the checkouts started in a window: counts and amounts per currency by provider, method, status, country",
  ...access("reports:read"),
  request: { query: ReportQuery },
  responses: {
    200: json(PaymentsReport, "The report"),
    400: json(ErrorResponse, "`from` or `to` missing or invalid, `from` after `to`, or a window over 366 days"),
  },
});

export function reportRoutes(reports: ReportService) {
  return createRouter().openapi(getPaymentsReport, async (c) => {
    const { from, to } = c.req.valid("query");
    return c.json(await reports.payments(callerFor(c).merchantId, new Date(from), new Date(to)), 200);
  });
}
