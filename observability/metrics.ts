// Prometheus metrics, each on a port of its own (WORKER_METRICS_PORT, API_METRICS_PORT, on HOST), not beside the API's
// routes: the worker's are the Temporal SDK's own exporter (workflows, activities, polls, task
// latencies), the API's are its requests (count and latency by method, route pattern, status)
// and the process's (CPU, memory, event loop). Labels never carry ids, keys or customer data:
// the route is its pattern (`/checkouts/:id`), not the path.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { TelemetryOptions } from "@temporalio/worker";
import type { MiddlewareHandler } from "hono";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { freePort } from "../infra/free-port.ts";
import { routeOf } from "./request-log.ts";

export interface WorkerMetrics {
  /** For Runtime.install's telemetryOptions. */
  telemetry: NonNullable<TelemetryOptions["metrics"]>;
  bindAddress: string;
  url: string;
}

/**
 * The SDK's Prometheus exporter on host:port (0: a free port, picked here: the exporter cannot say
 * which one it took). Named as Prometheus names them: counters end in `_total`, durations are
 * in seconds with the unit in the name.
 */
export async function workerMetrics(host: string, port: number): Promise<WorkerMetrics> {
  const bound = port || (await freePort(host));
  const bindAddress = `${host.includes(":") ? `[${host}]` : host}:${bound}`;
  return {
    bindAddress,
    telemetry: {
      prometheus: {
        bindAddress,
        countersTotalSuffix: true,
        unitSuffix: true,
        useSecondsForDurations: true,
      },
    },
    url: metricsUrl(host, bound),
  };
}

export interface ApiMetrics {
  registry: Registry;
  /** Counts and times every request; first in the app, so that what answers before the routes (401, 413, 429) counts too. */
  middleware: MiddlewareHandler;
}

/**
 * The API's request metrics (prom-client). Written here rather than with @hono/prometheus: that one
 * labels a request answered by a middleware (a 401) with the middleware's pattern (`/*`), not
 * its route's.
 */
export function apiMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ["method", "route", "status"] as const;
  const requests = new Counter({
    name: "http_requests_total",
    help: "API requests by method, route pattern and status",
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "API request latency by method, route pattern and status",
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const middleware: MiddlewareHandler = async (c, next) => {
    const stop = duration.startTimer();
    try {
      await next();
    } finally {
      const labels = { method: c.req.method, route: routeOf(c), status: String(c.res.status) };
      stop(labels);
      requests.inc(labels);
    }
  };
  return { registry, middleware };
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** Serves a registry at GET /metrics on host:port (0: any free port), and nothing else. */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: metricsUrl(host, bound),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Where to scrape from this machine: a wildcard bind is reached on loopback. */
function metricsUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}/metrics`;
}
