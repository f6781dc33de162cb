// /health: answers 200 only when both Temporal and the database answer. Anonymous callers (load
// balancers, anyone) get the status alone; what each dependency said, which may name an internal
// address, only a caller with an API key.
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { callerOf } from "../caller.ts";
import { createRouter } from "../router.ts";
import { json } from "../schemas.ts";
import type { HealthService } from "../services/health.ts";

const Health = z
  .object({
    status: z.enum(["ok", "degraded"]),
    temporal: z.string().optional().openapi({ description: "With an API key: `ok`, or what the probe got" }),
    database: z.string().optional().openapi({ description: "With an API key: `ok`, or what the probe got" }),
  })
  .openapi("Health");

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  summary: "Checks Temporal and the database",
  responses: {
    200: json(Health, "All dependencies answer"),
    503: json(Health, "A dependency does not answer"),
  },
});

/**
 * Whether this request may see each dependency's answer: any authenticated caller. /health needs
 * no key, so the authentication middleware must set the caller there when a valid key comes along
 * (and refuse nothing when none does).
 */
export function mayReadHealthDetail(c: Context): boolean {
  return callerOf(c) !== undefined;
}

export function healthRoutes(health: HealthService) {
  return createRouter().openapi(healthRoute, async (c) => {
    const result = await health.check();
    const body = mayReadHealthDetail(c) ? result : { status: result.status };
    return c.json(body, result.status === "ok" ? 200 : 503);
  });
}
