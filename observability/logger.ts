// The one logger: JSON lines on stdout (pino), each with the checkout id where there is one
// (from the request or workflow it belongs to), and the trace it belongs to while tracing.
// Secrets and customer data are scrubbed here, whatever a caller hands in: fields named like a
// secret or an email are replaced, and emails, API keys, client secrets and bearer tokens are cut
// out of every string, the message included.
import { AsyncLocalStorage } from "node:async_hooks";
import { trace } from "@opentelemetry/api";
import type { LogMetadata, Logger as SdkLogger, LogLevel as SdkLogLevel } from "@temporalio/common";
import { pino } from "pino";
import type { LogLevel } from "../config.ts";

export type LogFields = Record<string, unknown>;

interface Destination {
  write(line: string): void;
}

const context = new AsyncLocalStorage<LogFields>();

function createRoot(level: LogLevel, destination?: Destination) {
  return pino(
    {
      level,
      base: undefined,
      messageKey: "msg",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => scrub(fields) as LogFields,
      },
      // The request's or workflow's fields, then the active span's ids (absent without tracing).
      mixin: () => ({ ...context.getStore(), ...traceIds() }),
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => (typeof arg === "string" ? scrubText(arg) : arg)) as Parameters<typeof method>);
        },
      },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

let root = createRoot("info");

/** The threshold, once per process (config.ts's LOG_LEVEL); keeps where lines go. */
export function setLogLevel(level: LogLevel): void {
  root.level = level;
}

/** Sends the lines elsewhere (a test reads them); the level stays. */
export function logTo(destination: Destination): void {
  root = createRoot(root.level as LogLevel, destination);
}

export const logLevelEnabled = (level: LogLevel) => level !== "silent" && root.isLevelEnabled(level);

const write =
  (level: "trace" | "debug" | "info" | "warn" | "error") =>
  (msg: string, fields: LogFields = {}) =>
    root[level](fields, msg);

export const log = {
  trace: write("trace"),
  debug: write("debug"),
  info: write("info"),
  warn: write("warn"),
  error: write("error"),
};

/** Runs `fn` with these fields on every line it logs (a request's, say), nested contexts adding theirs. */
export function withLogFields<T>(fields: LogFields, fn: () => T): T {
  return context.run({ ...context.getStore(), ...fields }, fn);
}

/** Adds fields to the current context's lines from here on (the checkout id once it is known). */
export function addLogFields(fields: LogFields): void {
  const store = context.getStore();
  if (store) Object.assign(store, fields);
}

function traceIds(): LogFields {
  const span = trace.getActiveSpan()?.spanContext();
  return span ? { trace_id: span.traceId, span_id: span.spanId } : {};
}

const CHECKOUT_ID = /chk_[a-f0-9]{32}/;

/** The checkout id in a workflow id (`checkout-chk_…`, `refund-chk_…-…`, `event-checkout-chk_…-…`). */
export function checkoutIdIn(text: unknown): string | undefined {
  return typeof text === "string" ? CHECKOUT_ID.exec(text)?.[0] : undefined;
}

/**
 * The Temporal SDK's logger (Runtime.install): its own lines, the workflows' and the activities'
 * (`log` from @temporalio/workflow and @temporalio/activity), as JSON with the checkout id of the
 * workflow they belong to. The SDK's own components (worker, core) show from `warn`, unless the
 * level is `debug` or `trace`: their info lines are about the SDK, not about checkouts.
 */
export function temporalLogger(): SdkLogger {
  const levels: Record<SdkLogLevel, "trace" | "debug" | "info" | "warn" | "error"> = {
    TRACE: "trace",
    DEBUG: "debug",
    INFO: "info",
    WARN: "warn",
    ERROR: "error",
  };
  const sdkOwn = new Set(["worker", "core"]);
  const emit = (level: SdkLogLevel, message: string, meta: LogMetadata = {}) => {
    const to = levels[level];
    if (sdkOwn.has(meta.sdkComponent) && (to === "info" || to === "trace") && !logLevelEnabled("debug")) return;
    const checkoutId = checkoutIdIn(meta.workflowId);
    log[to](message, checkoutId ? { checkoutId, ...meta } : meta);
  };
  return {
    log: emit,
    trace: (message, meta) => emit("TRACE", message, meta),
    debug: (message, meta) => emit("DEBUG", message, meta),
    info: (message, meta) => emit("INFO", message, meta),
    warn: (message, meta) => emit("WARN", message, meta),
    error: (message, meta) => emit("ERROR", message, meta),
  };
}

// Field names whose values never reach a log: credentials, payment tokens, customer emails, and
// the activity task token (it completes the activity).
const SECRET_FIELD = /email|token|secret|password|passwd|authorization|cookie|api[_-]?key|^key$|card/i;
const SECRET_TEXT: Array<[RegExp, string]> = [
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, "[email]"],
  [/\b(sk|pk)_[A-Za-z0-9_-]{16,}/g, "$1_[redacted]"],
  [/_secret_[A-Za-z0-9_-]+/g, "_secret_[redacted]"],
  [/\bwhsec_[A-Za-z0-9_+/=-]+/g, "whsec_[redacted]"],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, "$1 [redacted]"],
  // Core's debug lines print whole tasks, their tokens with them.
  [/TaskToken\([A-Za-z0-9+/=_-]*\)/g, "TaskToken([redacted])"],
];

export function scrubText(text: string): string {
  return SECRET_TEXT.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}

/** A copy of `value` fit to log: secrets out, errors as name, message, code and stack. */
export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return scrubText(value);
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return value;
  if (depth > 6) return "[…]";
  if (value instanceof Error) {
    const { code } = value as { code?: unknown };
    return scrub(
      { name: value.name, message: value.message, ...(code === undefined ? {} : { code }), stack: value.stack },
      depth + 1,
    );
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, SECRET_FIELD.test(key) ? "[redacted]" : scrub(item, depth + 1)]),
  );
}
