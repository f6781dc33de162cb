// Every setting comes from the environment; README's configuration table lists them all.
// An unset service URL means "run the embedded one" (npm start); a bad value names its variable.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type EncryptionKey, parseKeys } from "./codec/keys.ts";
import { parseSecretKey } from "./webhooks/secret-box.ts";
import type { RiskPolicy } from "./workflows/types.ts";

export const projectRoot = path.dirname(fileURLToPath(import.meta.url));

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  temporal: {
    address?: string;
    namespace: string;
    taskQueue: string;
    uiUrl?: string;
    devPort: number;
    devUiPort: number;
    /** `npm start`'s dev server only (TEMPORAL_DEV_SQLITE_PRAGMAS). */
    devSqlitePragmas: string[];
  };
  databaseUrl?: string;
  /** Connections at most in each of the worker's and the API's pools (DATABASE_POOL_SIZE). */
  databasePoolSize: number;
  embeddedPostgresPort: number;
  smtpUrl?: string;
  smtpCatcherPort: number;
  mailFrom: string;
  /** NODE_ENV=production: the sandbox is refused. */
  production: boolean;
  /**
   * The sandbox provider: on by default only under `npm start` (embedded), refused in production
   * and next to a real provider (providers/index.ts). `webhookSecret` is "" while it is off.
   */
  sandbox: { enabled: boolean; url?: string; slowMs: number; webhookSecret: string; webhookUrl?: string };
  /** What every API request is held to (api/limits/). */
  api: ApiLimits;
  paymentRetryWindowSeconds: number;
  /** How long a refund retries a provider that does not answer before it is settled by asking the provider. */
  refundRetryWindowSeconds: number;
  /** How long a checkout waits for the customer to act (3-D Secure, approval, QR) before it expires. */
  paymentActionTimeoutSeconds: number;
  /**
   * After a decline, how long a checkout waits for the customer to pay again (POST
   * /orders/{id}/payments) before its order is cancelled; 0: a decline fails the checkout at once.
   */
  payAgainWindowSeconds: number;
  /** When set: a paid order is marked delivered this long after it was confirmed (a durable timer). */
  fulfilmentAutoDeliverSeconds?: number;
  /** Where providers send the customer back after an approval page. */
  returnUrl?: string;
  /** The message broker events are published to (NATS JetStream), when `url` is set. */
  events: { url?: string; stream: string; subjectPrefix: string };
  /**
   * Where a request came from. `trustedProxies`: the addresses whose X-Forwarded-For (and country
   * header) are believed; `countryHeader`: the lower-case header a trusted proxy puts the
   * client's country in (e.g. `cf-ipcountry`).
   */
  origin: { trustedProxies: string[]; countryHeader?: string };
  /**
   * Unusual activity: `maxFailedPayments` declined payments of one customer within
   * `windowSeconds` hold their new checkouts for `holdSeconds` (429). 0 failures turns it off.
   */
  risk: RiskPolicy;
  /** The archiving schedule (archive/schedule.ts): how often it runs, and how many runs one activity copies at most. */
  archive: { intervalSeconds: number; batchSize: number };
  /** How payloads are encrypted (codec/): see PayloadEncryption. */
  payloadEncryption: PayloadEncryption;
  /**
   * The codec server (codec/server.ts), for the Web UI and the `temporal` CLI: its bearer token,
   * where it listens, and the Web UI origins it answers (absent: the embedded dev server's UI,
   * else TEMPORAL_UI_URL's origin).
   */
  codecServer: { token?: string; host: string; port: number; corsOrigins?: string[] };
  /** Outgoing webhooks: who they may go to, how their secrets are kept, how many and in what batches. */
  webhooks: WebhookSettings;
  /** Where `npm run worker` answers health checks (200 while it polls); off when absent. */
  workerHealthPort?: number;
  /** The worker's slots and sticky cache; absent values take the SDK's defaults. */
  workerTuning: WorkerTuning;
  /** Logs, metrics and traces (observability/). */
  observability: ObservabilitySettings;
  /** The whole environment, for the payment providers' own variables (providers/). */
  env: Env;
}

export type Env = Record<string, string | undefined>;

export interface ApiLimits {
  /** The largest request body, in bytes, read before anything parses it (413 above). */
  maxBodyBytes: number;
  /** The same for provider webhooks (POST /webhooks/{provider}). */
  maxWebhookBodyBytes: number;
  /** Requests a minute per API key, and per client address for requests without one (429 above); 0: no limit. */
  rateLimit: { perKeyPerMinute: number; perIpPerMinute: number };
  /** `Prefer: wait=N` requests waiting at once in this process; past it they are answered at once. */
  maxWaitingRequests: number;
  /** Origins a browser may call the API from; "*" (any) only under `npm start` unless CORS_ORIGINS says otherwise. */
  corsOrigins: string[] | "*";
  /** Provider webhooks signalled to one checkout; later ones are recorded and acknowledged, not signalled. */
  maxSignalsPerCheckout: number;
}

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Metrics are served on their own ports, on HOST, and only when asked for (`npm start` asks);
 * traces go out over OTLP/HTTP only when an endpoint is set.
 */
export interface ObservabilitySettings {
  /** The JSON logs' threshold; the Temporal SDK's own logs show from `warn` (every one with `debug`). */
  logLevel: LogLevel;
  /** The worker's Temporal SDK metrics (Prometheus `/metrics`); off when absent, 0: any free port. */
  workerMetricsPort?: number;
  /** The API's request metrics (Prometheus `/metrics`); off when absent, 0: any free port. */
  apiMetricsPort?: number;
  /** Spans go to `<endpoint>/v1/traces` (OTLP/HTTP, JSON), with these headers; no tracing when absent. */
  otlp?: { endpoint: string; headers: Record<string, string> };
  /** The `service.name` of the spans. */
  serviceName: string;
}

export interface LoadOptions {
  /**
   * `npm start`'s embedded development mode: the sandbox is on by default, with a webhook secret
   * of its own kept in the data folder, a browser on any origin may call the API, and webhooks may
   * go to local test servers over http (unless WEBHOOK_ALLOW_* say otherwise).
   */
  embedded?: boolean;
}

/**
 * `keys`: PAYLOAD_ENCRYPTION_KEYS, oldest first (absent when unset: codec/payload-codec.ts then
 * takes the data folder's development key under `npm start`, or refuses to start). `encrypt`
 * false (PAYLOAD_ENCRYPTION=off) leaves new payloads in clear; the keys still decrypt older ones.
 */
export interface PayloadEncryption {
  encrypt: boolean;
  keys?: EncryptionKey[];
  /** Where `npm start` keeps the development key when no keys are set (DATA_DIR). */
  dataDir: string;
}

export interface WebhookSettings {
  /**
   * AES-256-GCM key the endpoints' signing secrets are sealed with (WEBHOOK_SECRET_KEY). Unset:
   * `npm start` with its embedded database keeps one in DATA_DIR; the worker and the API refuse to start.
   */
  secretKey?: Buffer;
  /** Plain http targets: development only (`npm start` allows them unless told otherwise). */
  allowHttp: boolean;
  /** Loopback, private, link-local, CGNAT and unique-local targets: development only (likewise). */
  allowPrivateTargets: boolean;
  /** After a rotation, how long deliveries are signed with the previous secret too. */
  rotationGraceSeconds: number;
  /** Live endpoints a merchant may have. */
  maxEndpoints: number;
  /** Endpoints per batch of an event's fan-out: each batch is a workflow with that many deliveries at most in flight. */
  fanoutBatchSize: number;
}

/** Worker options the README's "Worker tuning" section explains (WORKER_* variables). */
export interface WorkerTuning {
  maxCachedWorkflows?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentLocalActivityExecutions?: number;
}

/** Runs one archiving activity copies at most: a few minutes of work, well inside its timeout. */
export const MAX_ARCHIVE_BATCH_SIZE = 1000;

/** Temporal refuses a workflow more than 2,000 activities in flight: a batch stays well under it. */
export const MAX_FANOUT_BATCH_SIZE = 1000;

function optionalInt(env: Env, name: string, min: number, max: number): number | undefined {
  return env[name] === undefined || env[name] === "" ? undefined : int(env, name, min, min, max);
}

function int(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}; got "${raw}"`);
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if (["1", "true", "yes", "on"].includes(raw)) return true;
  if (["0", "false", "no", "off"].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false; got "${env[name]}"`);
}

function url(env: Env, name: string, schemes?: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL; got "${raw}"`);
  }
  if (schemes && !schemes.includes(parsed.protocol.slice(0, -1))) {
    throw new ConfigError(`${name} must be a ${schemes.join(" or ")} URL; got "${raw}"`);
  }
  return raw;
}

/** A JetStream stream name: letters, digits, `_` and `-` (no dots, wildcards or spaces). */
function streamName(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(raw)) {
    throw new ConfigError(`${name} must be a stream name of letters, digits, "_" and "-"; got "${raw}"`);
  }
  return raw;
}

/** A NATS subject without wildcards: dot-separated tokens of letters, digits, `_` and `-`. */
function subjectPrefix(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(raw)) {
    throw new ConfigError(`${name} must be dot-separated tokens of letters, digits, "_" and "-"; got "${raw}"`);
  }
  return raw;
}

/** The payload encryption settings alone (the CLI reads only these and the Temporal target). */
export function loadPayloadEncryption(env: Env = process.env): PayloadEncryption {
  const raw = env.PAYLOAD_ENCRYPTION_KEYS;
  let keys: EncryptionKey[] | undefined;
  if (raw !== undefined && raw.trim() !== "") {
    try {
      keys = parseKeys(raw);
    } catch (err) {
      // The message names an entry by its id or position, never by its key.
      throw new ConfigError(`PAYLOAD_ENCRYPTION_KEYS: ${(err as Error).message}`);
    }
  }
  return { encrypt: bool(env, "PAYLOAD_ENCRYPTION", true), keys, dataDir: dataDirOf(env) };
}

const dataDirOf = (env: Env) => path.resolve(projectRoot, env.DATA_DIR || ".data");

export function loadConfig(env: Env = process.env, { embedded = false }: LoadOptions = {}): Config {
  const port = int(env, "PORT", 3000, 0, 65535);
  const dataDir = path.resolve(projectRoot, env.DATA_DIR || ".data");
  const production = env.NODE_ENV === "production";
  const sandboxEnabled = bool(env, "SANDBOX_ENABLED", embedded && !production);
  if (sandboxEnabled && production) {
    throw new ConfigError(
      "SANDBOX_ENABLED must be false with NODE_ENV=production: the sandbox approves payments that move no money.",
    );
  }
  // Never a published default: npm start makes one per data folder; elsewhere every API process
  // must sign and check the sandbox's webhooks with the same secret, so it is asked for.
  const webhookSecret =
    env.SANDBOX_WEBHOOK_SECRET || (sandboxEnabled && embedded ? developmentSecret(dataDir, "sandbox-webhook-secret") : "");
  if (sandboxEnabled && !webhookSecret) {
    throw new ConfigError(
      "Set SANDBOX_WEBHOOK_SECRET: the sandbox is enabled outside npm start, and every API process must share its webhook secret.",
    );
  }
  return {
    host: env.HOST || "127.0.0.1",
    port,
    dataDir,
    temporal: {
      address: env.TEMPORAL_ADDRESS || undefined,
      namespace: env.TEMPORAL_NAMESPACE || "default",
      taskQueue: env.TEMPORAL_TASK_QUEUE || "checkout",
      uiUrl: url(env, "TEMPORAL_UI_URL"),
      devPort: int(env, "TEMPORAL_DEV_PORT", 7233, 1, 65535),
      devUiPort: int(env, "TEMPORAL_DEV_UI_PORT", 8233, 1, 65535),
      devSqlitePragmas: sqlitePragmas(env, "TEMPORAL_DEV_SQLITE_PRAGMAS", ["journal_mode=wal", "synchronous=normal"]),
    },
    databaseUrl: url(env, "DATABASE_URL", ["postgresql", "postgres"]),
    databasePoolSize: int(env, "DATABASE_POOL_SIZE", 10, 1, 1000),
    embeddedPostgresPort: int(env, "EMBEDDED_POSTGRES_PORT", 54329, 1, 65535),
    smtpUrl: url(env, "SMTP_URL", ["smtp", "smtps"]),
    smtpCatcherPort: int(env, "SMTP_CATCHER_PORT", 2525, 0, 65535),
    mailFrom: env.MAIL_FROM || "Checkout <no-reply@checkout.local>",
    production,
    sandbox: {
      enabled: sandboxEnabled,
      url: url(env, "SANDBOX_URL"),
      slowMs: int(env, "SANDBOX_SLOW_MS", 3000, 0, 60_000),
      webhookSecret,
      webhookUrl: url(env, "SANDBOX_WEBHOOK_URL"),
    },
    api: {
      maxBodyBytes: int(env, "API_MAX_BODY_BYTES", 128 * 1024, 1024, 64 * 1024 * 1024),
      maxWebhookBodyBytes: int(env, "API_MAX_WEBHOOK_BODY_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024),
      rateLimit: {
        perKeyPerMinute: int(env, "RATE_LIMIT_PER_KEY_PER_MINUTE", 3000, 0, 10_000_000),
        perIpPerMinute: int(env, "RATE_LIMIT_PER_IP_PER_MINUTE", 600, 0, 10_000_000),
      },
      maxWaitingRequests: int(env, "API_MAX_WAITING_REQUESTS", 100, 0, 100_000),
      corsOrigins: originList(env, "CORS_ORIGINS") ?? (embedded ? "*" : []),
      maxSignalsPerCheckout: int(env, "WEBHOOK_SIGNALS_PER_CHECKOUT", 100, 1, 100_000),
    },
    paymentRetryWindowSeconds: int(env, "PAYMENT_RETRY_WINDOW_SECONDS", 900, 5),
    refundRetryWindowSeconds: int(env, "REFUND_RETRY_WINDOW_SECONDS", 24 * 3600, 5),
    paymentActionTimeoutSeconds: int(env, "PAYMENT_ACTION_TIMEOUT_SECONDS", 900, 1),
    // npm start's development mode shows an order's whole life (the store at /store): another card
    // after a decline, and a delivery soon after payment. Elsewhere both stay off unless set.
    payAgainWindowSeconds: int(env, "PAY_AGAIN_WINDOW_SECONDS", embedded ? 900 : 0, 0, 7 * 24 * 3600),
    fulfilmentAutoDeliverSeconds: autoDeliverSeconds(env, "FULFILMENT_AUTO_DELIVER_SECONDS", embedded ? 30 : undefined),
    returnUrl: url(env, "RETURN_URL"),
    events: {
      url: url(env, "EVENTS_URL", ["nats"]),
      stream: streamName(env, "EVENTS_STREAM", "CHECKOUT_EVENTS"),
      subjectPrefix: subjectPrefix(env, "EVENTS_SUBJECT_PREFIX", "checkout.events"),
    },
    origin: { trustedProxies: ipList(env, "TRUSTED_PROXIES"), countryHeader: headerName(env, "COUNTRY_HEADER") },
    risk: {
      maxFailedPayments: int(env, "RISK_MAX_FAILED_PAYMENTS", 5, 0, 1000),
      windowSeconds: int(env, "RISK_WINDOW_SECONDS", 3600, 1),
      holdSeconds: int(env, "RISK_HOLD_SECONDS", 900, 1),
    },
    archive: {
      intervalSeconds: int(env, "ARCHIVE_INTERVAL_SECONDS", 60, 1, 24 * 3600),
      batchSize: int(env, "ARCHIVE_BATCH_SIZE", 200, 1, MAX_ARCHIVE_BATCH_SIZE),
    },
    payloadEncryption: loadPayloadEncryption(env),
    codecServer: {
      token: codecToken(env, "CODEC_SERVER_TOKEN"),
      host: env.CODEC_SERVER_HOST || "127.0.0.1",
      port: int(env, "CODEC_SERVER_PORT", 8234, 0, 65535),
      corsOrigins: originList(env, "CODEC_CORS_ORIGINS"),
    },
    webhooks: {
      secretKey: secretKey(env, "WEBHOOK_SECRET_KEY"),
      allowHttp: developmentOnly(env, "WEBHOOK_ALLOW_HTTP", embedded, production),
      allowPrivateTargets: developmentOnly(env, "WEBHOOK_ALLOW_PRIVATE_TARGETS", embedded, production),
      rotationGraceSeconds: int(env, "WEBHOOK_SECRET_ROTATION_GRACE_SECONDS", 24 * 3600, 0, 30 * 24 * 3600),
      maxEndpoints: int(env, "WEBHOOK_MAX_ENDPOINTS", 100, 1, 1_000_000),
      fanoutBatchSize: int(env, "WEBHOOK_FANOUT_BATCH_SIZE", 100, 1, MAX_FANOUT_BATCH_SIZE),
    },
    workerHealthPort: env.WORKER_HEALTH_PORT ? int(env, "WORKER_HEALTH_PORT", 0, 1, 65535) : undefined,
    workerTuning: {
      maxCachedWorkflows: optionalInt(env, "WORKER_MAX_CACHED_WORKFLOWS", 0, 1_000_000),
      // The SDK refuses fewer than 2 workflow task slots while it caches workflows.
      maxConcurrentWorkflowTaskExecutions: optionalInt(env, "WORKER_MAX_CONCURRENT_WORKFLOW_TASKS", 2, 10_000),
      maxConcurrentActivityTaskExecutions: optionalInt(env, "WORKER_MAX_CONCURRENT_ACTIVITIES", 1, 100_000),
      maxConcurrentLocalActivityExecutions: optionalInt(env, "WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES", 1, 100_000),
    },
    observability: {
      logLevel: logLevel(env, "LOG_LEVEL"),
      // npm start serves them on fixed ports, as its other embedded services; elsewhere only when set.
      workerMetricsPort: metricsPort(env, "WORKER_METRICS_PORT", embedded ? 9465 : undefined),
      apiMetricsPort: metricsPort(env, "API_METRICS_PORT", embedded ? 9464 : undefined),
      otlp: otlpExporter(env),
      serviceName: env.OTEL_SERVICE_NAME || "checkout",
    },
    env,
  };
}

/** Seconds, `off` (no timer: delivery only by POST /orders/{id}/delivery), or unset (the fallback). */
function autoDeliverSeconds(env: Env, name: string, fallback: number | undefined): number | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === "off") return undefined;
  if (raw === undefined || raw === "") return fallback;
  return int(env, name, 0, 1, 365 * 24 * 3600);
}

/** Comma-separated `name=value` SQLite pragmas; "none" for the server's own defaults. */
function sqlitePragmas(env: Env, name: string, fallback: string[]): string[] {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (raw === "none") return [];
  return raw.split(",").map((entry) => {
    const pragma = entry.trim();
    if (!/^[a-z_]+=[A-Za-z0-9_-]+$/.test(pragma)) {
      throw new ConfigError(`${name} must be comma-separated pragmas like journal_mode=wal, or "none"; "${pragma}" is not one`);
    }
    return pragma;
  });
}

/**
 * A bearer token: at least 16 characters that are safe in a URL path too (the Web UI is given
 * the codec server's endpoint with the token in its path). Never echoed in an error.
 */
function codecToken(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  if (!/^[A-Za-z0-9._~-]{16,}$/.test(raw)) {
    throw new ConfigError(
      `${name} must be at least 16 characters of letters, digits, ".", "_", "~" and "-" (e.g. \`openssl rand -hex 32\`)`,
    );
  }
  return raw;
}

/** A comma-separated list of web origins (`scheme://host[:port]`), normalized; absent when unset. */
function originList(env: Env, name: string): string[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  return raw.split(",").map((entry) => {
    const origin = entry.trim();
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !["http:", "https:"].includes(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, "")) {
      throw new ConfigError(
        `${name} must be a comma-separated list of origins like https://temporal-ui.example.com; "${origin}" is not one`,
      );
    }
    return parsed.origin;
  });
}

/** A secret of the development stack's own, made once per data folder and kept there (mode 600). */
function developmentSecret(dataDir: string, name: string): string {
  const file = path.join(dataDir, name);
  const read = () => {
    try {
      return readFileSync(file, "utf8").trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
      throw err;
    }
  };
  const kept = read();
  if (kept) return kept;
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(file, `whsec_${randomBytes(24).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err; // another start made it first
  }
  return read();
}

/** A development setting: on by default under `npm start`, refused with NODE_ENV=production. */
function developmentOnly(env: Env, name: string, embedded: boolean, production: boolean): boolean {
  const value = bool(env, name, embedded && !production);
  if (value && production) throw new ConfigError(`${name} must be false with NODE_ENV=production: it is for development only.`);
  return value;
}

/** 32 bytes in base64; the value is never echoed in the error. */
function secretKey(env: Env, name: string): Buffer | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const key = parseSecretKey(raw);
  if (!key) throw new ConfigError(`${name} must be 32 random bytes in base64 (e.g. from \`openssl rand -base64 32\`)`);
  return key;
}

/** A comma-separated list of IP addresses (IPv4 or IPv6), normalized. */
function ipList(env: Env, name: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return [];
  return raw.split(",").map((entry) => {
    const ip = entry.trim();
    if (!isIP(ip)) throw new ConfigError(`${name} must be a comma-separated list of IP addresses; "${ip}" is not one`);
    return normalizeIp(ip);
  });
}

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) is 1.2.3.4; IPv6 in lower case. */
export function normalizeIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1] : ip.toLowerCase();
}

/** An HTTP header name (an RFC 9110 token), in lower case. */
function headerName(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(raw.trim())) {
    throw new ConfigError(`${name} must be an HTTP header name, like cf-ipcountry; got "${raw}"`);
  }
  return raw.trim().toLowerCase();
}

function logLevel(env: Env, name: string): LogLevel {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return "info";
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${LOG_LEVELS.join(", ")}; got "${env[name]}"`);
  }
  return raw as LogLevel;
}

/** A port, `off`, or unset (the fallback). */
function metricsPort(env: Env, name: string, fallback: number | undefined): number | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === "off") return undefined;
  if (raw === undefined || raw === "") return fallback;
  return int(env, name, 0, 0, 65535);
}

/**
 * OTEL_EXPORTER_OTLP_ENDPOINT (the collector's base URL, as the OpenTelemetry specification
 * defines it) and OTEL_EXPORTER_OTLP_HEADERS (`name=value,…`, URL-encoded values: often a
 * collector's API key, so never echoed in an error).
 */
function otlpExporter(env: Env): ObservabilitySettings["otlp"] {
  const endpoint = url(env, "OTEL_EXPORTER_OTLP_ENDPOINT", ["http", "https"]);
  const raw = env.OTEL_EXPORTER_OTLP_HEADERS?.trim();
  const headers: Record<string, string> = {};
  for (const [position, entry] of (raw ? raw.split(",") : []).entries()) {
    const at = entry.indexOf("=");
    const name = at > 0 ? entry.slice(0, at).trim() : "";
    let value: string | undefined;
    try {
      value = decodeURIComponent(entry.slice(at + 1).trim());
    } catch {
      value = undefined;
    }
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || value === undefined) {
      throw new ConfigError(
        `OTEL_EXPORTER_OTLP_HEADERS must be name=value pairs separated by commas; entry ${position + 1} is not one`,
      );
    }
    headers[name] = value;
  }
  if (!endpoint) {
    if (raw) throw new ConfigError("OTEL_EXPORTER_OTLP_HEADERS is set but OTEL_EXPORTER_OTLP_ENDPOINT is not: set it too");
    return undefined;
  }
  return { endpoint, headers };
}

/** A required setting, for processes that do not start embedded services (worker, api). */
export function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new ConfigError(`Set ${name}: this process does not start an embedded one.`);
  return value;
}
