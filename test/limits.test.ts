// What every request is held to (api/limits/), over real HTTP: a body over the limit gets 413
// before anything reads it, with or without Content-Length, and starts nothing; past the rate
// limit, 429 with Retry-After, per client address and per API key, counted in PostgreSQL so a
// second API process on the same database refuses too; CORS only for the configured origins;
// security headers on every answer; names with control or bidirectional characters refused,
// naming the field; and at most API_MAX_WAITING_REQUESTS requests wait for `Prefer: wait`, the
// others answered at once without the payment.
import { randomBytes } from "node:crypto";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { applyMigrations } from "../prisma/migrations.ts";
import { createScratchDatabase, dropDatabase } from "./support/databases.ts";
import { call, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const SHOP = "https://shop.example.com";
const MAX_BODY = 128 * 1024; // the default, API_MAX_BODY_BYTES

let stack: TestStack;
/** No worker, on a database of its own: its rate-limit counters start at zero. */
let limited: TestStack;
let limitedTwin: TestStack;
let limitedDb: string;
const admin = inject("adminDatabaseUrl");

beforeAll(async () => {
  limitedDb = await createScratchDatabase(admin, `checkout_limits_${randomBytes(4).toString("hex")}`);
  await applyMigrations(limitedDb);
  const limits = { RATE_LIMIT_PER_IP_PER_MINUTE: "5", RATE_LIMIT_PER_KEY_PER_MINUTE: "3" };
  [stack, limited, limitedTwin] = await Promise.all([
    startTestStack({
      sandboxSlowMs: 4000,
      env: { CORS_ORIGINS: `${SHOP},http://localhost:5173`, API_MAX_WAITING_REQUESTS: "1" },
    }),
    startTestStack({ startWorker: false, databaseUrl: limitedDb, env: limits }),
    startTestStack({ startWorker: false, databaseUrl: limitedDb, env: limits }),
  ]);
});
afterAll(async () => {
  await Promise.all([stack?.stop(), limited?.stop(), limitedTwin?.stop()]);
  if (limitedDb) await dropDatabase(admin, limitedDb);
});

const key = () => `limits-${randomBytes(8).toString("hex")}`;
/** Whether anything was started under this Idempotency-Key: a checkout claims the key first. */
const claimed = (on: TestStack, idempotencyKey: string) =>
  on.db.idempotencyKey.count({ where: { merchantId: on.merchantId, key: idempotencyKey } });
const anonymous = { authorization: "" };

/** A POST whose body goes out in chunks with no Content-Length (Transfer-Encoding: chunked). */
function postChunked(base: string, path: string, chunks: string[], headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; json: any }>((resolve, reject) => {
    const req = http.request(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.secretKey}`, ...headers },
    });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) }));
    });
    req.on("error", reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/** `text` cut into `size`-character chunks. */
const chunksOf = (text: string, size = 16 * 1024) =>
  Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));

/** A checkout body of exactly `bytes` bytes (its last item's name padded). */
function checkoutOfSize(bytes: number) {
  const body = validCheckout();
  const base = JSON.stringify(body).length;
  const items = [{ sku: "pad", name: "", quantity: 1, unitAmount: 1 }];
  const fixed = JSON.stringify({ ...body, items: [...body.items, ...items] }).length;
  items[0].name = "x".repeat(Math.max(0, bytes - fixed));
  const text = JSON.stringify({ ...body, items: [...body.items, ...items] });
  expect(text.length).toBe(Math.max(bytes, fixed));
  expect(base).toBeLessThan(bytes);
  return text;
}

describe("the body size limit", () => {
  it("refuses a body over API_MAX_BODY_BYTES with Content-Length: 413 in the API's error shape, and nothing starts", async () => {
    const idempotencyKey = key();
    const res = await call(stack.url, "POST", "/checkouts", checkoutOfSize(MAX_BODY + 1), {
      "idempotency-key": idempotencyKey,
      origin: SHOP,
    });
    expect(res.status, res.text).toBe(413);
    expect(res.json).toEqual({
      error: { code: "body_too_large", message: `The request body is larger than ${MAX_BODY} bytes.` },
    });
    // A browser on an allowed origin can read why.
    expect(res.headers.get("access-control-allow-origin")).toBe(SHOP);
    expect(await claimed(stack, idempotencyKey)).toBe(0);
  });

  it("refuses a chunked body (no Content-Length) once it passes the limit, and nothing starts", async () => {
    const idempotencyKey = key();
    const res = await postChunked(stack.url, "/checkouts", chunksOf(checkoutOfSize(MAX_BODY + 100)), {
      "idempotency-key": idempotencyKey,
    });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe("body_too_large");
    expect(await claimed(stack, idempotencyKey)).toBe(0);
  });

  it("takes a chunked body within the limit as any other", async () => {
    const idempotencyKey = key();
    const res = await postChunked(stack.url, "/checkouts", chunksOf(JSON.stringify(validCheckout()), 20), {
      "idempotency-key": idempotencyKey,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    expect(await claimed(stack, idempotencyKey)).toBe(1);
    await waitForCheckout(stack.url, res.json.id);
  });

  it("gives provider webhooks their own, larger limit (API_MAX_WEBHOOK_BODY_BYTES, 1 MiB)", async () => {
    const event = (bytes: number) => JSON.stringify({ id: "evt_big", type: "charge.succeeded", pad: "x".repeat(bytes) });
    const within = await call(stack.url, "POST", "/webhooks/sandbox", event(200 * 1024), { "content-type": "application/json" });
    expect(within.status, within.text).toBe(400); // read, and refused for its missing signature
    expect(within.json.error.code).toBe("invalid_signature");
    const over = await call(stack.url, "POST", "/webhooks/sandbox", event(1024 * 1024), { "content-type": "application/json" });
    expect(over.status).toBe(413);
    expect(over.json.error.message).toBe(`The request body is larger than ${1024 * 1024} bytes.`);
  });
});

describe("the rate limits", () => {
  it("per client address, without a key: past RATE_LIMIT_PER_IP_PER_MINUTE, 429 with Retry-After, counted in PostgreSQL for every API process", async () => {
    for (let i = 1; i <= 5; i++) {
      const res = await call(limited.url, "GET", "/health", undefined, anonymous);
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get("ratelimit-limit")).toBe("5");
      expect(res.headers.get("ratelimit-remaining")).toBe(String(5 - i));
    }
    const refused = await call(limited.url, "GET", "/health", undefined, anonymous);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    expect(refused.json).toEqual({
      error: {
        code: "rate_limited",
        message: `Too many requests from this address: at most 5 a minute. Retry in ${retryAfter} s.`,
      },
    });
    // Nothing behind it ran: a provider's webhook from that address is refused before it is read.
    const webhook = await call(limited.url, "POST", "/webhooks/sandbox", "{}", {
      ...anonymous,
      "content-type": "application/json",
    });
    expect(webhook.status).toBe(429);

    // The count is in the database: another API process on it refuses the same address at once.
    const rows = await limited.db.rateLimit.findMany({ where: { key: { startsWith: "ip:" } } });
    expect(rows).toEqual([{ key: "ip:127.0.0.1", points: expect.any(Number), expire: expect.any(BigInt) }]);
    expect(rows[0].points).toBeGreaterThan(5);
    expect((await call(limitedTwin.url, "GET", "/health", undefined, anonymous)).status).toBe(429);
    // A request with a key is counted against its key, not the address.
    expect((await call(limited.url, "GET", "/health")).status).toBe(200);
  });

  it("per API key: past RATE_LIMIT_PER_KEY_PER_MINUTE that key gets 429 and nothing starts; another key goes on", async () => {
    const idempotencyKey = key();
    // The test above made one request with this key.
    for (let i = 0; i < 2; i++) expect((await call(limited.url, "GET", "/checkouts/chk_nope")).status).toBe(404);
    const refused = await call(limited.url, "POST", "/checkouts", validCheckout(), { "idempotency-key": idempotencyKey });
    expect(refused.status, refused.text).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.json.error.message).toMatch(/^Too many requests with this API key: at most 3 a minute/);
    expect(await claimed(limited, idempotencyKey)).toBe(0);
    expect(await limited.db.rateLimit.count({ where: { key: `key:${limited.secretKeyId}` } })).toBe(1);

    // Keys are counted apart: this merchant's publishable key, and the other process's merchant's key.
    const publishable = { authorization: `Bearer ${limited.publishableKey}` };
    expect((await call(limited.url, "GET", "/checkouts/chk_nope", undefined, publishable)).status).toBe(404);
    expect((await call(limitedTwin.url, "GET", "/checkouts/chk_nope")).status).toBe(404);
    // The refused key stays refused on every process.
    const elsewhere = await call(limitedTwin.url, "GET", "/checkouts/chk_nope", undefined, {
      authorization: `Bearer ${limited.secretKey}`,
    });
    expect(elsewhere.status).toBe(429);
  });
});

describe("what browsers are told", () => {
  it("CORS: an origin in CORS_ORIGINS may read the answer; any other gets no CORS header", async () => {
    const allowed = await call(stack.url, "GET", "/health", undefined, { origin: SHOP });
    expect(allowed.headers.get("access-control-allow-origin")).toBe(SHOP);
    expect(allowed.headers.get("vary")).toMatch(/origin/i);
    const other = await call(stack.url, "GET", "/health", undefined, { origin: "https://evil.example.com" });
    expect(other.status).toBe(200);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();

    // A browser's preflight carries no key: it is answered before the key is asked for.
    const preflight = await call(stack.url, "OPTIONS", "/checkouts", undefined, {
      ...anonymous,
      origin: "http://localhost:5173",
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,idempotency-key",
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("idempotency-key");
    const refusedPreflight = await call(stack.url, "OPTIONS", "/checkouts", undefined, {
      ...anonymous,
      origin: "https://evil.example.com",
      "access-control-request-method": "POST",
    });
    expect(refusedPreflight.headers.get("access-control-allow-origin")).toBeNull();

    // A refusal for want of a key is readable by the allowed origin too.
    const unauthenticated = await call(stack.url, "GET", "/checkouts/chk_nope", undefined, { ...anonymous, origin: SHOP });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get("access-control-allow-origin")).toBe(SHOP);
  });

  it("without CORS_ORIGINS (npm run api), no origin gets a CORS header", async () => {
    const res = await call(limitedTwin.url, "OPTIONS", "/checkouts", undefined, {
      ...anonymous,
      origin: SHOP,
      "access-control-request-method": "POST",
    });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it.each([
    ["/health", {}],
    ["/checkouts/nope", {}],
    ["/no-such-route", {}],
    ["/checkouts/nope", anonymous],
  ])("security headers on every answer (%s, %j)", async (path, headers) => {
    const res = await call(stack.url, "GET", path, undefined, headers);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("strict-transport-security")).toMatch(/max-age=\d+/);
    expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(res.headers.get("x-powered-by")).toBeNull();
  });
});

describe("names that reach emails", () => {
  const withItem = (item: Record<string, unknown>) =>
    validCheckout("tok_approve", { items: [{ sku: "tee", name: "T-shirt", quantity: 1, unitAmount: 1999, ...item }] });

  it.each([
    ["a right-to-left override", "items.0.name", { name: "Invoice \u202Etxt.exe" }],
    ["a bidirectional isolate", "items.0.name", { name: "T-shirt \u2066x\u2069" }],
    ["a bell (C0)", "items.0.name", { name: "T-shirt\u0007" }],
    ["a line break", "items.0.name", { name: "T-shirt\nSubject: free" }],
    ["a C1 control", "items.0.name", { name: "T-shirt\u0085" }],
    ["a NUL in the sku", "items.0.sku", { sku: "tee\u0000" }],
  ])("%s is refused with 400 naming %s, and nothing starts", async (_what, field, item) => {
    const idempotencyKey = key();
    const res = await call(stack.url, "POST", "/checkouts", withItem(item), { "idempotency-key": idempotencyKey });
    expect(res.status, res.text).toBe(400);
    expect(res.json.error.code).toBe("validation_failed");
    expect(res.json.error.fields).toEqual([{ field, reason: "must not contain control characters or bidirectional overrides" }]);
    expect(await claimed(stack, idempotencyKey)).toBe(0);
  });

  it("a cancel reason too", async () => {
    const res = await call(stack.url, "POST", "/checkouts/chk_00000000000000000000000000000000/cancel", { reason: "oops\u202E" });
    expect(res.status, res.text).toBe(400);
    expect(res.json.error.fields).toEqual([{ field: "reason", reason: expect.stringMatching(/control characters/) }]);
  });

  it("accents, scripts and emoji are names like any other", async () => {
    const res = await call(stack.url, "POST", "/checkouts", withItem({ name: "Camiseta ñandú · Tシャツ · قميص 👕" }), {
      "idempotency-key": key(),
    });
    expect(res.status, res.text).toBe(202);
    await waitForCheckout(stack.url, res.json.id);
  });
});

describe("Prefer: wait", () => {
  it("past API_MAX_WAITING_REQUESTS a request is answered at once, without the payment; the one waiting gets it", async () => {
    // tok_slow takes 4 s at the sandbox: the first request waits that long for its answer.
    const first = call(stack.url, "POST", "/checkouts", validCheckout("tok_slow"), {
      prefer: "wait=10",
      "idempotency-key": key(),
    });
    await new Promise((r) => setTimeout(r, 1000));

    const started = Date.now();
    const second = await call(stack.url, "POST", "/checkouts", validCheckout("tok_slow"), {
      prefer: "wait=10",
      "idempotency-key": key(),
    });
    expect(second.status, second.text).toBe(202);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(second.json.status).toBe("RUNNING");
    expect(second.json.payment).toBeUndefined();
    expect(second.headers.get("preference-applied")).toBeNull();

    const answered = await first;
    expect(answered.status, answered.text).toBe(202);
    expect(answered.headers.get("preference-applied")).toBe("wait=10");
    expect(answered.json.payment).toMatchObject({ status: "SUCCEEDED", provider: "sandbox" });

    // Its place is free again once it has answered.
    const third = await call(stack.url, "POST", "/checkouts", validCheckout(), { prefer: "wait=10", "idempotency-key": key() });
    expect(third.headers.get("preference-applied")).toBe("wait=10");
    expect(third.json.payment).toMatchObject({ status: "SUCCEEDED" });
    await waitForCheckout(stack.url, second.json.id);
  });
});
