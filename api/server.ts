// Serves the API. `npm run api` runs it alone against TEMPORAL_ADDRESS and DATABASE_URL;
// `npm start` runs it inside the embedded stack (start.ts).
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import { Client, Connection } from "@temporalio/client";
import { configuredProviders } from "../activities/gateways/index.ts";
import { type Config, loadConfig, required } from "../config.ts";
import { createDb, type Db } from "../prisma/client.ts";
import { createSandboxLedger } from "../sandbox/ledger.ts";
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
  /** The providers the workers serve; defaults to those configured in the environment. */
  providers?: string[];
}

export async function startApiServer({ config, temporal, db, taskQueue, providers }: ApiSetup): Promise<ApiServer> {
  const app = createApp({
    temporal,
    db,
    taskQueue: taskQueue ?? config.temporal.taskQueue,
    paymentRetryWindowSeconds: config.paymentRetryWindowSeconds,
    providers: providers ?? configuredProviders(config),
    sandbox: config.sandbox.enabled ? createSandboxLedger(db, { slowMs: config.sandbox.slowMs }) : undefined,
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
    s.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main() {
  const config = loadConfig();
  const address = required(config.temporal.address, "TEMPORAL_ADDRESS");
  const db = createDb(required(config.databaseUrl, "DATABASE_URL"));
  const connection = await Connection.connect({ address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const api = await startApiServer({ config, temporal, db });
  console.log(`API on ${api.url} (docs: ${api.url}/docs)`);
  const stop = async () => {
    await api.close();
    await connection.close();
    await db.$disconnect();
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
