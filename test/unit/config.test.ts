import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, type Env, loadConfig, projectRoot, required } from "../../config.ts";
import { createGatewayRegistry } from "../../providers/index.ts";

describe("loadConfig", () => {
  it("has defaults for everything when the environment is empty", () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe("127.0.0.1");
    expect(config.sandbox.enabled).toBe(false);
    expect(config.sandbox.url).toBeUndefined();
    expect(config.paymentRetryWindowSeconds).toBe(900);
    expect(config.temporal.taskQueue).toBe("checkout");
    expect(config.temporal.namespace).toBe("default");
    expect(config.temporal.address).toBeUndefined();
    expect(config.databaseUrl).toBeUndefined();
    expect(config.smtpUrl).toBeUndefined();
    expect(config.dataDir).toBe(path.join(projectRoot, ".data"));
  });

  it("treats empty values as unset", () => {
    const { env: _given, ...fromEmpty } = loadConfig({
      PORT: "",
      SANDBOX_ENABLED: "",
      DATABASE_URL: "",
      TEMPORAL_TASK_QUEUE: "",
    });
    const { env: _none, ...defaults } = loadConfig({});
    expect(fromEmpty).toEqual(defaults);
  });

  it("reads the values it is given", () => {
    const config = loadConfig({
      PORT: "8080",
      SANDBOX_ENABLED: "false",
      DATABASE_URL: "postgresql://u:p@db:5432/checkout",
      TEMPORAL_TASK_QUEUE: "payments",
      PAYMENT_RETRY_WINDOW_SECONDS: "60",
    });
    expect(config.port).toBe(8080);
    expect(config.sandbox.enabled).toBe(false);
    expect(config.databaseUrl).toBe("postgresql://u:p@db:5432/checkout");
    expect(config.temporal.taskQueue).toBe("payments");
    expect(config.paymentRetryWindowSeconds).toBe(60);
  });

  it("reads the risk thresholds, with 5 declines in an hour holding for 15 minutes by default; 0 turns holds off", () => {
    expect(loadConfig({}).risk).toEqual({ maxFailedPayments: 5, windowSeconds: 3600, holdSeconds: 900 });
    expect(loadConfig({ RISK_MAX_FAILED_PAYMENTS: "2", RISK_WINDOW_SECONDS: "60", RISK_HOLD_SECONDS: "4" }).risk).toEqual({
      maxFailedPayments: 2,
      windowSeconds: 60,
      holdSeconds: 4,
    });
    expect(loadConfig({ RISK_MAX_FAILED_PAYMENTS: "0" }).risk.maxFailedPayments).toBe(0);
  });

  it("archives closed checkouts every minute, 200 runs a batch at most, unless told otherwise", () => {
    expect(loadConfig({}).archive).toEqual({ intervalSeconds: 60, batchSize: 200 });
    expect(loadConfig({ ARCHIVE_INTERVAL_SECONDS: "2", ARCHIVE_BATCH_SIZE: "5" }).archive).toEqual({
      intervalSeconds: 2,
      batchSize: 5,
    });
  });

  it("keeps webhooks to https and public addresses unless told otherwise; npm start's development defaults allow local ones", () => {
    expect(loadConfig({}).webhooks).toEqual({
      secretKey: undefined,
      allowHttp: false,
      allowPrivateTargets: false,
      rotationGraceSeconds: 86400,
      maxEndpoints: 100,
      fanoutBatchSize: 100,
    });
    const embedded = { SANDBOX_ENABLED: "false" }; // no sandbox secret written into the project's .data
    expect(loadConfig(embedded, { embedded: true }).webhooks).toMatchObject({ allowHttp: true, allowPrivateTargets: true });
    const strict = { ...embedded, WEBHOOK_ALLOW_HTTP: "false", WEBHOOK_ALLOW_PRIVATE_TARGETS: "false" };
    expect(loadConfig(strict, { embedded: true }).webhooks).toMatchObject({ allowHttp: false, allowPrivateTargets: false });
    const production = { ...embedded, NODE_ENV: "production" };
    expect(loadConfig(production, { embedded: true }).webhooks).toMatchObject({ allowHttp: false, allowPrivateTargets: false });
    expect(() => loadConfig({ ...production, WEBHOOK_ALLOW_HTTP: "true" })).toThrow(
      /WEBHOOK_ALLOW_HTTP must be false with NODE_ENV=production/,
    );
    expect(() => loadConfig({ ...production, WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" })).toThrow(/WEBHOOK_ALLOW_PRIVATE_TARGETS/);
    const key = Buffer.alloc(32, 7);
    expect(loadConfig({ WEBHOOK_SECRET_KEY: key.toString("base64") }).webhooks.secretKey).toEqual(key);
  });

  it("refuses a WEBHOOK_SECRET_KEY that is not 32 bytes without repeating it", () => {
    const short = Buffer.alloc(16, 7).toString("base64");
    expect(() => loadConfig({ WEBHOOK_SECRET_KEY: short })).toThrow(/WEBHOOK_SECRET_KEY must be 32 random bytes in base64/);
    expect(() => loadConfig({ WEBHOOK_SECRET_KEY: short })).not.toThrow(short);
  });

  it.each(["1", "true", "YES", "on"])("SANDBOX_ENABLED=%s enables the sandbox", (value) => {
    expect(loadConfig({ SANDBOX_ENABLED: value, SANDBOX_WEBHOOK_SECRET: "whsec_x" }).sandbox.enabled).toBe(true);
  });

  it.each(["0", "false", "No", "off"])("SANDBOX_ENABLED=%s disables the sandbox", (value) => {
    expect(loadConfig({ SANDBOX_ENABLED: value }).sandbox.enabled).toBe(false);
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "-1"],
    ["PORT", "65536"],
    ["PORT", "80.5"],
    ["PORT", "8080abc"],
    ["PORT", " "],
    ["SANDBOX_ENABLED", "maybe"],
    ["SANDBOX_ENABLED", "2"],
    ["DATABASE_URL", "not a url"],
    ["DATABASE_URL", "//db:5432/checkout"],
    ["PAYMENT_RETRY_WINDOW_SECONDS", "4"],
    ["TEMPORAL_UI_URL", "ui"],
    ["RISK_MAX_FAILED_PAYMENTS", "-1"],
    ["RISK_MAX_FAILED_PAYMENTS", "1001"],
    ["RISK_MAX_FAILED_PAYMENTS", "three"],
    ["RISK_WINDOW_SECONDS", "0"],
    ["RISK_WINDOW_SECONDS", "1.5"],
    ["RISK_HOLD_SECONDS", "0"],
    ["API_MAX_BODY_BYTES", "64k"],
    ["API_MAX_BODY_BYTES", "100"],
    ["API_MAX_WEBHOOK_BODY_BYTES", "-1"],
    ["RATE_LIMIT_PER_KEY_PER_MINUTE", "-5"],
    ["RATE_LIMIT_PER_IP_PER_MINUTE", "lots"],
    ["API_MAX_WAITING_REQUESTS", "1.5"],
    ["WEBHOOK_SIGNALS_PER_CHECKOUT", "0"],
    ["CORS_ORIGINS", "*"],
    ["CORS_ORIGINS", "shop.example.com"],
    ["CORS_ORIGINS", "https://shop.example.com/checkout"],
    ["CORS_ORIGINS", "https://a.example.com,ftp://b.example.com"],
    ["WEBHOOK_ALLOW_HTTP", "sometimes"],
    ["WEBHOOK_ALLOW_PRIVATE_TARGETS", "2"],
    ["WEBHOOK_MAX_ENDPOINTS", "0"],
    ["WEBHOOK_FANOUT_BATCH_SIZE", "0"],
    ["WEBHOOK_FANOUT_BATCH_SIZE", "1001"],
    ["WEBHOOK_SECRET_ROTATION_GRACE_SECONDS", "-1"],
    ["ARCHIVE_INTERVAL_SECONDS", "0"],
    ["ARCHIVE_BATCH_SIZE", "0"],
    ["ARCHIVE_BATCH_SIZE", "1001"],
  ])("%s=%j is refused with a ConfigError naming the variable", (name, value) => {
    let thrown: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).name).toBe("ConfigError");
    expect((thrown as ConfigError).message).toContain(name);
  });
});

describe("the API's limits", () => {
  it("default to 128 KiB bodies (1 MiB for provider webhooks), 3000 requests a minute per key and 600 per address, 100 waiting requests", () => {
    expect(loadConfig({}).api).toEqual({
      maxBodyBytes: 131072,
      maxWebhookBodyBytes: 1048576,
      rateLimit: { perKeyPerMinute: 3000, perIpPerMinute: 600 },
      maxWaitingRequests: 100,
      corsOrigins: [],
      maxSignalsPerCheckout: 100,
    });
  });

  it("read what they are given; 0 turns a rate limit off", () => {
    const api = loadConfig({
      API_MAX_BODY_BYTES: "2048",
      API_MAX_WEBHOOK_BODY_BYTES: "4096",
      RATE_LIMIT_PER_KEY_PER_MINUTE: "0",
      RATE_LIMIT_PER_IP_PER_MINUTE: "7",
      API_MAX_WAITING_REQUESTS: "0",
      WEBHOOK_SIGNALS_PER_CHECKOUT: "3",
    }).api;
    expect(api).toMatchObject({
      maxBodyBytes: 2048,
      maxWebhookBodyBytes: 4096,
      rateLimit: { perKeyPerMinute: 0, perIpPerMinute: 7 },
      maxWaitingRequests: 0,
      maxSignalsPerCheckout: 3,
    });
  });

  it("let browsers call only from CORS_ORIGINS, or from anywhere under npm start until it is set", () => {
    const origins = "https://shop.example.com, http://localhost:5173";
    expect(loadConfig({ CORS_ORIGINS: origins }).api.corsOrigins).toEqual(["https://shop.example.com", "http://localhost:5173"]);
    expect(loadConfig({}).api.corsOrigins).toEqual([]);
    // A trailing slash is the same origin: a browser never sends one, so it is dropped, not refused.
    expect(loadConfig({ CORS_ORIGINS: "https://shop.example.com/" }).api.corsOrigins).toEqual(["https://shop.example.com"]);
    const dataDir = scratchDir();
    expect(loadConfig({ DATA_DIR: dataDir }, { embedded: true }).api.corsOrigins).toBe("*");
    expect(loadConfig({ DATA_DIR: dataDir, CORS_ORIGINS: origins }, { embedded: true }).api.corsOrigins).toHaveLength(2);
  });

  it("pays again and delivers on a timer only when set, or under npm start until set otherwise", () => {
    expect(loadConfig({})).toMatchObject({ payAgainWindowSeconds: 0, fulfilmentAutoDeliverSeconds: undefined });
    const set = { PAY_AGAIN_WINDOW_SECONDS: "60", FULFILMENT_AUTO_DELIVER_SECONDS: "5" };
    expect(loadConfig(set)).toMatchObject({ payAgainWindowSeconds: 60, fulfilmentAutoDeliverSeconds: 5 });
    const embedded = { SANDBOX_ENABLED: "false" }; // no sandbox secret written into the project's .data
    expect(loadConfig(embedded, { embedded: true })).toMatchObject({
      payAgainWindowSeconds: 900,
      fulfilmentAutoDeliverSeconds: 30,
    });
    expect(loadConfig({ ...embedded, ...set }, { embedded: true })).toMatchObject({
      payAgainWindowSeconds: 60,
      fulfilmentAutoDeliverSeconds: 5,
    });
    const off = { ...embedded, PAY_AGAIN_WINDOW_SECONDS: "0", FULFILMENT_AUTO_DELIVER_SECONDS: "off" };
    expect(loadConfig(off, { embedded: true })).toMatchObject({
      payAgainWindowSeconds: 0,
      fulfilmentAutoDeliverSeconds: undefined,
    });
    expect(() => loadConfig({ FULFILMENT_AUTO_DELIVER_SECONDS: "0" })).toThrow(/FULFILMENT_AUTO_DELIVER_SECONDS must be/);
  });
});

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});
function scratchDir() {
  const dir = mkdtempSync(path.join(tmpdir(), "checkout-config-"));
  scratch.push(dir);
  return dir;
}

function configError(env: Env, options?: { embedded?: boolean }): ConfigError {
  try {
    loadConfig(env, options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("the sandbox provider", () => {
  it("is off by default for npm run api and npm run worker, and no webhook secret is made up", () => {
    const config = loadConfig({});
    expect(config.sandbox.enabled).toBe(false);
    expect(config.sandbox.webhookSecret).toBe("");
  });

  it("is on by default under npm start, with a random webhook secret kept in its data folder", () => {
    const dataDir = scratchDir();
    const first = loadConfig({ DATA_DIR: dataDir }, { embedded: true });
    expect(first.sandbox.enabled).toBe(true);
    expect(first.sandbox.webhookSecret).toMatch(/^whsec_[0-9a-f]{48}$/);
    const file = path.join(dataDir, "sandbox-webhook-secret");
    expect(readFileSync(file, "utf8").trim()).toBe(first.sandbox.webhookSecret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The next start of the same folder keeps it; another folder has its own.
    expect(loadConfig({ DATA_DIR: dataDir }, { embedded: true }).sandbox.webhookSecret).toBe(first.sandbox.webhookSecret);
    expect(loadConfig({ DATA_DIR: scratchDir() }, { embedded: true }).sandbox.webhookSecret).not.toBe(
      first.sandbox.webhookSecret,
    );
    // SANDBOX_WEBHOOK_SECRET wins, and then nothing is written.
    const other = scratchDir();
    expect(loadConfig({ DATA_DIR: other, SANDBOX_WEBHOOK_SECRET: "whsec_mine" }, { embedded: true }).sandbox.webhookSecret).toBe(
      "whsec_mine",
    );
    expect(() => statSync(path.join(other, "sandbox-webhook-secret"))).toThrow();
  });

  it("is off by default under npm start with NODE_ENV=production", () => {
    expect(loadConfig({ DATA_DIR: scratchDir(), NODE_ENV: "production" }, { embedded: true }).sandbox.enabled).toBe(false);
  });

  it.each([false, true])("is refused with NODE_ENV=production, naming SANDBOX_ENABLED (embedded: %s)", (embedded) => {
    const err = configError({ DATA_DIR: scratchDir(), NODE_ENV: "production", SANDBOX_ENABLED: "true" }, { embedded });
    expect(err.message).toMatch(/SANDBOX_ENABLED/);
    expect(err.message).toMatch(/NODE_ENV=production/);
    expect(loadConfig({ NODE_ENV: "production", SANDBOX_ENABLED: "false" }).sandbox.enabled).toBe(false);
  });

  it("needs SANDBOX_WEBHOOK_SECRET when enabled outside npm start", () => {
    expect(configError({ SANDBOX_ENABLED: "true" }).message).toMatch(/SANDBOX_WEBHOOK_SECRET/);
  });

  const sandbox = { enabled: true, url: "http://127.0.0.1:1/sandbox", webhookSecret: "whsec_x" };
  const stripe = { STRIPE_SECRET_KEY: "sk_test_1", STRIPE_WEBHOOK_SECRET: "whsec_1", RETURN_URL: "https://shop.example/r" };
  const mercadopago = { MERCADOPAGO_ACCESS_TOKEN: "TEST-1", MERCADOPAGO_WEBHOOK_SECRET: "mp-secret" };

  it.each([
    ["stripe", stripe],
    ["mercadopago", { ...mercadopago, MERCADOPAGO_API_BASE: "https://api.mercadopago.com" }],
  ])("is refused at start-up next to a real provider (%s), naming SANDBOX_ENABLED", (provider, env) => {
    const config = loadConfig({ ...env, SANDBOX_ENABLED: "true", SANDBOX_WEBHOOK_SECRET: "whsec_x" });
    const start = () => createGatewayRegistry(config.env, { ...config.sandbox, url: sandbox.url }, 900);
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(new RegExp(`SANDBOX_ENABLED must be false.*\\(${provider}\\)`));
    // The same provider with the sandbox off starts.
    expect(createGatewayRegistry(config.env, { ...sandbox, enabled: false }, 900).has(provider)).toBe(true);
  });

  it("is allowed next to a provider that talks to a local fake of it (the tests' stacks)", () => {
    for (const base of ["http://127.0.0.1:4010", "http://localhost:4010", "http://[::1]:4010"]) {
      const registry = createGatewayRegistry({ ...stripe, STRIPE_API_BASE: base }, sandbox, 900);
      expect(registry.has("sandbox") && registry.has("stripe"), base).toBe(true);
    }
    expect(() => createGatewayRegistry({ ...stripe, STRIPE_API_BASE: "http://10.0.0.5:4010" }, sandbox, 900)).toThrow(
      /SANDBOX_ENABLED/,
    );
  });
});

describe("required", () => {
  it("throws a ConfigError naming the variable when the value is missing", () => {
    expect(() => required(undefined, "DATABASE_URL")).toThrow(ConfigError);
    expect(() => required(undefined, "DATABASE_URL")).toThrow(/DATABASE_URL/);
  });

  it("returns the value when there is one", () => {
    expect(required("postgresql://db/checkout", "DATABASE_URL")).toBe("postgresql://db/checkout");
    expect(required(0, "PORT")).toBe(0);
  });
});
