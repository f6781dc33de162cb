// The storefront's routes, deny by default: an app not handed a publishable key for the store (every
// API but npm start's and a test stack that asks) has no /store and hands out no key; one that is
// serves the page's files with their types and a strict Content-Security-Policy, and refuses a
// secret key outright. (test/store.test.ts buys in the page, in Chromium, on the real stack.)
import type { Client } from "@temporalio/client";
import { describe, expect, it } from "vitest";
import { type AppDeps, createApp } from "../../api/app.ts";
import { STORE_CSP, storeRoutes } from "../../api/routes/store.ts";
import type { Db } from "../../prisma/client.ts";
import { GatewayRegistry } from "../../providers/registry.ts";

// Nothing is called by these routes: the parts are never used here.
const unused = {} as Client & Db;
const deps: AppDeps = {
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
};
const PATHS = ["/store", "/store/", "/store/store.js", "/store/store.css", "/store/config.json"];

describe("the storefront's routes", () => {
  it("do not exist unless the app is given a publishable key for them: no page, no key", async () => {
    const app = createApp(deps);
    for (const path of PATHS) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toMatch(/pk_/);
    }
  });

  it("serve the page's files with their types and a CSP allowing only the page's own origin, and the key", async () => {
    const app = createApp({ ...deps, store: { publishableKey: "pk_test_123" } });
    const types = {
      "/store": "text/html",
      "/store/store.js": "text/javascript",
      "/store/store.css": "text/css",
      "/store/config.json": "application/json",
    };
    for (const [path, type] of Object.entries(types)) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toContain(type);
      expect(res.headers.get("content-security-policy"), path).toBe(STORE_CSP);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
    }
    expect(STORE_CSP).toMatch(/^default-src 'self'; script-src 'self';/);
    expect(STORE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(await (await app.request("/store/config.json")).json()).toEqual({ publishableKey: "pk_test_123" });
    // No inline script or style in the page: the CSP would refuse it.
    const page = await (await app.request("/store")).text();
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\son\w+=|style=/i);
    expect((await app.request("/store/")).headers.get("location")).toBe("/store");
    // Only the page's own paths are open: anything else under /store needs a key, as every route does.
    expect((await app.request("/store/other.js")).status).toBe(401);
  });

  it("refuse a secret key: it would be handed to everyone who opens the page", () => {
    expect(() => storeRoutes({ publishableKey: "sk_live_123" })).toThrow(/publishable key/);
  });
});
