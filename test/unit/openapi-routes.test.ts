// Every route the API serves is in its OpenAPI document (the webhooks included), with the same
// method: what a client generator or a fuzzer reads is the whole API. Only the document itself,
// the page that renders it and the other pages (3-D Secure, the storefront) are left out. And
// every route's document names the answers that the validation hook and the authentication
// middleware give there.
import type { Client } from "@temporalio/client";
import { describe, expect, it } from "vitest";
import { createApp } from "../../api/app.ts";
import type { Db } from "../../prisma/client.ts";
import { GatewayRegistry } from "../../providers/registry.ts";
import { createSandboxLedger } from "../../sandbox/ledger.ts";

// Nothing is called while routes are declared: the parts are never used here.
const unused = {} as Client & Db;
const app = createApp({
  temporal: unused,
  db: unused,
  taskQueue: "checkout",
  paymentRetryWindowSeconds: 900,
  refundRetryWindowSeconds: 86400,
  paymentActionTimeoutSeconds: 900,
  riskChecks: false,
  gateways: new GatewayRegistry([]),
  webhooks: {
    secretKey: Buffer.alloc(32),
    targets: { allowHttp: false, allowPrivate: false },
    maxEndpoints: 1,
    rotationGraceSeconds: 0,
  },
  sandbox: createSandboxLedger(unused, { slowMs: 0, webhookSecret: "whsec_x" }),
  store: { publishableKey: "pk_x" },
});
// Pages, not API: the docs, the sandbox's 3-D Secure page, the storefront (npm start's) and its files.
const UNDOCUMENTED = new Set([
  "/",
  "/openapi.json",
  "/docs",
  "/docs/assets/:file",
  "/sandbox/charges/:id/authenticate GET",
  "/store",
  "/store/",
  "/store/config.json",
  "/store/store.js",
  "/store/store.css",
]);

describe("the OpenAPI document", () => {
  it("names every route the app serves, with its method", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`),
      ),
    );
    const served = [...new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`))].filter(
      (route) => !UNDOCUMENTED.has(route.split(" ")[1]) && !UNDOCUMENTED.has(`${route.split(" ")[1]} ${route.split(" ")[0]}`),
    );
    expect(served.length).toBeGreaterThan(15);
    expect(served.filter((route) => !documented.has(route))).toEqual([]);
    expect(documented.has("POST /webhooks/:provider")).toBe(true);
  });

  it("names on every route what the shared parts answer there: 400 for input, 401 and 403 for keys", async () => {
    type Operation = { security?: unknown[]; parameters?: unknown[]; requestBody?: unknown; responses: object };
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, Operation>> };
    const missing = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations).flatMap(([method, op]) => {
        const expected = ["401"];
        if (op.security?.length) expected.push("403");
        if (op.parameters?.length || op.requestBody) expected.push("400");
        return expected
          .filter((status) => !(status in op.responses))
          .map((status) => `${method.toUpperCase()} ${path} ${status}`);
      }),
    );
    expect(missing).toEqual([]);
  });
});
