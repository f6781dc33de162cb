// The parts of observability/ on their own: the settings, what the logger lets through, the
// request line and the request metrics on a small Hono app, and the provider wrapper with tracing off.
import { Hono } from "hono";
import { Registry } from "prom-client";
import { beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../config.ts";
import { logTo, scrub, scrubText, setLogLevel, temporalLogger } from "../../observability/logger.ts";
import { apiMetrics, serveMetrics } from "../../observability/metrics.ts";
import { requestLog } from "../../observability/request-log.ts";
import { tracedGateway } from "../../observability/tracing.ts";
import type { PaymentGateway } from "../../providers/types.ts";

const CHECKOUT = "chk_0123456789abcdef0123456789abcdef";
const lines: Array<Record<string, any>> = [];
logTo({ write: (line) => lines.push(JSON.parse(line)) });
beforeEach(() => {
  lines.length = 0;
  setLogLevel("info");
});

describe("the settings", () => {
  it("serve no metrics and trace nothing unless asked, outside npm start", () => {
    expect(loadConfig({}).observability).toEqual({
      logLevel: "info",
      workerMetricsPort: undefined,
      apiMetricsPort: undefined,
      otlp: undefined,
      serviceName: "checkout",
    });
  });

  it("serve metrics on their own ports under npm start, unless turned off", () => {
    const env = { SANDBOX_WEBHOOK_SECRET: "whsec_unit" };
    expect(loadConfig(env, { embedded: true }).observability).toMatchObject({ workerMetricsPort: 9465, apiMetricsPort: 9464 });
    const off = loadConfig({ ...env, WORKER_METRICS_PORT: "off", API_METRICS_PORT: "0" }, { embedded: true }).observability;
    expect(off).toMatchObject({ workerMetricsPort: undefined, apiMetricsPort: 0 });
  });

  it("name the variable of a bad value", () => {
    expect(() => loadConfig({ WORKER_METRICS_PORT: "metrics" })).toThrow(/WORKER_METRICS_PORT/);
    expect(() => loadConfig({ API_METRICS_PORT: "70000" })).toThrow(/API_METRICS_PORT/);
    expect(() => loadConfig({ LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL must be one of trace, debug/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  it("read the collector's headers, and never echo one that is malformed", () => {
    const otlp = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example.com",
      OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=s3cr%3Dt, x-team = shop",
    }).observability.otlp;
    expect(otlp).toEqual({ endpoint: "https://otel.example.com", headers: { "x-api-key": "s3cr=t", "x-team": "shop" } });
    const malformed = () =>
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example.com", OTEL_EXPORTER_OTLP_HEADERS: "a=b,topsecretvalue" });
    expect(malformed).toThrow(/OTEL_EXPORTER_OTLP_HEADERS .* entry 2/);
    expect(malformed).not.toThrow(/topsecretvalue/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: "a=b" })).toThrow(/set it too/);
  });
});

describe("the logger", () => {
  it("replaces fields named like secrets and cuts secrets out of text", () => {
    const clientSecret = `${CHECKOUT}_secret_AbCdEf0123456789`;
    expect(
      scrub({
        email: "ada@example.com",
        customer: { id: "cus_1", email: "ada@example.com" },
        payment: { provider: "sandbox", token: "tok_approve" },
        taskToken: "Cg…",
        headers: { authorization: "Bearer x", "x-api-key": "k" },
        note: `paid by ada@example.com with sk_${"a".repeat(32)}; see ${clientSecret}; Bearer abc.def; whsec_xyz123`,
        idempotencyKey: `checkout-${CHECKOUT}:payment`,
        keyId: "key_1",
      }),
    ).toEqual({
      email: "[redacted]",
      customer: { id: "cus_1", email: "[redacted]" },
      payment: { provider: "sandbox", token: "[redacted]" },
      taskToken: "[redacted]",
      headers: { authorization: "[redacted]", "x-api-key": "[redacted]" },
      note: `paid by [email] with sk_[redacted]; see ${CHECKOUT}_secret_[redacted]; Bearer [redacted]; whsec_[redacted]`,
      idempotencyKey: `checkout-${CHECKOUT}:payment`,
      keyId: "key_1",
    });
    expect(scrubText("action: PreparedWFT { task_token: TaskToken(CiQwMWEy+/=), attempt: 1 }")).toBe(
      "action: PreparedWFT { task_token: TaskToken([redacted]), attempt: 1 }",
    );
  });

  it("logs errors by name, message and code, scrubbed", () => {
    const err = Object.assign(new Error("no mailbox for ada@example.com"), { code: "EENVELOPE" });
    expect(scrub({ error: err })).toMatchObject({
      error: { name: "Error", message: "no mailbox for [email]", code: "EENVELOPE" },
    });
  });

  it("gives the SDK's lines as JSON with the checkout id of their workflow", () => {
    const sdk = temporalLogger();
    sdk.info("Activity completed for ada@example.com", {
      sdkComponent: "activity",
      workflowId: `event-checkout-${CHECKOUT}-payment.succeeded`,
      activityType: "storeEvent",
      taskToken: "Cg…",
    });
    sdk.warn("Workflow failed", { sdkComponent: "worker", workflowId: `customer-risk-mer_1-cus_1` });
    expect(lines).toEqual([
      expect.objectContaining({
        level: "info",
        msg: "Activity completed for [email]",
        checkoutId: CHECKOUT,
        activityType: "storeEvent",
        taskToken: "[redacted]",
      }),
      expect.not.objectContaining({ checkoutId: expect.anything() }),
    ]);
    expect(typeof lines[0].time).toBe("string");
  });

  it("keeps the SDK's own info lines for debug", () => {
    const sdk = temporalLogger();
    sdk.info("Worker state changed", { sdkComponent: "worker" });
    sdk.info("Initializing worker", { sdkComponent: "core" });
    sdk.info("an activity's own line", { sdkComponent: "activity" });
    expect(lines.map((l) => l.msg)).toEqual(["an activity's own line"]);
    setLogLevel("debug");
    sdk.info("Worker state changed", { sdkComponent: "worker" });
    expect(lines.map((l) => l.msg)).toContain("Worker state changed");
  });
});

describe("a request", () => {
  /** A small app shaped like the API's: the request line and metrics first, then a key check, then routes. */
  const app = () => {
    const metrics = apiMetrics();
    const hono = new Hono();
    hono.use("*", requestLog());
    hono.use("*", metrics.middleware);
    hono.use("*", async (c, next) => (c.req.header("authorization") ? next() : c.json({ error: "key" }, 401)));
    hono.get("/checkouts/:id", (c) => c.json({ id: c.req.param("id") }));
    hono.post("/checkouts", (c) => c.json({}, 202));
    return { hono, registry: metrics.registry };
  };
  const authorized = { headers: { authorization: "Bearer sk_test" } };

  it("is one line with its route pattern, status and checkout, and no query", async () => {
    const { hono } = app();
    const res = await hono.request(`/checkouts/${CHECKOUT}?client_secret=${CHECKOUT}_secret_abcdef`, authorized);
    expect(res.status).toBe(200);
    expect(lines).toEqual([
      expect.objectContaining({ msg: "request", method: "GET", route: "/checkouts/:id", status: 200, checkoutId: CHECKOUT }),
    ]);
    expect(typeof lines[0].durationMs).toBe("number");
    expect(JSON.stringify(lines)).not.toContain("secret");
  });

  it("is counted by route pattern, even when a middleware answers it, and never by id", async () => {
    const { hono, registry } = app();
    await hono.request(`/checkouts/${CHECKOUT}`, authorized);
    await hono.request(`/checkouts/${CHECKOUT}`);
    await hono.request("/checkouts", { method: "POST", ...authorized });
    await hono.request(`/no/such/${CHECKOUT}`, authorized);
    const counts = (await registry.getSingleMetric("http_requests_total")!.get()).values.map((v) => ({
      ...v.labels,
      value: v.value,
    }));
    expect(counts).toEqual(
      expect.arrayContaining([
        { method: "GET", route: "/checkouts/:id", status: "200", value: 1 },
        { method: "GET", route: "/checkouts/:id", status: "401", value: 1 },
        { method: "POST", route: "/checkouts", status: "202", value: 1 },
        { method: "GET", route: "*", status: "404", value: 1 },
      ]),
    );
    expect(await registry.metrics()).not.toContain(CHECKOUT);
  });
});

describe("the metrics server", () => {
  it("answers GET /metrics with the registry, and nothing else", async () => {
    const registry = new Registry();
    const server = await serveMetrics(registry, "127.0.0.1", 0);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(registry.contentType);
      expect((await fetch(server.url.replace("/metrics", "/"))).status).toBe(404);
      expect((await fetch(server.url, { method: "POST" })).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe("a provider, with tracing off", () => {
  class Adapter {
    readonly provider = "fake";
    readonly searchLagSeconds = 0;
    readonly keyRetentionSeconds = Number.POSITIVE_INFINITY;
    #calls = 0;
    async charge() {
      this.#calls++;
      return { status: "succeeded", reference: `ch_${this.#calls}` };
    }
    calls() {
      return this.#calls;
    }
  }

  it("is called as it is, its own fields and methods intact", async () => {
    const adapter = new Adapter();
    const gateway = tracedGateway(adapter as unknown as PaymentGateway);
    expect(await gateway.charge({} as never)).toEqual({ status: "succeeded", reference: "ch_1" });
    expect((gateway as unknown as Adapter).calls()).toBe(1);
    expect(gateway.provider).toBe("fake");
    expect(gateway.findRefund).toBeUndefined();
  });
});
