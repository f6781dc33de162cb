// Serves the API. `npm run api` runs it alone against TEMPORAL_ADDRESS and DATABASE_URL;
// `npm start` runs it inside the embedded stack (start.ts).
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import type { Client } from "@temporalio/client";
import { loadPayloadCodec } from "../codec/settings.ts";
import { type Config, ConfigError, loadConfig, required } from "../config.ts";
import { log } from "../observability/logger.ts";
import { apiMetrics, type MetricsServer, serveMetrics } from "../observability/metrics.ts";
import { createDb, type Db } from "../prisma/client.ts";
import { createGatewayRegistry } from "../providers/index.ts";
import { createSandboxLedger } from "../sandbox/ledger.ts";
import { connectClient, Shutdown, sealClearSecrets, setUpObservability } from "../wiring.ts";
import { createApp } from "./app.ts";
import type { StoreSettings } from "./routes/store.ts";

export interface ApiServer {
  url: string;
  port: number;
  /** Where its Prometheus metrics are scraped, when API_METRICS_PORT is set. */
  metricsUrl?: string;
  close(): Promise<void>;
}

export interface ApiSetup {
  config: Config;
  temporal: Client;
  db: Db;
  taskQueue?: string;
  /** Serve the storefront (/store) with this publishable key: npm start's development key, a test stack's own. */
  store?: StoreSettings;
}

export async function startApiServer({ config, temporal, db, taskQueue, store }: ApiSetup): Promise<ApiServer> {
  const secretKey = required(config.webhooks.secretKey, "WEBHOOK_SECRET_KEY");
  await sealClearSecrets(db, secretKey);
  // The app needs the server's own URL (the sandbox lives here), known only once it listens.
  let app: ReturnType<typeof createApp> | undefined;
  // `env` carries the socket to the app: api/origin.ts reads the client's address from it.
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: (request, env) => app!.fetch(request, env), hostname: config.host, port: config.port }, () =>
      resolve(s),
    );
    s.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host;
  const url = `http://${host}:${port}`;
  const sandboxUrl = config.sandbox.url ?? `${url}/sandbox`;
  // Its own port, never a route of the API: a scraper needs no API key, and the world no metrics.
  const { apiMetricsPort } = config.observability;
  const metrics = apiMetricsPort === undefined ? undefined : apiMetrics();
  let metricsServer: MetricsServer | undefined;
  try {
    metricsServer = metrics && (await serveMetrics(metrics.registry, config.host, apiMetricsPort!));
  } catch (err) {
    server.close();
    throw new ConfigError(
      `API_METRICS_PORT: cannot serve the API's metrics on ${config.host}:${apiMetricsPort} (${(err as Error).message}); set another port, or off`,
    );
  }
  app = createApp({
    temporal,
    db,
    metrics: metrics?.middleware,
    taskQueue: taskQueue ?? config.temporal.taskQueue,
    paymentRetryWindowSeconds: config.paymentRetryWindowSeconds,
    refundRetryWindowSeconds: config.refundRetryWindowSeconds,
    paymentActionTimeoutSeconds: config.paymentActionTimeoutSeconds,
    payAgainWindowSeconds: config.payAgainWindowSeconds,
    fulfilmentAutoDeliverSeconds: config.fulfilmentAutoDeliverSeconds,
    returnUrl: config.returnUrl,
    riskChecks: config.risk.maxFailedPayments > 0 && {
      // A decline older than both the window and the hold can neither hold nor count.
      declinesMatterForSeconds: Math.max(config.risk.windowSeconds, config.risk.holdSeconds),
    },
    origin: config.origin,
    limits: config.api,
    webhooks: {
      secretKey,
      targets: { allowHttp: config.webhooks.allowHttp, allowPrivate: config.webhooks.allowPrivateTargets },
      maxEndpoints: config.webhooks.maxEndpoints,
      rotationGraceSeconds: config.webhooks.rotationGraceSeconds,
    },
    gateways: createGatewayRegistry(
      config.env,
      {
        enabled: config.sandbox.enabled,
        url: sandboxUrl,
        webhookSecret: config.sandbox.webhookSecret,
      },
      config.paymentRetryWindowSeconds,
    ),
    sandbox: config.sandbox.enabled
      ? createSandboxLedger(db, {
          slowMs: config.sandbox.slowMs,
          webhookSecret: config.sandbox.webhookSecret,
          webhookUrl: config.sandbox.webhookUrl ?? `${url}/webhooks/sandbox`,
        })
      : undefined,
    store,
  });
  return {
    url,
    port,
    metricsUrl: metricsServer?.url,
    close: async () => {
      await metricsServer?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function main() {
  const config = loadConfig();
  const address = required(config.temporal.address, "TEMPORAL_ADDRESS");
  required(config.webhooks.secretKey, "WEBHOOK_SECRET_KEY");
  const { tracing } = await setUpObservability(config, { worker: false });
  const { codec } = await loadPayloadCodec(config.payloadEncryption, "external");
  const db = createDb(required(config.databaseUrl, "DATABASE_URL"), config.databasePoolSize);
  const temporal = await connectClient({ address, namespace: config.temporal.namespace, codec });
  const api = await startApiServer({ config, temporal: temporal.client, db });
  log.info(`API on ${api.url} (docs: ${api.url}/docs)`, { url: api.url, metricsUrl: api.metricsUrl });
  const shutdown = new Shutdown();
  if (tracing) shutdown.add("tracing", tracing.shutdown); // last: the spans of the others' stops go out
  shutdown.add("database client", () => db.$disconnect());
  shutdown.add("Temporal client", temporal.close);
  shutdown.add("API", api.close);
  const stop = async () => {
    await shutdown.run();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    log.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
