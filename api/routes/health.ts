// /health: answers 200 only when both Temporal and the database answer.
import { createRoute, z } from "@hono/zod-openapi";
import type { Client } from "@temporalio/client";
import type { Db } from "../../prisma/client.ts";
import { createRouter } from "../router.ts";
import { json } from "../schemas.ts";

const Health = z.object({ status: z.enum(["ok", "degraded"]), temporal: z.string(), database: z.string() }).openapi("Health");

const health = createRoute({
  method: "get",
  path: "/health",
  summary: "Checks Temporal and the database",
  responses: {
    200: json(Health, "All dependencies answer"),
    503: json(Health, "A dependency does not answer"),
  },
});

const check = (probe: Promise<unknown>) =>
  Promise.race([probe, new Promise((_, reject) => setTimeout(() => reject(new Error("timed out after 3 s")), 3000))]).then(
    () => "ok",
    (err: Error) => `error: ${err.message}`,
  );

export function healthRoutes(temporal: Client, db: Db) {
  return createRouter().openapi(health, async (c) => {
    const [temporalStatus, database] = await Promise.all([
      check(temporal.workflowService.getSystemInfo({})),
      check(db.$queryRaw`SELECT 1`),
    ]);
    const ok = temporalStatus === "ok" && database === "ok";
    return c.json({ status: ok ? ("ok" as const) : ("degraded" as const), temporal: temporalStatus, database }, ok ? 200 : 503);
  });
}
