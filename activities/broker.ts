// Events to a message broker: NATS JetStream. Each event goes to `<prefix>.<type>` (by default
// `checkout.events.payment.succeeded` and so on) with the webhook body `{id, type, created_at, data}`
// and the event id as its JetStream message id, so a retried publish within the stream's duplicate
// window is stored once. The publish waits for JetStream's acknowledgement: no ack (broker down, no
// stream capturing the subject, a timeout) throws, and the publishToBroker activity retries.
//
// Client: `nats` 2.29.3 rather than the newer split packages (@nats-io/transport-node and
// @nats-io/jetstream 3.4.0). Both publish and de-duplicate fine on Node 20 against the local
// server, but 3.4.0 depends on @nats-io/nuid 3.0.0, which declares `engines: node >= 22`: on this
// project's Node 20 (engines >=20.19, the node:20 image) every install warns EBADENGINE, an
// engine-strict install fails, and the line no longer promises to run on Node 20. `nats` 2.29.3
// declares Node >= 14, has one small dependency (nkeys.js), and has the same JetStream API
// (publish with msgID, PubAck.duplicate, stream management); moving to v3 later is mechanical.
import { existsSync, readFileSync } from "node:fs";
import {
  type ConnectionOptions,
  connect,
  credsAuthenticator,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
  nanos,
  RetentionPolicy,
  StorageType,
} from "nats";
import { ConfigError } from "../config.ts";
import type { CheckoutEvent } from "../workflows/types.ts";
import type { EventPublisher } from "./events.ts";

export const DEFAULT_STREAM = "CHECKOUT_EVENTS";
export const DEFAULT_SUBJECT_PREFIX = "checkout.events";
const DAY_MS = 24 * 60 * 60 * 1000;

export interface NatsPublisherOptions {
  /** The JetStream stream; created (capturing `<subjectPrefix>.>`) when missing. */
  stream?: string;
  /** Subjects are `<subjectPrefix>.<event type>`. */
  subjectPrefix?: string;
  /** How long JetStream remembers a message id, for a stream this publisher creates (default 24 h). */
  duplicateWindowMs?: number;
  /** How long a publish waits for its acknowledgement (default 5 s). */
  ackTimeoutMs?: number;
  /** How long connecting may take (default 5 s). */
  connectTimeoutMs?: number;
  /** TLS and credentials for a broker that asks for them (natsSecurity). */
  security?: Pick<ConnectionOptions, "tls" | "authenticator">;
}

/**
 * A production broker's TLS and credentials, from the environment: EVENTS_TLS_CA (the server's CA,
 * PEM file; TLS is then required), EVENTS_TLS_CERT and EVENTS_TLS_KEY (a client certificate, both
 * or neither), EVENTS_TLS=true (TLS with the system's CAs), EVENTS_CREDS (a NATS .creds file: a
 * user JWT and its NKey seed). User and password or a token go in EVENTS_URL.
 */
export function natsSecurity(env: Record<string, string | undefined>): Pick<ConnectionOptions, "tls" | "authenticator"> {
  const [caFile, certFile, keyFile, creds] = [env.EVENTS_TLS_CA, env.EVENTS_TLS_CERT, env.EVENTS_TLS_KEY, env.EVENTS_CREDS];
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new ConfigError("Set both EVENTS_TLS_CERT and EVENTS_TLS_KEY for a client certificate, or neither.");
  }
  for (const [name, file] of Object.entries({
    EVENTS_TLS_CA: caFile,
    EVENTS_TLS_CERT: certFile,
    EVENTS_TLS_KEY: keyFile,
    EVENTS_CREDS: creds,
  })) {
    if (file && !existsSync(file)) throw new ConfigError(`${name}: no file ${file}.`);
  }
  const tlsWanted = env.EVENTS_TLS === "true" || Boolean(caFile || certFile);
  return {
    ...(tlsWanted ? { tls: { ...(caFile ? { caFile } : {}), ...(certFile && keyFile ? { certFile, keyFile } : {}) } } : {}),
    ...(creds ? { authenticator: credsAuthenticator(readFileSync(creds)) } : {}),
  };
}

/** `nats://[user[:pass]@]host[:port]` as NATS connection options; a user without a password is a token. */
export function parseEventsUrl(url: string): Pick<ConnectionOptions, "servers" | "user" | "pass" | "token"> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`not a URL: "${redact(url)}"`);
  }
  if (parsed.protocol !== "nats:") throw new Error(`not a nats:// URL: "${redact(url)}"`);
  if (!parsed.hostname) throw new Error(`no host in "${redact(url)}"`);
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  return {
    servers: `${parsed.hostname}:${parsed.port || 4222}`,
    ...(user && pass ? { user, pass } : user ? { token: user } : {}),
  };
}

export function eventSubject(type: string, subjectPrefix = DEFAULT_SUBJECT_PREFIX): string {
  return `${subjectPrefix}.${type}`;
}

/** The message body: the same JSON the webhook subscribers receive. */
export function eventMessage(event: CheckoutEvent): string {
  return JSON.stringify({ id: event.id, type: event.type, created_at: event.createdAt, data: event.data });
}

/** A publisher that connects on its first publish (and again after its connection closes). */
export function createNatsPublisher(url: string, options: NatsPublisherOptions = {}): EventPublisher {
  const connection = parseEventsUrl(url);
  const stream = options.stream ?? DEFAULT_STREAM;
  const subjectPrefix = options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
  const duplicateWindowMs = options.duplicateWindowMs ?? DAY_MS;
  const ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
  const encoder = new TextEncoder();
  let ready: Promise<Connected> | undefined;
  let closed = false;

  async function open(): Promise<Connected> {
    const nc = await connect({
      ...connection,
      ...options.security,
      name: "checkout-worker",
      timeout: options.connectTimeoutMs ?? 5_000,
      maxReconnectAttempts: -1, // ride out broker restarts; publishes meanwhile time out and are retried
    });
    try {
      return { nc, js: nc.jetstream(), jsm: await nc.jetstreamManager() };
    } catch (err) {
      await nc.close().catch(() => {});
      throw err;
    }
  }

  /** Creates the stream when it is missing; a stream that exists is left as its operator set it. */
  async function ensureStream(jsm: JetStreamManager) {
    try {
      await jsm.streams.info(stream);
      return;
    } catch (err) {
      if (apiErrorCode(err) !== 10059) throw err; // 10059: stream not found
    }
    try {
      await jsm.streams.add({
        name: stream,
        subjects: [`${subjectPrefix}.>`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        duplicate_window: nanos(duplicateWindowMs),
      });
    } catch (err) {
      if (apiErrorCode(err) !== 10058) throw err; // 10058: another worker created it meanwhile
    }
  }

  async function connected(): Promise<Connected> {
    for (;;) {
      if (closed) throw new Error("the event publisher is closed");
      const pending = ready;
      if (!pending) break;
      const current = await pending.catch(() => undefined);
      if (current && !current.nc.isClosed()) return current;
      if (ready === pending) {
        ready = undefined; // failed or closed for good: connect again
        break;
      }
    }
    const attempt = open();
    ready = attempt;
    const current = await attempt.catch((err) => {
      if (ready === attempt) ready = undefined; // the next publish tries again
      throw err;
    });
    if (closed) {
      await current.nc.close().catch(() => {});
      throw new Error("the event publisher is closed");
    }
    return current;
  }

  return {
    async publish(event) {
      const subject = eventSubject(event.type, subjectPrefix);
      let current: Connected | undefined;
      try {
        current = await connected();
        current.streamChecked ??= ensureStream(current.jsm);
        await current.streamChecked;
        // No ack (timeout, no stream for the subject, another stream) throws; the activity retries
        // with the same msgID, and JetStream stores the event once.
        await current.js.publish(subject, encoder.encode(eventMessage(event)), {
          msgID: event.id,
          timeout: ackTimeoutMs,
          expect: { streamName: stream },
        });
      } catch (err) {
        // Look at the stream again next time: it may have been deleted (then it is created again).
        if (current) current.streamChecked = undefined;
        throw new Error(`could not publish ${event.id} to ${subject} (stream ${stream}): ${(err as Error).message}`, {
          cause: err,
        });
      }
    },

    async close() {
      closed = true;
      const current = await ready?.catch(() => undefined);
      ready = undefined;
      if (current && !current.nc.isClosed()) await current.nc.drain().catch(() => current.nc.close());
    },
  };
}

interface Connected {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Settles once the stream is known to exist (per connection; reset after a failed publish). */
  streamChecked?: Promise<void>;
}

function apiErrorCode(err: unknown): number | undefined {
  return (err as { api_error?: { err_code?: number } } | undefined)?.api_error?.err_code;
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
