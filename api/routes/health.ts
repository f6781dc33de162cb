// /health: answers 200 only when both Temporal and the database answer.
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../router.ts";
import { json } from "../schemas.ts";
import type { HealthService } from "../services/health.ts";

const Health = z.object({ status: z.enum(["ok", "degraded"]), temporal: z.string(), database: z.string() }).openapi("Health");

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  summary: "Checks Temporal and the database",
  responses: {
    200: json(Health, "All dependencies answer"),
    503: json(Health, "A dependency does not answer"),
  },
});

export function healthRoutes(health: HealthService) {
  return createRouter().openapi(healthRoute, async (c) => {
    const result = await health.check();
    return c.json(result, result.status === "ok" ? 200 : 503);
  });
}
