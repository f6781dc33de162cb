// OpenTelemetry traces, only when OTEL_EXPORTER_OTLP_ENDPOINT is set (otherwise nothing here is
// installed and nothing is traced). One trace follows a checkout: the API's request span, the
// Temporal client's StartWorkflow (its context travels in the workflow's headers), the workflow's
// RunWorkflow and each StartActivity in the workflow sandbox (exported through a sink), each
// RunActivity on the worker, and a span around each payment provider call. Spans go out over
// OTLP/HTTP (JSON) in batches.
import { createRequire } from "node:module";
import { httpInstrumentationMiddleware } from "@hono/otel";
import { DiagLogLevel, diag, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { Resource } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider, type Span, type SpanProcessor } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME, ATTR_URL_FULL } from "@opentelemetry/semantic-conventions";
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from "@temporalio/interceptors-opentelemetry";
import type { WorkerOptions } from "@temporalio/worker";
import type { MiddlewareHandler } from "hono";
import type { ObservabilitySettings } from "../config.ts";
import type { PaymentGateway } from "../providers/types.ts";
import { log, scrubText } from "./logger.ts";
import { routeOf } from "./request-log.ts";

/** The package's own workflow interceptors, bundled into the workflow code when tracing is on. */
export const workflowTracingModule = createRequire(import.meta.url).resolve(
  "@temporalio/interceptors-opentelemetry/lib/workflow-interceptors",
);

export interface Tracing {
  endpoint: string;
  /** Sends what is buffered now (a test's collector, a stop). */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

interface ActiveTracing extends Tracing {
  resource: Resource;
  processor: SpanProcessor;
}

let active: ActiveTracing | undefined;

/**
 * Installs the process's tracer (once: OpenTelemetry's is global) when an OTLP endpoint is set;
 * undefined otherwise. A second call with another endpoint is refused.
 */
export function startTracing(settings: ObservabilitySettings): Tracing | undefined {
  const { otlp } = settings;
  if (!otlp) return undefined;
  if (active) {
    if (active.endpoint !== otlp.endpoint) {
      throw new Error(`tracing already goes to ${active.endpoint} in this process; one OTEL_EXPORTER_OTLP_ENDPOINT per process`);
    }
    return active;
  }
  // A collector that does not answer costs spans, never a checkout: it is said in the logs.
  const say = (message: string, ...details: unknown[]) =>
    log.warn(`OpenTelemetry: ${message}`, details.length ? { details } : {});
  const quiet = () => {};
  diag.setLogger({ error: say, warn: say, info: quiet, debug: quiet, verbose: quiet }, DiagLogLevel.WARN);
  const resource = Resource.default().merge(new Resource({ [ATTR_SERVICE_NAME]: settings.serviceName }));
  const exporter = new OTLPTraceExporter({ url: `${otlp.endpoint.replace(/\/+$/, "")}/v1/traces`, headers: otlp.headers });
  const processor = new BatchSpanProcessor(exporter);
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new QueryStringsOut(), processor] });
  provider.register(); // the global tracer, the async-hooks context and the W3C propagator
  active = {
    endpoint: otlp.endpoint,
    resource,
    processor,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
  return active;
}

/** The process's tracing, when startTracing installed it. */
export const activeTracing = (): Tracing | undefined => active;

/** For a Temporal client: its workflow starts, signals and updates carry the caller's span. */
export function clientTracingInterceptors() {
  return active ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}

/** For Worker.create: the workflow interceptors (bundled), their span sink, and the activities' spans. */
export function workerTracingOptions(): Pick<WorkerOptions, "interceptors" | "sinks"> {
  if (!active) return {};
  return {
    interceptors: {
      workflowModules: [workflowTracingModule],
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx), // trace ids on the activity's log lines
        }),
      ],
      // What activities start through Context.current().client continues the trace too.
      client: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
    },
    sinks: { exporter: makeWorkflowExporter(active.processor, active.resource) },
  };
}

/** The API's request span (kind server, named by route pattern), parent of what the request does. */
export function httpTracing(): MiddlewareHandler | undefined {
  if (!active) return undefined;
  return httpInstrumentationMiddleware({
    captureActiveRequests: false,
    spanNameFactory: (c) => `${c.req.method} ${routeOf(c)}`,
  });
}

/**
 * Spans each call of a payment provider's adapter (`sandbox.charge`, `stripe.refund`, …), child
 * of the activity (or request) that made it, whatever the adapter speaks (fetch, Stripe's SDK).
 * Checks at each call whether tracing is on: nothing is done when it is not.
 */
export function tracedGateway(gateway: PaymentGateway): PaymentGateway {
  const operations = new Set<string | symbol>(["charge", "reconcile", "refund", "findRefund", "cancel", "verifyWebhook"]);
  return new Proxy(gateway, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      const call = value as (...args: unknown[]) => Promise<unknown>;
      if (!operations.has(property)) return call.bind(target);
      return (...args: unknown[]) =>
        active ? providerSpan(target.provider, String(property), () => call.apply(target, args)) : call.apply(target, args);
    },
  });
}

function providerSpan<T>(provider: string, operation: string, fn: () => Promise<T>): Promise<T> {
  const tracer = trace.getTracer("checkout");
  const attributes = { "payment.provider": provider, "payment.operation": operation };
  return tracer.startActiveSpan(`${provider}.${operation}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await fn();
    } catch (err) {
      // The name and a scrubbed message: a provider's answer may quote what it was sent.
      span.setAttribute("error.type", (err as Error)?.name ?? "Error");
      span.setStatus({ code: SpanStatusCode.ERROR, message: scrubText(String((err as Error)?.message ?? err)) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The query string never leaves in a span: a client secret may be in it (`?client_secret=`). */
class QueryStringsOut implements SpanProcessor {
  onStart(span: Span): void {
    const full = span.attributes[ATTR_URL_FULL];
    if (typeof full === "string" && full.includes("?")) span.setAttribute(ATTR_URL_FULL, full.split("?")[0]);
  }
  onEnd(): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
