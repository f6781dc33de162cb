// Turning tracing on (OTEL_EXPORTER_OTLP_ENDPOINT) while checkouts run must not break them: a
// worker with tracing on replays runs that started without it (after a restart, an eviction from
// its cache). The recorded histories (test/histories/) replay with the SDK's OpenTelemetry
// workflow interceptors bundled in, and their sink registered, as wiring.ts sets them up.
import { Resource } from "@opentelemetry/resources";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { makeWorkflowExporter } from "@temporalio/interceptors-opentelemetry";
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from "@temporalio/worker";
import { beforeAll, describe, expect, it } from "vitest";
import { workflowTracingModule } from "../observability/tracing.ts";
import { workflowsPath } from "../wiring.ts";
import { recordedHistories } from "./support/replay-corpus.ts";

const histories = recordedHistories();

Runtime.install({ logger: new DefaultLogger("ERROR") });

const spans = new InMemorySpanExporter();
let code: string;
beforeAll(async () => {
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };
  ({ code } = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [workflowTracingModule], logger: quiet }));
});

describe("recorded histories replay with the tracing interceptors", () => {
  it("has a corpus to replay, and the interceptors in the bundle", () => {
    expect(histories.length).toBeGreaterThan(5);
    expect(code).toContain("RunWorkflow"); // the interceptors' span name for a workflow's run
  });

  it.each(histories)("$file", async ({ file, workflowId, history }) => {
    const exporter = makeWorkflowExporter(new SimpleSpanProcessor(spans), new Resource({ "service.name": "replay" }));
    await Worker.runReplayHistory({ workflowBundle: { code }, replayName: file, sinks: { exporter } }, history, workflowId);
  });

  it("exports nothing while replaying (the spans went out when the run first ran)", () => {
    expect(spans.getFinishedSpans()).toEqual([]);
  });
});
