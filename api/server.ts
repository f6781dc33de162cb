// Serves the API. `npm run api` runs it alone against TEMPORAL_ADDRESS and DATABASE_URL;
// `npm start` runs it inside the embedded stack (start.ts).
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import type { Client } from "@temporalio/client";
import { loadPayloadCodec } from "../codec/settings.ts";
import { type Config, loadConfig, required } from "../config.ts";
import { createDb, type Db } from "../prisma/client.ts";
import { createGatewayRegistry } from "../providers/index.ts";
import { createSandboxLedger } from "../sandbox/ledger.ts";
import { connectClient, Shutdown, sealClearSecrets } from "../wiring.ts";
import { createApp } from "./app.ts";

export interface ApiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ApiSetup {
  config: Config;
  temporal: Client;
  db: Db;
  taskQueue?: string;
}

export async function startApiServer({ config, temporal, db, taskQueue }: ApiSetup): Promise<ApiServer> {
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
  app = createApp({
    temporal,
    db,
    taskQueue: taskQueue ?? config.temporal.taskQueue,
    paymentRetryWindowSeconds: config.paymentRetryWindowSeconds,
    refundRetryWindowSeconds: config.refundRetryWindowSeconds,
    paymentActionTimeoutSeconds: config.paymentActionTimeoutSeconds,
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
  });
  return {
    url,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main() {
  const config = loadConfig();
  const address = required(config.temporal.address, "TEMPORAL_ADDRESS");
  required(config.webhooks.secretKey, "WEBHOOK_SECRET_KEY");
  const { codec } = await loadPayloadCodec(config.payloadEncryption, "external");
  const db = createDb(required(config.databaseUrl, "DATABASE_URL"));
  const temporal = await connectClient({ address, namespace: config.temporal.namespace, codec });
  const api = await startApiServer({ config, temporal: temporal.client, db });
  console.log(`API on ${api.url} (docs: ${api.url}/docs)`);
  const shutdown = new Shutdown();
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
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
