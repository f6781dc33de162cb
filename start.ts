// `npm start`: the whole service on one machine with no accounts or keys. Whatever the
// environment does not point elsewhere runs embedded: the Temporal dev server (with its Web UI),
// PostgreSQL, an SMTP catcher; then the migrations, the worker and the API.
// Ctrl-C or SIGTERM stops everything, in reverse order.
import path from "node:path";
import { Client, Connection } from "@temporalio/client";
import { DefaultLogger, NativeConnection, Runtime } from "@temporalio/worker";
import { startApiServer } from "./api/server.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { startEmbeddedPostgres } from "./infra/embedded-postgres.ts";
import { startSmtpCatcher } from "./infra/smtp-catcher.ts";
import { findTemporalCli } from "./infra/temporal-cli.ts";
import { startTemporalDevServer } from "./infra/temporal-dev-server.ts";
import { createDb } from "./prisma/client.ts";
import { applyMigrations } from "./prisma/migrations.ts";
import { createActivityDeps, createWorker } from "./worker.ts";

const stops: Array<[string, () => Promise<unknown>]> = [];
const log = (line: string) => console.log(`[checkout] ${line}`);

async function stopAll() {
  for (const [name, stop] of stops.reverse()) {
    await stop().catch((err) => console.error(`[checkout] stopping ${name}: ${(err as Error).message}`));
  }
  stops.length = 0;
}

async function main() {
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger(process.env.LOG_LEVEL === "debug" ? "DEBUG" : "WARN") });

  let temporalAddress = config.temporal.address;
  let temporalUi = config.temporal.uiUrl;
  if (!temporalAddress) {
    const cli = await findTemporalCli({ log });
    const dev = await startTemporalDevServer({
      cli,
      port: config.temporal.devPort,
      uiPort: config.temporal.devUiPort,
      namespace: config.temporal.namespace,
      dbFile: path.join(config.dataDir, "temporal", "dev.sqlite"),
      log,
    });
    stops.push(["Temporal dev server", dev.stop]);
    temporalAddress = dev.address;
    temporalUi = dev.uiUrl;
  }

  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    const pg = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.embeddedPostgresPort,
      database: "checkout",
      persistent: true,
      log,
    });
    stops.push(["PostgreSQL", pg.stop]);
    databaseUrl = pg.url;
  }
  const applied = await applyMigrations(databaseUrl);
  log(applied.length ? `applied migrations: ${applied.join(", ")}` : "database schema is up to date");

  let smtpUrl = config.smtpUrl;
  let mailDir: string | undefined;
  if (!smtpUrl) {
    mailDir = path.join(config.dataDir, "mail");
    const catcher = await startSmtpCatcher({ port: config.smtpCatcherPort, mailDir });
    stops.push(["SMTP catcher", catcher.stop]);
    smtpUrl = catcher.url;
  }

  const db = createDb(databaseUrl);
  stops.push(["database client", () => db.$disconnect()]);
  const clientConnection = await Connection.connect({ address: temporalAddress });
  stops.push(["Temporal client", () => clientConnection.close()]);
  const temporal = new Client({ connection: clientConnection, namespace: config.temporal.namespace });

  const api = await startApiServer({ config, temporal, db });
  stops.push(["API", api.close]);

  const workerConnection = await NativeConnection.connect({ address: temporalAddress });
  const deps = createActivityDeps(config, {
    databaseUrl,
    smtpUrl,
    sandboxUrl: config.sandbox.url ?? `${api.url}/sandbox`,
  });
  const worker = await createWorker({
    connection: workerConnection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    deps,
  });
  const running = worker.run();
  stops.splice(stops.length - 1, 0, [
    "worker",
    async () => {
      try {
        worker.shutdown();
      } catch {
        // The SDK stops workers on SIGINT/SIGTERM itself: it may be draining already.
      }
      await running.catch(() => {}); // a failed run was reported where it happened
      await deps.publisher?.close();
      await deps.db.$disconnect();
      await workerConnection.close();
    },
  ]);

  console.log(`
  Checkout is up.
    API          ${api.url}
    API docs     ${api.url}/docs
    Temporal UI  ${temporalUi ?? "(set TEMPORAL_UI_URL to print it)"}
    Temporal     ${temporalAddress} (namespace ${config.temporal.namespace})
    Mail         ${mailDir ? `caught in ${mailDir}` : smtpUrl.replace(/\/\/[^@/]*@/, "//***@")}
    Database     ${config.databaseUrl ? databaseUrl.replace(/\/\/[^@/]*@/, "//***@") : `${databaseUrl} (embedded: DATABASE_URL for \`npx checkout show\` and \`verify-archive\`)`}
  Try:
    curl -s -X POST ${api.url}/checkouts -H 'content-type: application/json' -H 'Idempotency-Key: demo-1' \\
      -d '{"customer":{"id":"cus_1","email":"ada@example.com"},"items":[{"sku":"tee","name":"T-shirt","quantity":2,"unitAmount":1999}],"currency":"USD","payment":{"provider":"sandbox","token":"tok_approve"}}'
  Ctrl-C stops everything.
`);
  await running.catch(async (err) => {
    console.error(`[checkout] worker stopped: ${err.message}`);
    await stopAll();
    process.exit(1);
  });
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    stopAll().then(() => process.exit(0));
  });
}

main().catch(async (err) => {
  console.error(`[checkout] ${err instanceof ConfigError ? "configuration: " : ""}${err instanceof Error ? err.message : err}`);
  await stopAll();
  process.exit(1);
});
