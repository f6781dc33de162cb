// `npm start`: the whole service on one machine with no accounts or keys. Whatever the
// environment does not point elsewhere runs embedded: the Temporal dev server (with its Web UI),
// PostgreSQL, an SMTP catcher; then the migrations, the worker and the API. Payloads are
// encrypted (codec/): with PAYLOAD_ENCRYPTION_KEYS, else, with the embedded dev server, a key made
// once in the data folder; the codec server starts first, so that the dev server's Web UI reads
// the histories through it. Metrics are served (WORKER_METRICS_PORT, API_METRICS_PORT); logs are
// JSON lines; the banner at the end is for a person. Ctrl-C or SIGTERM stops everything, in reverse order.
import path from "node:path";
import { startApiServer } from "./api/server.ts";
import { devSecretFiles } from "./codec/dev-secrets.ts";
import { type CodecServer, startCodecServer } from "./codec/server.ts";
import { codecCorsOrigins, loadCodecServerToken, loadPayloadCodec } from "./codec/settings.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { startEmbeddedPostgres } from "./infra/embedded-postgres.ts";
import { startSmtpCatcher } from "./infra/smtp-catcher.ts";
import { findTemporalCli } from "./infra/temporal-cli.ts";
import { startTemporalDevServer } from "./infra/temporal-dev-server.ts";
import { dataFolderSecretKey } from "./infra/webhook-secret-key.ts";
import { developmentKeysFile, ensureDevelopmentKeys } from "./merchants/development-keys.ts";
import { log as json } from "./observability/logger.ts";
import { createDb } from "./prisma/client.ts";
import { applyMigrations } from "./prisma/migrations.ts";
import {
  connectClient,
  ensureBackgroundWorkflows,
  registerSearchAttributes,
  Shutdown,
  setUpObservability,
  startWorker,
} from "./wiring.ts";

const log = (line: string) => json.info(line);
const shutdown = new Shutdown();

async function main() {
  // The development mode: the sandbox on by default (its webhook secret kept in the data folder), CORS
  // open, and webhooks may go to local test servers over http.
  const loaded = loadConfig(process.env, { embedded: true });
  const { tracing, workerMetricsUrl } = await setUpObservability(loaded, { worker: true });
  if (tracing) shutdown.add("tracing", tracing.shutdown); // stopped last: the others' last spans go out

  // The embedded database's endpoint secrets are sealed with a key kept beside it; a database of
  // your own goes with a key of your own.
  if (!loaded.webhooks.secretKey && loaded.databaseUrl) {
    throw new ConfigError("Set WEBHOOK_SECRET_KEY: with DATABASE_URL set, the key goes with that database, not with DATA_DIR.");
  }
  const secretKey = loaded.webhooks.secretKey ?? (await dataFolderSecretKey(loaded.dataDir));
  const config = { ...loaded, webhooks: { ...loaded.webhooks, secretKey } };

  const deployment = config.temporal.address ? "external" : "embedded";
  const { codec, source } = await loadPayloadCodec(config.payloadEncryption, deployment);
  log(
    codec.encryptingKeyId
      ? `payloads encrypted with key "${codec.encryptingKeyId}" (keys from ${source})`
      : `payloads NOT encrypted (PAYLOAD_ENCRYPTION=off${codec.keyIds.length ? `; keys from ${source} still decrypt` : ""})`,
  );
  // Before the dev server: its Web UI is told where the codec server is.
  const codecToken = await loadCodecServerToken(config, deployment);
  let codecServer: CodecServer | undefined;
  if (codecToken) {
    codecServer = await startCodecServer({
      codec,
      token: codecToken,
      corsOrigins: codecCorsOrigins(config, deployment === "embedded" ? config.temporal.devUiPort : undefined),
      host: config.codecServer.host,
      port: config.codecServer.port,
    });
    shutdown.add("codec server", codecServer.close);
  } else {
    log("codec server off: set CODEC_SERVER_TOKEN to serve one for your Web UI and the temporal CLI");
  }

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
      sqlitePragmas: config.temporal.devSqlitePragmas,
      codecEndpoint: codecServer?.uiEndpoint,
      log,
    });
    shutdown.add("Temporal dev server", dev.stop);
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
    shutdown.add("PostgreSQL", pg.stop);
    databaseUrl = pg.url;
  }
  const applied = await applyMigrations(databaseUrl);
  log(applied.length ? `applied migrations: ${applied.join(", ")}` : "database schema is up to date");

  let smtpUrl = config.smtpUrl;
  let mailDir: string | undefined;
  if (!smtpUrl) {
    mailDir = path.join(config.dataDir, "mail");
    const catcher = await startSmtpCatcher({ port: config.smtpCatcherPort, mailDir });
    shutdown.add("SMTP catcher", catcher.stop);
    smtpUrl = catcher.url;
  }

  const target = { address: temporalAddress, namespace: config.temporal.namespace, codec };
  const db = createDb(databaseUrl, config.databasePoolSize);
  shutdown.add("database client", () => db.$disconnect());
  const temporal = await connectClient(target);
  shutdown.add("Temporal client", temporal.close);
  // The dev server got them as flags; a server of your own (TEMPORAL_ADDRESS) gets them here.
  if (config.temporal.address) await registerSearchAttributes(temporal.connection, target.namespace, log);
  await ensureBackgroundWorkflows(temporal.client, config, log);

  // An embedded database is a development one: it gets a development merchant's keys.
  const keys = config.databaseUrl ? undefined : await ensureDevelopmentKeys(db, config.dataDir);

  // The storefront pays with the sandbox, as the development merchant's page: only with both.
  const store = keys && config.sandbox.enabled ? { publishableKey: keys.publishableKey } : undefined;
  const api = await startApiServer({ config, temporal: temporal.client, db, store });
  shutdown.add("API", api.close);

  const worker = await startWorker({
    config,
    target,
    taskQueue: config.temporal.taskQueue,
    endpoints: { databaseUrl, smtpUrl, sandboxUrl: config.sandbox.url ?? `${api.url}/sandbox` },
  });
  // Stopped before the API: the API serves the sandbox that a running payment may still call.
  shutdown.add("worker", worker.stop);

  console.log(`
  Checkout is up.
    API          ${api.url}
    API docs     ${api.url}/docs
    Store        ${store ? `${api.url}/store  (buy a T-shirt: the sandbox pays, with the publishable key)` : storeOff(keys !== undefined)}
    Temporal UI  ${temporalUi ?? "(set TEMPORAL_UI_URL to print it)"}
    Temporal     ${temporalAddress} (namespace ${config.temporal.namespace})
    Codec server ${codecServer ? codecLine(codecServer.endpoint, config.codecServer.token ? undefined : devSecretFiles(config.dataDir).codecServerToken) : "(off)"}
    Mail         ${mailDir ? `caught in ${mailDir}` : smtpUrl.replace(/\/\/[^@/]*@/, "//***@")}
    Metrics      ${metricsLine(api.metricsUrl, workerMetricsUrl)}
    Traces       ${tracing ? `OTLP to ${tracing.endpoint}` : "(off: set OTEL_EXPORTER_OTLP_ENDPOINT to send them to a collector)"}
    Database     ${config.databaseUrl ? databaseUrl.replace(/\/\/[^@/]*@/, "//***@") : `${databaseUrl} (embedded: DATABASE_URL for \`npx checkout show\` and \`verify-archive\`)`}
${
  keys
    ? `    Keys         secret ${keys.secretKey}
                 publishable ${keys.publishableKey}
                 (development merchant ${keys.merchantId}; kept in ${developmentKeysFile(config.dataDir)})`
    : "    Keys         create them with `npx checkout keys create --merchant <id>`"
}
  Try:
    curl -s -X POST ${api.url}/checkouts -H "Authorization: Bearer ${keys?.secretKey ?? "<your secret key>"}" \\
      -H 'content-type: application/json' -H 'Idempotency-Key: demo-1' \\
      -d '{"customer":{"id":"cus_1","email":"ada@example.com"},"items":[{"sku":"tee","name":"T-shirt","quantity":2,"unitAmount":1999}],"currency":"USD","payment":{"provider":"sandbox","token":"tok_approve"}}'
  Ctrl-C stops everything.
`);
  await worker.running.catch(async (err) => {
    json.error(`worker stopped: ${err.message}`);
    await shutdown.run();
    process.exit(1);
  });
}

/** Why the storefront is not served: it needs the development merchant's key and the sandbox. */
function storeOff(hasDevelopmentKeys: boolean): string {
  return hasDevelopmentKeys
    ? "(off: it pays with the sandbox; SANDBOX_ENABLED is false)"
    : "(off: only on the embedded database)";
}

/** Where Prometheus scrapes the API and the worker (each on its own port). */
function metricsLine(api: string | undefined, worker: string | undefined): string {
  if (!api && !worker) return "(off: set API_METRICS_PORT and WORKER_METRICS_PORT)";
  return `API ${api ?? "(off: API_METRICS_PORT)"}  worker ${worker ?? "(off: WORKER_METRICS_PORT)"}`;
}

/** How to reach the codec server from the temporal CLI, naming where the token is, never the token. */
function codecLine(endpoint: string, tokenFile: string | undefined): string {
  const token = tokenFile ? `$(cat ${tokenFile})` : "$CODEC_SERVER_TOKEN";
  return `${endpoint}  (temporal workflow show -w … --codec-endpoint ${endpoint} --codec-auth "Bearer ${token}")`;
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    shutdown.run().then(() => process.exit(0));
  });
}

main().catch(async (err) => {
  json.error(`${err instanceof ConfigError ? "configuration: " : ""}${err instanceof Error ? err.message : err}`);
  await shutdown.run();
  process.exit(1);
});
