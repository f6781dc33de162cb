// Metrics, traces and logs of real checkouts on the real stack: the worker's (Temporal SDK) and the
// API's Prometheus endpoints are scraped over HTTP before and after; a real OTLP/HTTP receiver
// gets the spans, and one checkout's make one trace from the HTTP request to the provider call;
// the JSON log lines of the checkout all carry its id, and no secret.
import { Worker } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { logTo } from "../observability/logger.ts";
import { activeTracing } from "../observability/tracing.ts";
import { dataConverter } from "../wiring.ts";
import { call, startCheckout, until, validCheckout, waitForCheckout } from "./support/http.ts";
import { type OtlpCollector, type ReceivedSpan, startOtlpCollector } from "./support/otlp-collector.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let stack: TestStack;
let collector: OtlpCollector;
const lines: string[] = [];

beforeAll(async () => {
  collector = await startOtlpCollector();
  // Before the stack: this process's JSON log lines come here, at the level the stack sets.
  logTo({ write: (line) => lines.push(line) });
  stack = await startTestStack({
    env: {
      WORKER_METRICS_PORT: "0",
      API_METRICS_PORT: "0",
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: "checkout-test",
      // The SDK's debug lines ("Workflow started", "Activity completed") show its loggers at work.
      LOG_LEVEL: "debug",
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await collector?.close();
});

/** The sum of a metric's samples whose labels include `labels` (0 when there is none yet). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  return total;
}

async function scrape(url: string | undefined): Promise<string> {
  expect(url, "the stack serves these metrics").toBeDefined();
  const res = await fetch(url!);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
  return res.text();
}

describe("metrics", () => {
  it("the worker's and the API's counters move with a checkout", async () => {
    const workflow = { task_queue: stack.taskQueue, workflow_type: "checkout" };
    const posted = { method: "POST", route: "/checkouts", status: "202" };
    const workerBefore = await scrape(stack.metricsUrls.worker);
    const apiBefore = await scrape(stack.metricsUrls.api);

    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    expect((await waitForCheckout(stack.url, id)).status).toBe("COMPLETED");

    const completedBefore = sample(workerBefore, "temporal_workflow_completed_total", workflow);
    const worker = await until(async () => {
      const text = await scrape(stack.metricsUrls.worker);
      return sample(text, "temporal_workflow_completed_total", workflow) > completedBefore ? text : undefined;
    });
    // Executions of each step, as an activity or a local one (createOrder).
    const executions = (text: string, activity: string) =>
      ["temporal_activity_execution_latency_seconds_count", "temporal_local_activity_execution_latency_seconds_count"]
        .map((name) => sample(text, name, { task_queue: stack.taskQueue, activity_type: activity }))
        .reduce((a, b) => a + b);
    for (const activity of ["createOrder", "initiatePayment", "sendNotification"]) {
      expect(executions(worker, activity), `${activity} executions`).toBeGreaterThan(executions(workerBefore, activity));
    }

    const api = await scrape(stack.metricsUrls.api);
    expect(sample(api, "http_requests_total", posted)).toBe(sample(apiBefore, "http_requests_total", posted) + 1);
    expect(sample(api, "http_request_duration_seconds_count", posted)).toBe(
      sample(apiBefore, "http_request_duration_seconds_count", posted) + 1,
    );
    // Reads of the checkout are counted under the route's pattern, never its id.
    expect(sample(api, "http_requests_total", { method: "GET", route: "/checkouts/:id", status: "200" })).toBeGreaterThan(0);
    expect(api).not.toContain(id);
  });

  it("counts what a middleware answers under the route it was for", async () => {
    const unauthenticated = { method: "POST", route: "/checkouts", status: "401" };
    const before = sample(await scrape(stack.metricsUrls.api), "http_requests_total", unauthenticated);
    expect((await call(stack.url, "POST", "/checkouts", validCheckout(), { authorization: "" })).status).toBe(401);
    expect(sample(await scrape(stack.metricsUrls.api), "http_requests_total", unauthenticated)).toBe(before + 1);
  });

  it("serves nothing but /metrics on the metrics ports", async () => {
    const api = new URL(stack.metricsUrls.api!);
    expect((await fetch(new URL("/checkouts", api))).status).toBe(404);
  });
});

describe("traces", () => {
  /** The spans received so far of the trace that holds the POST /checkouts of this checkout. */
  const traceOf = (id: string): ReceivedSpan[] => {
    const request = collector.spans.find((s) => s.name === "POST /checkouts" && s.attributes["checkout.id"] === id);
    return request ? collector.spans.filter((s) => s.traceId === request.traceId) : [];
  };

  it("follow one checkout from the HTTP request through the workflow into each activity and the provider call", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    expect((await waitForCheckout(stack.url, id)).status).toBe("COMPLETED");

    const expected = [
      "POST /checkouts",
      "StartWorkflow:checkout",
      "RunWorkflow:checkout",
      "StartActivity:createOrder",
      "RunActivity:createOrder",
      "StartActivity:initiatePayment",
      "RunActivity:initiatePayment",
      "sandbox.charge",
      "RunActivity:sendNotification",
    ];
    const spans = await until(async () => {
      await activeTracing()?.forceFlush();
      const found = traceOf(id);
      return expected.every((name) => found.some((s) => s.name === name)) ? found : undefined;
    });
    const named = (name: string) => spans.find((s) => s.name === name)!;
    const parentOf = (name: string) => spans.find((s) => s.spanId === named(name).parentSpanId)?.name;
    // Each step is the child of the one that caused it.
    expect(parentOf("StartWorkflow:checkout")).toBe("POST /checkouts");
    expect(parentOf("RunWorkflow:checkout")).toBe("StartWorkflow:checkout");
    expect(parentOf("StartActivity:initiatePayment")).toBe("RunWorkflow:checkout");
    expect(parentOf("RunActivity:initiatePayment")).toBe("StartActivity:initiatePayment");
    expect(parentOf("sandbox.charge")).toBe("RunActivity:initiatePayment");
    expect(named("sandbox.charge").attributes).toMatchObject({ "payment.provider": "sandbox", "payment.operation": "charge" });
    expect(named("POST /checkouts").attributes).toMatchObject({ "http.route": "/checkouts", "http.response.status_code": 202 });
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(["checkout-test"]));
    expect(collector.refused).toEqual([]);
  });

  it("leave no trace in the workflow's commands: a traced run replays without the interceptors", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    expect((await waitForCheckout(stack.url, id)).status).toBe("COMPLETED");
    const workflowId = `checkout-${id}`;
    const history = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
    // The run's own bundle, built without them (test/global-setup.ts), as a worker with tracing off runs.
    const replay = { workflowBundle: { codePath: inject("workflowBundlePath") }, dataConverter: dataConverter(stack.codec) };
    await Worker.runReplayHistory(replay, history, workflowId);
  });

  it("never carry a client secret from a query string", async () => {
    const started = await call(stack.url, "POST", "/checkouts", validCheckout("tok_approve"));
    expect(started.status).toBe(202);
    const { id, clientSecret } = started.json;
    const path = `/checkouts/${id}?client_secret=${encodeURIComponent(clientSecret)}`;
    expect((await call(stack.url, "GET", path, undefined, { authorization: `Bearer ${stack.publishableKey}` })).status).toBe(200);

    const read = await until(async () => {
      await activeTracing()?.forceFlush();
      return collector.spans.find((s) => s.name === "GET /checkouts/:id" && s.attributes["checkout.id"] === id);
    });
    expect(read.attributes["url.full"]).toBe(`${stack.url}/checkouts/${id}`);
    expect(JSON.stringify(collector.spans)).not.toContain(clientSecret.split("_secret_")[1]);
  });
});

describe("logs", () => {
  it("are JSON lines, each of a checkout's carrying its id, with no secret", async () => {
    const started = await call(stack.url, "POST", "/checkouts", validCheckout("tok_approve"));
    expect(started.status).toBe(202);
    const { id, clientSecret } = started.json;
    expect((await waitForCheckout(stack.url, id)).status).toBe("COMPLETED");

    const parsed = () => lines.map((line) => JSON.parse(line));
    const activityDone = (l: any) => l.msg === "Activity completed" && l.activityType === "sendNotification";
    const entries = await until(() => {
      const all = parsed();
      return all.some((l) => l.workflowId === `checkout-${id}` && activityDone(l)) ? all : undefined;
    });
    expect(entries.every((l) => typeof l.level === "string" && typeof l.time === "string" && typeof l.msg === "string")).toBe(
      true,
    );

    // Whatever belongs to the checkout (its workflows, their activities, its requests) names it.
    const ofCheckout = entries.filter((l) => String(l.workflowId ?? "").includes(id));
    expect(ofCheckout.length).toBeGreaterThan(0);
    expect(ofCheckout.filter((l) => l.checkoutId !== id)).toEqual([]);
    const mine = entries.filter((l) => l.checkoutId === id);
    expect(mine.find((l) => l.msg === "request" && l.method === "POST")).toMatchObject({ route: "/checkouts", status: 202 });
    expect(mine.find((l) => l.msg === "request" && l.method === "GET")).toMatchObject({ route: "/checkouts/:id" });
    expect(mine.some((l) => l.msg === "Workflow started" && l.workflowType === "checkout")).toBe(true);
    expect(mine.some((l) => activityDone(l))).toBe(true);
    // Trace ids tie a line to its span while tracing.
    expect(mine.find((l) => l.msg === "request" && l.method === "POST")?.trace_id).toMatch(/^[0-9a-f]{32}$/);

    const text = lines.join("");
    for (const secret of [stack.secretKey, stack.publishableKey, clientSecret, "ada@example.com"]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/"taskToken":"(?!\[redacted\])/);
  });
});
