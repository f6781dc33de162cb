// A dependency that is down is said so: 503 with Retry-After and the dependency's name, never a
// 500 that reads like a bug. Here the database: the API is pointed at a port where none listens.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../infra/free-port.ts";
import { call, validCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    startWorker: false,
    databaseUrl: `postgresql://postgres@127.0.0.1:${await freePort()}/nowhere`,
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe("the database is down", () => {
  it("POST /checkouts answers 503 dependency_unavailable naming the database, with Retry-After", async () => {
    const res = await call(stack.url, "POST", "/checkouts", validCheckout(), { "idempotency-key": "db-down-1" });
    expect(res.status, res.text).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(res.json).toEqual({
      error: { code: "dependency_unavailable", message: "The database is not answering; retry shortly.", dependency: "database" },
    });
  });

  it("and /health says only 'degraded' to a caller without a key, never the error (it names the database's address)", async () => {
    // (With a key the key cannot even be checked: the authentication answers 503 itself.)
    const res = await call(stack.url, "GET", "/health", undefined, { authorization: "" });
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ status: "degraded" });
  });
});
