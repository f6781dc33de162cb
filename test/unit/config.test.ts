import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, projectRoot, required } from "../../config.ts";

describe("loadConfig", () => {
  it("has defaults for everything when the environment is empty", () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe("127.0.0.1");
    expect(config.sandbox.enabled).toBe(true);
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

  it.each(["1", "true", "YES", "on"])("SANDBOX_ENABLED=%s enables the sandbox", (value) => {
    expect(loadConfig({ SANDBOX_ENABLED: value }).sandbox.enabled).toBe(true);
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
