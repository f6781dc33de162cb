// Whether the API's dependencies answer: Temporal and the database, each within 3 s.
import type { Client } from "@temporalio/client";
import type { Db } from "../../prisma/client.ts";

const PROBE_TIMEOUT_MS = 3_000;

const probe = (answer: Promise<unknown>) =>
  Promise.race([
    answer,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`timed out after ${PROBE_TIMEOUT_MS / 1000} s`)), PROBE_TIMEOUT_MS),
    ),
  ]).then(
    () => "ok",
    (err: Error) => `error: ${err.message}`,
  );

export function healthService(temporal: Client, db: Db) {
  async function check() {
    const [temporalStatus, database] = await Promise.all([
      probe(temporal.workflowService.getSystemInfo({})),
      probe(db.$queryRaw`SELECT 1`),
    ]);
    const ok = temporalStatus === "ok" && database === "ok";
    return { status: ok ? ("ok" as const) : ("degraded" as const), temporal: temporalStatus, database };
  }
  return { check };
}

export type HealthService = ReturnType<typeof healthService>;
