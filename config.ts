// Every setting comes from the environment; README's configuration table lists them all.
// An unset service URL means "run the embedded one" (npm start); a bad value names its variable.
import { isIP } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type EncryptionKey, parseKeys } from "./codec/keys.ts";
import type { RiskPolicy } from "./workflows/types.ts";

export const projectRoot = path.dirname(fileURLToPath(import.meta.url));

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  temporal: { address?: string; namespace: string; taskQueue: string; uiUrl?: string; devPort: number; devUiPort: number };
  databaseUrl?: string;
  embeddedPostgresPort: number;
  smtpUrl?: string;
  smtpCatcherPort: number;
  mailFrom: string;
  sandbox: { enabled: boolean; url?: string; slowMs: number; webhookSecret: string; webhookUrl?: string };
  paymentRetryWindowSeconds: number;
  /** How long a refund retries a provider that does not answer before it is settled by asking the provider. */
  refundRetryWindowSeconds: number;
  /** How long a checkout waits for the customer to act (3-D Secure, approval, QR) before it expires. */
  paymentActionTimeoutSeconds: number;
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
  /** How payloads are encrypted (codec/): see PayloadEncryption. */
  payloadEncryption: PayloadEncryption;
  /**
   * The codec server (codec/server.ts), for the Web UI and the `temporal` CLI: its bearer token,
   * where it listens, and the Web UI origins it answers (absent: the embedded dev server's UI,
   * else TEMPORAL_UI_URL's origin).
   */
  codecServer: { token?: string; host: string; port: number; corsOrigins?: string[] };
  /** Where `npm run worker` answers health checks (200 while it polls); off when absent. */
  workerHealthPort?: number;
  /** The whole environment, for the payment providers' own variables (providers/). */
  env: Env;
}

export type Env = Record<string, string | undefined>;

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

export function loadConfig(env: Env = process.env): Config {
  const port = int(env, "PORT", 3000, 0, 65535);
  return {
    host: env.HOST || "127.0.0.1",
    port,
    dataDir: dataDirOf(env),
    temporal: {
      address: env.TEMPORAL_ADDRESS || undefined,
      namespace: env.TEMPORAL_NAMESPACE || "default",
      taskQueue: env.TEMPORAL_TASK_QUEUE || "checkout",
      uiUrl: url(env, "TEMPORAL_UI_URL"),
      devPort: int(env, "TEMPORAL_DEV_PORT", 7233, 1, 65535),
      devUiPort: int(env, "TEMPORAL_DEV_UI_PORT", 8233, 1, 65535),
    },
    databaseUrl: url(env, "DATABASE_URL", ["postgresql", "postgres"]),
    embeddedPostgresPort: int(env, "EMBEDDED_POSTGRES_PORT", 54329, 1, 65535),
    smtpUrl: url(env, "SMTP_URL", ["smtp", "smtps"]),
    smtpCatcherPort: int(env, "SMTP_CATCHER_PORT", 2525, 0, 65535),
    mailFrom: env.MAIL_FROM || "Checkout <no-reply@checkout.local>",
    sandbox: {
      enabled: bool(env, "SANDBOX_ENABLED", true),
      url: url(env, "SANDBOX_URL"),
      slowMs: int(env, "SANDBOX_SLOW_MS", 3000, 0, 60_000),
      // A development-only default: the sandbox signs and checks its own webhooks with it.
      webhookSecret: env.SANDBOX_WEBHOOK_SECRET || "whsec_sandbox_development",
      webhookUrl: url(env, "SANDBOX_WEBHOOK_URL"),
    },
    paymentRetryWindowSeconds: int(env, "PAYMENT_RETRY_WINDOW_SECONDS", 900, 5),
    refundRetryWindowSeconds: int(env, "REFUND_RETRY_WINDOW_SECONDS", 24 * 3600, 5),
    paymentActionTimeoutSeconds: int(env, "PAYMENT_ACTION_TIMEOUT_SECONDS", 900, 1),
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
    payloadEncryption: loadPayloadEncryption(env),
    codecServer: {
      token: codecToken(env, "CODEC_SERVER_TOKEN"),
      host: env.CODEC_SERVER_HOST || "127.0.0.1",
      port: int(env, "CODEC_SERVER_PORT", 8234, 0, 65535),
      corsOrigins: originList(env, "CODEC_CORS_ORIGINS"),
    },
    workerHealthPort: env.WORKER_HEALTH_PORT ? int(env, "WORKER_HEALTH_PORT", 0, 1, 65535) : undefined,
    env,
  };
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

/** A required setting, for processes that do not start embedded services (worker, api). */
export function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new ConfigError(`Set ${name}: this process does not start an embedded one.`);
  return value;
}
