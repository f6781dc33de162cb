// Safe outgoing webhooks on the real stack: subscribers verify real deliveries with the
// `standardwebhooks` package; a rotated secret signs beside the new one for the grace period,
// then not; secrets are sealed in the database; an event reaches more endpoints than one batch;
// the SSRF guard refuses at registration (422 naming url) and again at delivery; the number of
// endpoints is capped (409), also under concurrent requests.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SCOPES } from "../api/caller.ts";
import { createApiKey } from "../merchants/api-keys.ts";
import { createMerchant } from "../merchants/merchants.ts";
import { applyMigrations } from "../prisma/migrations.ts";
import { isSealed } from "../webhooks/secret-box.ts";
import { openFor, sealFor } from "../webhooks/secrets.ts";
import { newSigningSecret, standardSecret } from "../webhooks/signing.ts";
import { sealClearSecrets } from "../wiring.ts";
import { eventBatchWorkflowId, eventWorkflowId } from "../workflows/definitions.ts";
import type { PublishResult } from "../workflows/events.ts";
import { createScratchDatabase, dropDatabase } from "./support/databases.ts";
import { call, startCheckout, until, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, TEST_WEBHOOK_SECRET_KEY, type TestStack } from "./support/stack.ts";

const KEY = Buffer.from(TEST_WEBHOOK_SECRET_KEY, "base64");
const GRACE_SECONDS = 6;
const BATCH_SIZE = 3;

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  json: { id: string; type: string; data: Record<string, any> };
}

/** A local subscriber for every path under it; answers 200. */
async function receiver() {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers as Record<string, string>, body, json: JSON.parse(body) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { port, url: (path: string) => `http://127.0.0.1:${port}${path}`, received, close: () => server.close() };
}

const verifies = (secret: string, event: Received) => {
  try {
    new Webhook(secret).verify(event.body, event.headers);
    return true;
  } catch {
    return false;
  }
};

const scratch: string[] = [];
async function scratchDatabase(name: string) {
  const url = await createScratchDatabase(inject("adminDatabaseUrl"), `checkout_${name}_${randomBytes(4).toString("hex")}`);
  scratch.push(url);
  await applyMigrations(url);
  return url;
}

let stack: TestStack;
let hooks: Awaited<ReturnType<typeof receiver>>;
const endpoints: string[] = [];
beforeAll(async () => {
  stack = await startTestStack({
    env: { WEBHOOK_FANOUT_BATCH_SIZE: String(BATCH_SIZE), WEBHOOK_SECRET_ROTATION_GRACE_SECONDS: String(GRACE_SECONDS) },
  });
  hooks = await receiver();
});
afterAll(async () => {
  for (const id of endpoints) await call(stack.url, "DELETE", `/webhook-endpoints/${id}`);
  await stack?.stop();
  hooks?.close();
  for (const url of scratch) await dropDatabase(inject("adminDatabaseUrl"), url);
});

async function register(base: string, url: string, eventTypes: string[]) {
  const res = await call(base, "POST", "/webhook-endpoints", { url, eventTypes });
  expect(res.status, res.text).toBe(201);
  if (base === stack.url) endpoints.push(res.json.id);
  return res.json as { id: string; secret: string; url: string };
}

/** A completed checkout, and what `path` received for it. */
async function completedCheckoutAt(path: string) {
  const id = await startCheckout(stack.url, validCheckout("tok_approve"));
  await waitForCheckout(stack.url, id);
  return until(() => hooks.received.find((r) => r.path === path && r.json.data.checkoutId === id));
}

describe("signed deliveries", () => {
  it("verify with the standardwebhooks package; a rotation signs with both secrets for the grace period, then with the new one", async () => {
    const endpoint = await register(stack.url, hooks.url("/rotation"), ["checkout.completed"]);
    const first = endpoint.secret;
    expect(first).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const before = await completedCheckoutAt("/rotation");
    expect(new Webhook(first).verify(before.body, before.headers)).toEqual(before.json);
    expect(before.headers["webhook-id"]).toBe(before.json.id);
    expect(Math.abs(Number(before.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
    expect(before.headers["webhook-signature"].split(" ")).toHaveLength(1);
    expect(before.headers["checkout-signature"]).toBeUndefined();

    const rotated = await call(stack.url, "POST", `/webhook-endpoints/${endpoint.id}/rotate-secret`);
    expect(rotated.status, rotated.text).toBe(200);
    const second = rotated.json.secret as string;
    expect(second).toMatch(/^whsec_/);
    expect(second).not.toBe(first);
    const graceEnds = Date.parse(rotated.json.previousSecretExpiresAt);
    expect(graceEnds - Date.now()).toBeGreaterThan((GRACE_SECONDS - 2) * 1000);

    const during = await completedCheckoutAt("/rotation");
    expect(Number(during.headers["webhook-timestamp"]) * 1000).toBeLessThan(graceEnds);
    expect(during.headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(verifies(second, during)).toBe(true);
    expect(verifies(first, during)).toBe(true);

    await new Promise((r) => setTimeout(r, Math.max(0, graceEnds - Date.now()) + 1000));
    const after = await completedCheckoutAt("/rotation");
    expect(after.headers["webhook-signature"].split(" ")).toHaveLength(1);
    expect(verifies(second, after)).toBe(true);
    expect(verifies(first, after)).toBe(false);

    const missing = await call(stack.url, "POST", "/webhook-endpoints/we_missing/rotate-secret");
    expect(missing.status).toBe(404);
  });

  it("the database holds the secrets sealed, never in clear", async () => {
    const endpoint = await register(stack.url, hooks.url("/sealed"), ["refund.succeeded"]);
    const rotated = (await call(stack.url, "POST", `/webhook-endpoints/${endpoint.id}/rotate-secret`)).json;
    const row = await stack.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    for (const [stored, clear] of [
      [row.secret, rotated.secret],
      [row.previousSecret!, endpoint.secret],
    ]) {
      expect(isSealed(stored)).toBe(true);
      expect(stored).not.toContain(clear);
      expect(stored).not.toContain(clear.slice("whsec_".length));
      expect(openFor(KEY, endpoint.id, stored)).toBe(clear);
    }
    const listed = await call(stack.url, "GET", "/webhook-endpoints");
    expect(listed.text).not.toContain(rotated.secret);
    expect(listed.text).not.toContain(row.secret);
  });

  it("a clear secret from before sealing is sealed, in its standard form, when a process starts", async () => {
    const legacy = `whsec_${Buffer.alloc(24, 0xfb).toString("base64url")}`;
    const id = `we_legacy_${randomBytes(4).toString("hex")}`;
    await stack.db.webhookEndpoint.create({
      data: {
        id,
        merchantId: stack.merchantId,
        url: hooks.url("/legacy"),
        eventTypes: ["refund.succeeded"],
        secret: legacy,
        deletedAt: new Date(),
      },
    });
    await sealClearSecrets(stack.db, KEY, () => {});
    const row = await stack.db.webhookEndpoint.findUniqueOrThrow({ where: { id } });
    expect(isSealed(row.secret)).toBe(true);
    expect(openFor(KEY, id, row.secret)).toBe(standardSecret(legacy));
    expect(Buffer.from(openFor(KEY, id, row.secret).slice(6), "base64")).toEqual(Buffer.alloc(24, 0xfb));
  });
});

describe("fan-out", () => {
  it("an event reaches every endpoint when there are more than one batch of them", async () => {
    const count = BATCH_SIZE * 2 + 2;
    const registered = [];
    for (let i = 0; i < count; i++) registered.push(await register(stack.url, hooks.url(`/fanout/${i}`), ["payment.failed"]));

    const id = await startCheckout(stack.url, validCheckout("tok_decline"));
    await waitForCheckout(stack.url, id);
    const events = await until(() => {
      const mine = hooks.received.filter((r) => r.path.startsWith("/fanout/") && r.json.data.checkoutId === id);
      return mine.length >= count ? mine : undefined;
    });
    expect(events.map((e) => e.path).sort()).toEqual(registered.map((_, i) => `/fanout/${i}`).sort());
    for (const [i, endpoint] of registered.entries()) {
      const event = events.find((e) => e.path === `/fanout/${i}`)!;
      expect(event.json.type).toBe("payment.failed");
      expect(verifies(endpoint.secret, event)).toBe(true);
    }

    // One publishing workflow, one batch workflow per page of at most BATCH_SIZE endpoints.
    const workflowId = eventWorkflowId(`checkout-${id}`, "payment.failed");
    const result = (await stack.temporal.workflow.getHandle(workflowId).result()) as PublishResult;
    expect(result.endpoints).toBeGreaterThanOrEqual(count);
    expect(result.batches).toBe(Math.ceil(result.endpoints! / BATCH_SIZE));
    for (let n = 1; n <= result.batches!; n++) {
      const batch = await stack.temporal.workflow.getHandle(eventBatchWorkflowId(workflowId, n)).result();
      expect((batch as { delivered: number }).delivered).toBeGreaterThan(0);
    }
    const log = await call(stack.url, "GET", `/webhook-endpoints/${registered[0].id}/deliveries`);
    expect(log.json.data[0]).toMatchObject({ eventType: "payment.failed", status: "DELIVERED", attempts: 1 });
  });
});

describe("the SSRF guard, outside development", () => {
  let strict: TestStack;
  let local: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    strict = await startTestStack({
      databaseUrl: await scratchDatabase("ssrf"),
      env: { WEBHOOK_ALLOW_HTTP: "false", WEBHOOK_ALLOW_PRIVATE_TARGETS: "false" },
    });
    local = await receiver();
  });
  afterAll(async () => {
    await strict?.stop();
    local?.close();
  });

  it("POST /webhook-endpoints refuses what is not https on public addresses with 422, naming url and why", async () => {
    const port = local.port;
    const cases: Array<[string, RegExp]> = [
      [`http://2130706433:${port}/`, /^must be an https URL$/],
      [`https://2130706433:${port}/`, /^127\.0\.0\.1 is a loopback address/],
      ["https://0x7f000001/", /^127\.0\.0\.1 is a loopback address/],
      ["https://0177.0.0.1/", /^127\.0\.0\.1 is a loopback address/],
      ["https://127.1/", /^127\.0\.0\.1 is a loopback address/],
      ["https://[::1]/", /^::1 is a loopback address/],
      ["https://[::ffff:127.0.0.1]/", /^::ffff:7f00:1 is a loopback address/],
      ["https://169.254.169.254/latest/meta-data/", /^169\.254\.169\.254 is a link-local address/],
      ["https://10.1.2.3/", /^10\.1\.2\.3 is a private \(RFC 1918\) address/],
      ["https://100.64.0.1/", /carrier-grade NAT/],
      ["https://[fd00::1]/", /unique-local/],
      ["https://0.0.0.0/", /unspecified/],
      [`https://localhost:${port}/`, /^localhost must resolve to public addresses only$/],
      ["https://user:pw@hooks.example.com/", /^must not contain a user name or password$/],
    ];
    for (const [url, reason] of cases) {
      const res = await call(strict.url, "POST", "/webhook-endpoints", { url, eventTypes: ["checkout.completed"] });
      expect(res.status, url).toBe(422);
      expect(res.json.error.code, url).toBe("url_not_allowed");
      expect(res.json.error.fields, url).toEqual([{ field: "url", reason: expect.stringMatching(reason) }]);
    }
    expect(await strict.db.webhookEndpoint.count()).toBe(0);
  });

  it("a delivery is refused too when the endpoint's URL is no longer allowed, and nothing is sent", async () => {
    // Rows the API would refuse now (registered before the guard, or in development).
    const rows = [
      { id: "we_http_local", url: local.url("/plain") },
      { id: "we_localhost", url: `https://localhost:${local.port}/named` },
    ];
    for (const row of rows) {
      await strict.db.webhookEndpoint.create({
        data: {
          ...row,
          merchantId: strict.merchantId,
          eventTypes: ["checkout.completed"],
          secret: sealFor(KEY, row.id, newSigningSecret()),
        },
      });
    }
    try {
      const id = await startCheckout(strict.url, validCheckout("tok_approve"));
      await waitForCheckout(strict.url, id);
      const [plain, named] = await until(async () => {
        const logs = await Promise.all(
          rows.map(async (r) => (await call(strict.url, "GET", `/webhook-endpoints/${r.id}/deliveries`)).json.data[0]),
        );
        return logs.every((d) => d?.lastError) ? logs : undefined;
      });
      // The URL itself is refused: failed for good at once.
      expect(plain).toMatchObject({ status: "FAILED", attempts: 1, lastError: "not sent: the URL must be an https URL" });
      // What a name resolves to may change: retried, and refused each time.
      expect(named).toMatchObject({
        status: "PENDING",
        lastError: "not sent: the URL localhost must resolve to public addresses only",
      });
      expect(local.received).toHaveLength(0);
    } finally {
      for (const row of rows) await call(strict.url, "DELETE", `/webhook-endpoints/${row.id}`);
    }
  });
});

describe("the number of endpoints", () => {
  let capped: TestStack;
  beforeAll(async () => {
    capped = await startTestStack({
      databaseUrl: await scratchDatabase("cap"),
      env: { WEBHOOK_MAX_ENDPOINTS: "3" },
      startWorker: false,
    });
  });
  afterAll(async () => {
    await capped?.stop();
  });

  it("is capped, also under concurrent requests, with 409 and what to do", async () => {
    const attempts = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call(capped.url, "POST", "/webhook-endpoints", {
          url: `https://93.184.216.34/hooks/${i}`,
          eventTypes: ["checkout.completed"],
        }),
      ),
    );
    expect(attempts.map((a) => a.status).sort()).toEqual([201, 201, 201, 409, 409, 409]);
    const refused = attempts.find((a) => a.status === 409)!;
    expect(refused.json.error).toEqual({
      code: "endpoint_limit_reached",
      message:
        "This merchant has 3 webhook endpoints, the most allowed (3, WEBHOOK_MAX_ENDPOINTS): delete one before adding another.",
    });
    // A public address passes the guard; the URL is kept as it will be called.
    const made = attempts.find((a) => a.status === 201)!.json;
    expect(made.url).toMatch(/^https:\/\/93\.184\.216\.34\/hooks\/\d$/);

    expect((await call(capped.url, "DELETE", `/webhook-endpoints/${made.id}`)).status).toBe(204);
    const again = await call(capped.url, "POST", "/webhook-endpoints", {
      url: "https://93.184.216.34/hooks/again",
      eventTypes: ["checkout.completed"],
    });
    expect(again.status, again.text).toBe(201);
    expect(await capped.db.webhookEndpoint.count({ where: { merchantId: capped.merchantId, deletedAt: null } })).toBe(3);

    // The cap is each merchant's: another one still has all of its own.
    const other = await createMerchant(capped.db, "another merchant");
    const otherKey = (await createApiKey(capped.db, { merchantId: other.id, type: "secret", scopes: SCOPES })).key;
    const theirs = await call(
      capped.url,
      "POST",
      "/webhook-endpoints",
      { url: "https://93.184.216.34/hooks/theirs", eventTypes: ["checkout.completed"] },
      { authorization: `Bearer ${otherKey}` },
    );
    expect(theirs.status, theirs.text).toBe(201);
  });
});
