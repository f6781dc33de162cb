// Encrypted payloads end to end: a checkout's history as the Temporal server itself hands it out
// (the real `temporal` CLI, with no codec) holds neither the customer's email, nor the payment
// token, nor the client's IP or user agent in clear; the codec server (real HTTP, its token, the
// Web UI's origin only) and `temporal --codec-endpoint` read them back; the audit and the archive
// read the history decrypted (the archive still without email or token).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { historyToText } from "../archive/history-json.ts";
import { type CodecServer, startCodecServer } from "../codec/server.ts";
import { cli } from "./support/cli-process.ts";
import { call, waitForCheckout } from "./support/http.ts";
import { encryptedPayloads, readable } from "./support/payload-text.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";
import { temporalCli } from "./support/temporal-cli.ts";

const uiOrigin = "http://127.0.0.1:18233";
const token = randomBytes(24).toString("hex");
const email = "grace.hopper.codec@example.com";
const paymentToken = "tok_approve";
const clientIp = "203.0.113.77";
const userAgent = "CodecTest/1.0 (+never-in-clear)";

let stack: TestStack;
let codec: CodecServer;
let checkoutId: string;
let workflowId: string;

beforeAll(async () => {
  // The test's request comes from 127.0.0.1: as a trusted proxy, its X-Forwarded-For names the client.
  stack = await startTestStack({ env: { TRUSTED_PROXIES: "127.0.0.1" } });
  codec = await startCodecServer({ codec: stack.codec, token, corsOrigins: [uiOrigin], host: "127.0.0.1", port: 0 });
  const res = await call(
    stack.url,
    "POST",
    "/checkouts",
    {
      customer: { id: "cus_codec", email },
      items: [{ sku: "tee", name: "T-shirt", quantity: 2, unitAmount: 1999 }],
      currency: "USD",
      payment: { provider: "sandbox", token: paymentToken },
    },
    { "x-forwarded-for": clientIp, "user-agent": userAgent },
  );
  expect(res.status, res.text).toBe(202);
  checkoutId = res.json.id;
  workflowId = `checkout-${checkoutId}`;
  expect((await waitForCheckout(stack.url, checkoutId)).status).toBe("COMPLETED");
});

afterAll(async () => {
  await codec?.close();
  await stack?.stop();
});

const secrets = [email, paymentToken, clientIp, userAgent];

const showJson = (...extra: string[]) => temporalCli(["workflow", "show", "-w", workflowId, "--output", "json", ...extra]);

describe("the history on the Temporal server", () => {
  it("holds no email, token, IP or user agent in clear: every payload is encrypted", async () => {
    const raw = await showJson();
    const text = readable(raw);
    for (const secret of secrets) expect(text, secret).not.toContain(secret);
    // The input, each activity's arguments and result, the memo, the summaries, the result.
    expect(encryptedPayloads(JSON.parse(raw)).length).toBeGreaterThan(10);
    // The search attributes stay in clear (the server indexes them): none of them is a secret.
    expect(text).toContain("cus_codec");
  });

  it("reads in clear through the codec server: `temporal workflow show --codec-endpoint --codec-auth`", async () => {
    const text = readable(await showJson("--codec-endpoint", codec.endpoint, "--codec-auth", `Bearer ${token}`));
    for (const secret of secrets) expect(text, secret).toContain(secret);
  });

  it("the same payloads, POSTed to /codec/decode as the Web UI does, decode to the email, token, IP and user agent", async () => {
    const payloads = encryptedPayloads(JSON.parse(await showJson()));
    const res = await fetch(`${codec.endpoint}/decode`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-namespace": "default", authorization: `Bearer ${token}` },
      body: JSON.stringify({ payloads }),
    });
    expect(res.status).toBe(200);
    const decoded = await res.text();
    expect(encryptedPayloads(JSON.parse(decoded))).toEqual([]);
    const text = readable(decoded);
    for (const secret of secrets) expect(text, secret).toContain(secret);
  });
});

describe("the codec server over HTTP", () => {
  const preflight = (origin: string) =>
    fetch(`${codec.endpoint}/decode`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-namespace" },
    });

  it("answers 401 without the token, or with another", async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: "Bearer wrong-token-wrong-token" }];
    for (const headers of attempts) {
      const res = await fetch(`${codec.endpoint}/decode`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ payloads: [] }),
      });
      expect(res.status).toBe(401);
    }
    expect((await fetch(`${codec.endpoint}/not-the-token/decode`, { method: "POST", body: "{}" })).status).toBe(401);
  });

  it("lets the Web UI's origin through a CORS preflight and refuses another origin", async () => {
    const ok = await preflight(uiOrigin);
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe(uiOrigin);
    expect(ok.headers.get("access-control-allow-headers")).toMatch(/X-Namespace/i);
    const refused = await preflight("http://127.0.0.1:9999");
    expect(refused.status).toBe(403);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("the readers of the history", () => {
  it("`checkout replay` replays a history saved encrypted, with the keys, and names the key it lacks without them", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "checkout-encrypted-"));
    try {
      // As Temporal hands it out (fetchHistory decodes nothing), in the corpus's format.
      const raw = historyToText(await stack.temporal.workflow.getHandle(workflowId).fetchHistory());
      expect(encryptedPayloads(JSON.parse(raw)).length).toBeGreaterThan(10);
      const file = path.join(dir, "encrypted.json");
      await writeFile(file, `{"workflowId":${JSON.stringify(workflowId)},"history":${raw}}`);
      const replayed = await cli(["replay", file]);
      expect(replayed.stderr).toBe("");
      expect(replayed.stdout).toContain("1 of 1 histories replay");
      expect(replayed.code).toBe(0);
      const keyless = await cli(["replay", file], { PAYLOAD_ENCRYPTION_KEYS: undefined });
      expect(keyless.code).toBe(1);
      expect(keyless.stderr).toMatch(/key "test", which PAYLOAD_ENCRYPTION_KEYS does not hold/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("GET /checkouts/{id}/audit decrypts it: where the checkout came from, and still no email or token", async () => {
    const audit = await call(stack.url, "GET", `/checkouts/${checkoutId}/audit`);
    expect(audit.status).toBe(200);
    expect(audit.text).toContain(clientIp);
    expect(audit.text).toContain(userAgent);
    expect(audit.text).not.toContain(email);
    expect(audit.text).not.toContain(paymentToken);
  });

  it("the archive keeps it decrypted, with the email and the token removed", async () => {
    await expect.poll(() => stack.db.historyArchive.count({ where: { workflowId } }), { timeout: 30_000 }).toBeGreaterThan(0);
    const record = await stack.db.historyArchive.findFirstOrThrow({ where: { workflowId } });
    expect(encryptedPayloads(JSON.parse(record.history))).toEqual([]);
    const text = readable(record.history);
    expect(text).toContain(clientIp);
    expect(text).not.toContain(email);
    expect(text).not.toContain(paymentToken);
  });
});
