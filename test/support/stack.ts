// A test's own slice of the real stack: its own task queue, API server (real HTTP, so the
// sandbox adapter calls it like a provider), SMTP catcher and worker, on the run's shared
// Temporal server and database, with the run's payload encryption keys.
import { randomBytes } from "node:crypto";
import type { Client } from "@temporalio/client";
import type { Worker } from "@temporalio/worker";
import { inject } from "vitest";
import { SCOPES } from "../../api/caller.ts";
import { type ApiServer, startApiServer } from "../../api/server.ts";
import { deleteArchiveSchedule } from "../../archive/schedule.ts";
import { EncryptionCodec } from "../../codec/encryption-codec.ts";
import { parseKeys } from "../../codec/keys.ts";
import { loadPayloadCodec } from "../../codec/settings.ts";
import { loadConfig } from "../../config.ts";
import { type SmtpCatcher, startSmtpCatcher } from "../../infra/smtp-catcher.ts";
import { createApiKey } from "../../merchants/api-keys.ts";
import { createMerchant } from "../../merchants/merchants.ts";
import { createDb, type Db } from "../../prisma/client.ts";
import { isDatabaseUnavailable } from "../../prisma/errors.ts";
import {
  connectClient,
  ensureBackgroundWorkflows,
  type Observability,
  type RunningWorker,
  setUpObservability,
  startWorker,
} from "../../wiring.ts";
import { useKeyFor } from "./http.ts";

export interface StackOptions {
  /** How long tok_slow makes the sandbox wait before approving. */
  sandboxSlowMs?: number;
  paymentRetryWindowSeconds?: number;
  /** How long a checkout waits for the customer (3-D Secure, approval) before reconciling. */
  paymentActionTimeoutSeconds?: number;
  /** Start the worker at once (default) or later, with stack.startWorker(). */
  startWorker?: boolean;
  /** More environment for the API and the worker, e.g. a provider's keys and fake base URL. */
  env?: Record<string, string>;
  /** Another Temporal server than the run's shared one (e.g. a test's own dev server). */
  temporalAddress?: string;
  /** Another database than the run's shared one (e.g. a scratch one, for exact counts). */
  databaseUrl?: string;
  /** Serve the storefront (/store) with this stack's publishable key, as npm start does with its development key. */
  store?: boolean;
}

export interface TestStack {
  url: string;
  /** This stack's own merchant, with a secret key of every scope (what `call()` sends by default) and a publishable key. */
  merchantId: string;
  secretKey: string;
  secretKeyId: string;
  publishableKey: string;
  taskQueue: string;
  db: Db;
  temporal: Client;
  /** The codec of its client and worker (the run's keys, unless `env` gives others). */
  codec: EncryptionCodec;
  /** Where Prometheus would scrape them, when `env` sets API_METRICS_PORT / WORKER_METRICS_PORT. */
  metricsUrls: { api?: string; worker?: string };
  mail: SmtpCatcher;
  env: Record<string, string>;
  /** Starts the in-process worker; `smtpUrl` sends its emails elsewhere than `mail`. */
  startWorker(options?: { smtpUrl?: string }): Promise<Worker>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

/** A codec with the run's keys (global-setup.ts), as every stack's client and worker has by default. */
export const runCodec = () => new EncryptionCodec(parseKeys(inject("payloadEncryptionKeys")));

/** The key every test stack seals webhook secrets with (32 bytes in base64). */
export const TEST_WEBHOOK_SECRET_KEY = Buffer.alloc(32, "test-webhook-secret-key").toString("base64");

/** Logs, tracer and the SDK's runtime: once per process (each test file runs in its own), by the first stack's settings. */
let observability: Promise<Observability> | undefined;

/** This stack's own merchant, with a secret key of every scope and a publishable key. */
async function stackKeys(db: Db, name: string) {
  const merchant = await createMerchant(db, `test ${name}`);
  const secret = await createApiKey(db, { merchantId: merchant.id, type: "secret", scopes: SCOPES });
  const publishable = await createApiKey(db, { merchantId: merchant.id, type: "publishable", scopes: [] });
  return { merchant, secret, publishable };
}

export async function startTestStack(options: StackOptions = {}): Promise<TestStack> {
  const taskQueue = `test-${randomBytes(6).toString("hex")}`;
  const temporalAddress = options.temporalAddress ?? inject("temporalAddress");
  const databaseUrl = options.databaseUrl ?? inject("databaseUrl");
  const env = {
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATABASE_URL: databaseUrl,
    PORT: "0",
    // Off by default outside npm start: the tests pay with it, under a webhook secret of their own.
    SANDBOX_ENABLED: "true",
    SANDBOX_WEBHOOK_SECRET: `whsec_test_${randomBytes(12).toString("hex")}`,
    // Every test file sends from 127.0.0.1 and counts in the run's one database: limits no test
    // reaches (test/limits.test.ts sets its own, on a database of its own).
    RATE_LIMIT_PER_IP_PER_MINUTE: "10000000",
    RATE_LIMIT_PER_KEY_PER_MINUTE: "10000000",
    SANDBOX_SLOW_MS: String(options.sandboxSlowMs ?? 1500),
    PAYMENT_RETRY_WINDOW_SECONDS: String(options.paymentRetryWindowSeconds ?? 300),
    PAYMENT_ACTION_TIMEOUT_SECONDS: String(options.paymentActionTimeoutSeconds ?? 120),
    // Risk holds off: many tests decline payments for the same customer (cus_1) on purpose and
    // must not be held. test/risk.test.ts turns them on through `env`.
    RISK_MAX_FAILED_PAYMENTS: "0",
    PAYLOAD_ENCRYPTION_KEYS: inject("payloadEncryptionKeys"),
    // The subscribers of the tests are local HTTP servers; test/webhook-security.test.ts turns
    // these off to see the guard refuse them. One key for every stack of a run: they share a
    // database, and any stack's worker may deliver to any stack's endpoints.
    WEBHOOK_ALLOW_HTTP: "true",
    WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
    WEBHOOK_SECRET_KEY: TEST_WEBHOOK_SECRET_KEY,
    // Closed checkouts archived within a second or two, not a minute.
    ARCHIVE_INTERVAL_SECONDS: "1",
    ...options.env,
  };
  // This process's logs quiet unless a test reads them (test/observability.test.ts); the processes
  // a test spawns with `env` log at the default level (their "worker polling" line says they are up).
  const config = loadConfig({ LOG_LEVEL: "error", ...env });
  observability ??= setUpObservability(config, { worker: true });
  const { workerMetricsUrl } = await observability;
  const { codec } = await loadPayloadCodec(config.payloadEncryption, "external");
  const mail = await startSmtpCatcher({ port: 0 });
  const db = createDb(databaseUrl);
  const target = { address: temporalAddress, namespace: "default", codec };
  const temporal = await connectClient(target);
  // The stack's own archiving schedule, for its own task queue; deleted when it stops.
  await ensureBackgroundWorkflows(temporal.client, config);
  // A stack on a database that is down (a test of that) gets keys no one can look up: its
  // requests then meet the database as every request does, first thing.
  const { merchant, secret, publishable } = await stackKeys(db, taskQueue).catch((err) => {
    if (!isDatabaseUnavailable(err)) throw err;
    const unknown = { id: "key_unregistered", key: `sk_unregistered_${taskQueue}` };
    return { merchant: { id: "mer_unregistered" }, secret: unknown, publishable: unknown };
  });
  const store = options.store ? { publishableKey: publishable.key } : undefined;
  const api: ApiServer = await startApiServer({ config, temporal: temporal.client, db, store });
  useKeyFor(api.url, secret.key);
  const workerEnv = { ...env, SMTP_URL: mail.url, SANDBOX_URL: `${api.url}/sandbox` };

  let worker: RunningWorker | undefined;
  const stack: TestStack = {
    url: api.url,
    merchantId: merchant.id,
    secretKey: secret.key,
    secretKeyId: secret.id,
    publishableKey: publishable.key,
    taskQueue,
    db,
    temporal: temporal.client,
    codec,
    mail,
    metricsUrls: { api: api.metricsUrl, worker: workerMetricsUrl },
    env: workerEnv,
    async startWorker({ smtpUrl = mail.url } = {}) {
      worker = await startWorker({
        config,
        target,
        taskQueue,
        endpoints: { databaseUrl, smtpUrl, sandboxUrl: `${api.url}/sandbox` },
        // The run's bundle has no tracing interceptors: with tracing on, the workflows are bundled with them.
        workflowBundle: config.observability.otlp ? undefined : { codePath: inject("workflowBundlePath") },
      });
      return worker.worker;
    },
    async stopWorker() {
      const running = worker;
      worker = undefined;
      await running?.stop();
    },
    async stop() {
      // Before the worker stops, so a tick in flight can end; best effort (a test may have stopped the server).
      await temporal.client
        .withDeadline(Date.now() + 5_000, () => deleteArchiveSchedule(temporal.client, taskQueue))
        .catch(() => {});
      await stack.stopWorker();
      await api.close();
      await temporal.close();
      await db.$disconnect();
      await mail.stop();
    },
  };
  if (options.startWorker !== false) await stack.startWorker();
  return stack;
}
