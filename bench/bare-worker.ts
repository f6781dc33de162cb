// The bare reference's worker, a process of its own so that its CPU and memory are measured as
// the service's worker's are. Polls BENCH_BARE_TASK_QUEUE on TEMPORAL_ADDRESS (TLS as every
// worker: infra/temporal-tls.ts), with WORKER_MAX_CACHED_WORKFLOWS when set; no payload codec.
// SIGTERM stops it (the SDK shuts the worker down).
import { fileURLToPath } from "node:url";
import { DefaultLogger, NativeConnection, Runtime, Worker } from "@temporalio/worker";
import { temporalSecurity } from "../infra/temporal-tls.ts";
import { bareActivities } from "./bare-activities.ts";

async function main() {
  const address = process.env.TEMPORAL_ADDRESS;
  const taskQueue = process.env.BENCH_BARE_TASK_QUEUE;
  if (!address || !taskQueue) throw new Error("Set TEMPORAL_ADDRESS and BENCH_BARE_TASK_QUEUE");
  const cache = process.env.WORKER_MAX_CACHED_WORKFLOWS;
  Runtime.install({ logger: new DefaultLogger("WARN") });
  const connection = await NativeConnection.connect({ address, ...temporalSecurity() });
  const worker = await Worker.create({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE || "default",
    taskQueue,
    workflowsPath: fileURLToPath(new URL("./bare-workflow.ts", import.meta.url)),
    activities: bareActivities,
    ...(cache ? { maxCachedWorkflows: Number(cache) } : {}),
  });
  console.log(`bare worker polling "${taskQueue}" on ${address}`); // bench/stack.ts waits for this line
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
