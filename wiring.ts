// The one place where the processes are wired: every entry point (npm start, npm run worker,
// npm run api, the CLI, the tests, the bench) connects to Temporal, registers the search
// attributes and the background workflows, builds the worker and stops things through here. The
// data converter (every payload encrypted, codec/), TLS, metrics, traces and logs (observability/)
// are added here once, for all of them.
import { fileURLToPath } from "node:url";
import { Client, Connection } from "@temporalio/client";
import type { DataConverter, PayloadCodec } from "@temporalio/common";
import { NativeConnection, Runtime, Worker, type WorkerOptions } from "@temporalio/worker";
import { createNatsPublisher, natsSecurity } from "./activities/broker.ts";
import { type ActivityDeps, createActivities } from "./activities/index.ts";
import { smtpSender } from "./activities/smtp-sender.ts";
import { ensureArchiveSchedule } from "./archive/schedule.ts";
import { type Config, ConfigError, required } from "./config.ts";
import { ensureEventRelay } from "./infra/background-workflows.ts";
import { ensureSearchAttributes } from "./infra/search-attributes.ts";
import { temporalSecurity } from "./infra/temporal-tls.ts";
import { log, setLogLevel, temporalLogger } from "./observability/logger.ts";
import { workerMetrics } from "./observability/metrics.ts";
import { clientTracingInterceptors, startTracing, type Tracing, workerTracingOptions } from "./observability/tracing.ts";
import { createDb } from "./prisma/client.ts";
import { createGatewayRegistry } from "./providers/index.ts";
import { sealLegacySecrets } from "./webhooks/secrets.ts";

export const workflowsPath = fileURLToPath(new URL("./workflows/index.ts", import.meta.url));

export interface TemporalTarget {
  address: string;
  namespace: string;
  /**
   * Encrypts every payload sent to this server and decrypts every one read from it (codec/:
   * `loadPayloadCodec` says which keys). A history fetched raw is decoded with the same codec
   * (codec/history.ts: the client's `payloadCodecs`).
   */
  codec: PayloadCodec;
}

/** The data converter of every client, worker and replay: the default payload converter, then the codec. */
export function dataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec] };
}

export interface Observability {
  /** Where the worker's Prometheus metrics are scraped, when WORKER_METRICS_PORT is set. */
  workerMetricsUrl?: string;
  /** Present when OTEL_EXPORTER_OTLP_ENDPOINT is set: stop it last, to send the last spans. */
  tracing?: Tracing;
}

/**
 * Once per process, first thing: the log level, the tracer (when OTEL_EXPORTER_OTLP_ENDPOINT is
 * set), and for a process that runs a worker the Temporal SDK's runtime, which must be installed
 * before any worker connection: its logs as JSON (the SDK's own from warn, core's forwarded) and
 * its Prometheus exporter (when WORKER_METRICS_PORT is set).
 */
export async function setUpObservability(config: Config, { worker }: { worker: boolean }): Promise<Observability> {
  const { logLevel, workerMetricsPort } = config.observability;
  setLogLevel(logLevel);
  const tracing = startTracing(config.observability);
  if (!worker) return { tracing };
  const metrics = workerMetricsPort === undefined ? undefined : await workerMetrics(config.host, workerMetricsPort);
  try {
    Runtime.install({
      logger: temporalLogger(),
      telemetryOptions: {
        logging: {
          forward: {},
          filter: { core: logLevel === "debug" || logLevel === "trace" ? "DEBUG" : "WARN", other: "ERROR" },
        },
        ...(metrics ? { metrics: metrics.telemetry } : {}),
      },
    });
  } catch (err) {
    if (!metrics || !/prometheus/i.test((err as Error).message)) throw err;
    throw new ConfigError(
      `WORKER_METRICS_PORT: cannot serve the worker's metrics on ${metrics.bindAddress} (${(err as Error).message}); set another port, or off`,
    );
  }
  return { tracing, workerMetricsUrl: metrics?.url };
}

export interface TemporalClient {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

/** A client of the Temporal server (the API's, the CLI's, the tests'). */
export async function connectClient(
  target: TemporalTarget,
  options: { identity?: string; connectTimeoutMs?: number } = {},
): Promise<TemporalClient> {
  const connection = await Connection.connect({
    address: target.address,
    ...temporalSecurity(),
    ...(options.connectTimeoutMs ? { connectTimeout: options.connectTimeoutMs } : {}),
  });
  const tracing = clientTracingInterceptors(); // the API's workflow starts continue its request's trace
  const client = new Client({
    connection,
    namespace: target.namespace,
    dataConverter: dataConverter(target.codec),
    ...(options.identity ? { identity: options.identity } : {}),
    ...(tracing ? { interceptors: tracing } : {}),
  });
  return { client, connection, close: () => connection.close() };
}

/**
 * Registers the project's search attributes on a server that lacks them (a server of your own;
 * the embedded dev server gets them as flags). Temporal Cloud manages them in its console: a
 * refusal is reported, not fatal.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string, log: (line: string) => void) {
  try {
    const added = await ensureSearchAttributes(connection, namespace);
    if (added.length) log(`registered search attributes: ${added.join(", ")}`);
  } catch (err) {
    log(`could not register search attributes (${(err as Error).message}); register them as the README says`);
  }
}

/**
 * The background workflows the service needs running, made sure of at every start (the worker,
 * `npm start`, the test stack), for the task queue's workers to run: the relay that hands out the
 * events in the outbox (infra/background-workflows.ts), and the schedule that archives closed
 * checkouts. Idempotent; a failure is fatal, since without them events would not go out and closed
 * histories would not outlive the retention.
 */
export async function ensureBackgroundWorkflows(client: Client, config: Config, log: (line: string) => void = () => {}) {
  const { taskQueue } = config.temporal;
  await ensureEventRelay(client, taskQueue);
  const archive = await ensureArchiveSchedule(client, { taskQueue, ...config.archive });
  if (archive !== "unchanged") log(`archiving schedule ${archive}: every ${config.archive.intervalSeconds} s on "${taskQueue}"`);
}

export interface ActivityEndpoints {
  databaseUrl: string;
  smtpUrl: string;
  sandboxUrl?: string;
}

/** The activities' real dependencies, from the configuration and where the services are. */
export function createActivityDeps(config: Config, endpoints: ActivityEndpoints): ActivityDeps {
  return {
    db: createDb(endpoints.databaseUrl, config.databasePoolSize),
    gateways: createGatewayRegistry(
      config.env,
      { enabled: config.sandbox.enabled, url: endpoints.sandboxUrl, webhookSecret: config.sandbox.webhookSecret },
      config.paymentRetryWindowSeconds,
    ),
    mailer: { sender: smtpSender(endpoints.smtpUrl), from: config.mailFrom },
    // Connects on the first event; the running worker's stop() closes it.
    publisher: config.events.url
      ? createNatsPublisher(config.events.url, {
          stream: config.events.stream,
          subjectPrefix: config.events.subjectPrefix,
          security: natsSecurity(config.env),
        })
      : undefined,
    riskPolicy: config.risk,
    webhooks: {
      secretKey: required(config.webhooks.secretKey, "WEBHOOK_SECRET_KEY"),
      targets: { allowHttp: config.webhooks.allowHttp, allowPrivate: config.webhooks.allowPrivateTargets },
      batchSize: config.webhooks.fanoutBatchSize,
    },
  };
}

export interface WorkerSetup {
  config: Config;
  target: TemporalTarget;
  taskQueue: string;
  endpoints: ActivityEndpoints;
  /** A bundle built once (tests); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions["workflowBundle"];
}

export interface RunningWorker {
  worker: Worker;
  deps: ActivityDeps;
  /** Settles when the worker stops: resolves after a shutdown, rejects on a fatal error. */
  running: Promise<void>;
  /** Shuts the worker down (if it still runs), then closes what it used, in order. */
  stop(): Promise<void>;
}

/**
 * How long a stopping worker may take to finish what it runs. Past it the SDK gives up (its run
 * rejects) and the process goes on stopping: with its Temporal server already gone (Ctrl-C reaches
 * `npm start`'s dev server too), a worker would otherwise retry reporting its activities for good.
 * Temporal runs again whatever was cut short.
 */
const SHUTDOWN_FORCE_TIME = "15s";

/** Creates the worker on its own connection and starts it polling. */
export async function startWorker(setup: WorkerSetup): Promise<RunningWorker> {
  const deps = createActivityDeps(setup.config, setup.endpoints);
  await sealClearSecrets(deps.db, deps.webhooks.secretKey);
  const connection = await NativeConnection.connect({ address: setup.target.address, ...temporalSecurity() });
  const worker = await Worker.create({
    connection,
    namespace: setup.target.namespace,
    taskQueue: setup.taskQueue,
    // The activities' Context.current().client gets it too (the archiver reads histories with it).
    dataConverter: dataConverter(setup.target.codec),
    activities: createActivities(deps),
    ...definedOnly(setup.config.workerTuning),
    shutdownForceTime: SHUTDOWN_FORCE_TIME,
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath }),
    // While tracing: the workflow interceptors (bundled with workflowsPath; a prebuilt bundle must hold them), their sink, the activities'.
    ...workerTracingOptions(),
  });
  const running = worker.run();
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      if (worker.getState() === "RUNNING") worker.shutdown(); // the SDK may be draining already (SIGINT)
      await running.catch(() => {}); // a fatal error was reported where it happened
      await deps.publisher?.close();
      await deps.db.$disconnect();
      await connection.close();
    })();
    return stopped;
  };
  return { worker, deps, running, stop };
}

/**
 * Seals the signing secrets that endpoints made before secrets were sealed still hold in clear
 * (the API and the worker both do it when they start; until then deliveries read them as they
 * are). Best effort: a database that does not answer yet does not stop a start.
 */
export async function sealClearSecrets(
  db: ActivityDeps["db"],
  key: Buffer,
  warn: (line: string) => void = (line) => log.warn(line),
) {
  try {
    const sealed = await sealLegacySecrets(db, key);
    if (sealed) warn(`sealed the signing secrets of ${sealed} webhook endpoint(s) made before secrets were sealed`);
  } catch (err) {
    warn(
      `could not seal the clear webhook secrets yet (${(err as Error).message.split("\n").at(-1)}); the next start tries again`,
    );
  }
}

/** Things to stop, in the reverse of the order they were started in. */
export class Shutdown {
  private readonly steps: Array<[string, () => Promise<unknown>]> = [];

  constructor(private readonly report: (line: string) => void = (line) => log.error(line)) {}

  add(name: string, stop: () => Promise<unknown>): void {
    this.steps.push([name, stop]);
  }

  async run(): Promise<void> {
    for (const [name, stop] of this.steps.splice(0).reverse()) {
      log.info(`stopping the ${name}`); // which one a slow stop is waiting for
      await stop().catch((err) => this.report(`stopping ${name}: ${(err as Error).message}`));
    }
  }
}

/** Leaves out unset options, so that the SDK's defaults apply. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
