// `npm run worker`: polls the checkout task queue against TEMPORAL_ADDRESS, DATABASE_URL and
// SMTP_URL (npm start runs the same worker inside the embedded stack). Registers the search
// attributes and the archiving schedule, answers health checks on WORKER_HEALTH_PORT, serves the
// SDK's metrics on WORKER_METRICS_PORT, stops gracefully on SIGINT/SIGTERM, and exits 1 with the
// reason on a fatal error, for its supervisor to restart it. Logs are JSON lines on stdout.
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { loadPayloadCodec } from "./codec/settings.ts";
import { loadConfig, required } from "./config.ts";
import { log } from "./observability/logger.ts";
import { connectClient, ensureBackgroundWorkflows, registerSearchAttributes, setUpObservability, startWorker } from "./wiring.ts";

async function main() {
  const config = loadConfig();
  const { tracing, workerMetricsUrl } = await setUpObservability(config, { worker: true });
  const address = required(config.temporal.address, "TEMPORAL_ADDRESS");
  const { codec } = await loadPayloadCodec(config.payloadEncryption, "external");
  const target = { address, namespace: config.temporal.namespace, codec };
  const endpoints = {
    databaseUrl: required(config.databaseUrl, "DATABASE_URL"),
    smtpUrl: required(config.smtpUrl, "SMTP_URL"),
    sandboxUrl: config.sandbox.enabled ? required(config.sandbox.url, "SANDBOX_URL") : undefined,
  };
  required(config.webhooks.secretKey, "WEBHOOK_SECRET_KEY");
  const admin = await connectClient(target);
  await registerSearchAttributes(admin.connection, target.namespace, (line) => log.info(line));
  await ensureBackgroundWorkflows(admin.client, config, (line) => log.info(line)).finally(() => admin.close());

  const { worker, running, stop } = await startWorker({ config, target, taskQueue: config.temporal.taskQueue, endpoints });
  log.info(`worker polling task queue "${config.temporal.taskQueue}" on ${target.address}`, { metricsUrl: workerMetricsUrl });
  // For a supervisor's health check (docker-compose, Kubernetes): 200 only while it polls.
  const health =
    config.workerHealthPort === undefined
      ? undefined
      : createServer((_req, res) => {
          const state = worker.getState();
          res.writeHead(state === "RUNNING" ? 200 : 503, { "content-type": "text/plain" }).end(state);
        }).listen(config.workerHealthPort, config.host);
  try {
    await running; // the SDK shuts it down on SIGINT/SIGTERM; a fatal error rejects
  } finally {
    health?.close();
    await stop();
    await tracing?.shutdown(); // sends the last spans
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    log.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
