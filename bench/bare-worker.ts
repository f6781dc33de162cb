// The bare reference's worker, a process of its own so that its CPU and memory are measured as
// the service's worker's are. Polls BENCH_BARE_TASK_QUEUE on TEMPORAL_ADDRESS (TLS as every
// worker: infra/temporal-tls.ts), with the service's WORKER_* tuning (config.ts), so that both
// keep the same cache and slots; no payload codec. SIGTERM stops it (the SDK shuts the worker down).
import { fileURLToPath } from "node:url";
import { DefaultLogger, NativeConnection, Runtime, Worker } from "@temporalio/worker";
import { loadConfig } from "../config.ts";
import { temporalSecurity } from "../infra/temporal-tls.ts";
import { bareActivities } from "./bare-activities.ts";

async function main() {
  const address = process.env.TEMPORAL_ADDRESS;
  const taskQueue = process.env.BENCH_BARE_TASK_QUEUE;
  if (!address || !taskQueue) throw new Error("Set TEMPORAL_ADDRESS and BENCH_BARE_TASK_QUEUE");
  const tuning = Object.entries(loadConfig().workerTuning).filter(([, value]) => value !== undefined);
  Runtime.install({ logger: new DefaultLogger("WARN") });
  const connection = await NativeConnection.connect({ address, ...temporalSecurity() });
  const worker = await Worker.create({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE || "default",
    taskQueue,
    workflowsPath: fileURLToPath(new URL("./bare-workflow.ts", import.meta.url)),
    activities: bareActivities,
    ...Object.fromEntries(tuning), // unset ones take the SDK's defaults, as the service's worker does
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
