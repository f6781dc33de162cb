// Events out to subscribers: webhooks signed the Standard Webhooks way (verified here with the
// `standardwebhooks` package, as a subscriber would), only the types asked for, retried with
// backoff, logged, and never slowing the checkout down.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../infra/free-port.ts";
import { call, startCheckout, until, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
  json: { id: string; type: string; created_at: string; data: Record<string, any> };
}

/** A real HTTP subscriber; `answers` is the status to give each request in turn (then 200). */
async function subscriber(answers: number[] = []) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ headers: req.headers, body, json: JSON.parse(body) });
      res.writeHead(answers.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return { url, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function register(url: string, eventTypes: string[]) {
  const res = await call(stack.url, "POST", "/webhook-endpoints", { url, eventTypes });
  expect(res.status, res.text).toBe(201);
  return res.json as { id: string; secret: string; url: string; eventTypes: string[] };
}

let stack: TestStack;
const endpoints: string[] = [];
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  // Unsubscribe, so that pending retries end.
  for (const id of endpoints) await call(stack.url, "DELETE", `/webhook-endpoints/${id}`);
  await stack?.stop();
});

describe("webhook endpoints", () => {
  it("deliver signed events of the subscribed types only", async () => {
    const hooks = await subscriber();
    try {
      const endpoint = await register(hooks.url, ["checkout.completed", "payment.succeeded"]);
      endpoints.push(endpoint.id);
      expect(endpoint.secret).toMatch(/^whsec_/);
      const listed = await call(stack.url, "GET", "/webhook-endpoints");
      const mine = listed.json.data.find((e: { id: string }) => e.id === endpoint.id);
      expect(mine).toMatchObject({ url: hooks.url, eventTypes: ["checkout.completed", "payment.succeeded"] });
      expect(mine.secret).toBeUndefined();

      const id = await startCheckout(stack.url, validCheckout("tok_approve"));
      await waitForCheckout(stack.url, id);
      const mineOnly = () => hooks.received.filter((r) => r.json.data.checkoutId === id);
      await until(() => (mineOnly().length >= 2 ? true : undefined));
      await new Promise((r) => setTimeout(r, 500)); // nothing else arrives
      const events = mineOnly();
      expect(events.map((e) => e.json.type).sort()).toEqual(["checkout.completed", "payment.succeeded"]);

      for (const event of events) {
        const headers = event.headers as Record<string, string>;
        expect(new Webhook(endpoint.secret).verify(event.body, headers)).toEqual(event.json);
        expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString("base64")}`).verify(event.body, headers)).toThrow();
        expect(event.json.id).toMatch(/^evt_/);
        expect(headers["webhook-id"]).toBe(event.json.id);
        expect(headers["checkout-event-id"]).toBe(event.json.id);
        expect(headers["checkout-event-type"]).toBe(event.json.type);
        expect(new Date(event.json.created_at).getTime()).not.toBeNaN();
        expect(event.json.data).toMatchObject({
          checkoutId: id,
          customerId: "cus_1",
          order: { totalAmount: 3998, currency: "USD" },
        });
        expect(event.body).not.toContain("ada@example.com");
        expect(event.body).not.toContain("tok_approve");
      }
      const completed = events.find((e) => e.json.type === "checkout.completed")!;
      expect(completed.json.data.status).toBe("COMPLETED");
    } finally {
      await hooks.close();
    }
  });

  it("a declined payment sends payment.failed to its subscribers", async () => {
    const hooks = await subscriber();
    try {
      const endpoint = await register(hooks.url, ["payment.failed"]);
      endpoints.push(endpoint.id);
      const id = await startCheckout(stack.url, validCheckout("tok_decline"));
      await waitForCheckout(stack.url, id);
      const event = await until(() => hooks.received.find((r) => r.json.data.checkoutId === id));
      expect(event.json.type).toBe("payment.failed");
      expect(event.json.data.payment).toMatchObject({ status: "FAILED", failureReason: "Your card was declined." });
    } finally {
      await hooks.close();
    }
  });

  it("retries a subscriber that answers 500 twice, and logs the attempts", async () => {
    const hooks = await subscriber([500, 500]);
    try {
      const endpoint = await register(hooks.url, ["checkout.completed"]);
      endpoints.push(endpoint.id);
      const id = await startCheckout(stack.url, validCheckout("tok_approve"));
      await waitForCheckout(stack.url, id);
      const delivery = await until(async () => {
        const log = await call(stack.url, "GET", `/webhook-endpoints/${endpoint.id}/deliveries`);
        return log.json.data.find((d: { status: string }) => d.status === "DELIVERED");
      });
      expect(delivery).toMatchObject({ eventType: "checkout.completed", attempts: 3, lastStatusCode: 200, lastError: null });
      expect(delivery.deliveredAt).not.toBeNull();
      expect(hooks.received).toHaveLength(3);
      expect(new Set(hooks.received.map((r) => r.json.id)).size).toBe(1); // the same event each time
    } finally {
      await hooks.close();
    }
  });

  it("a subscriber that is down does not slow the checkout", async () => {
    const down = `http://127.0.0.1:${await freePort()}/hooks`;
    const endpoint = await register(down, ["payment.succeeded", "checkout.completed"]);
    endpoints.push(endpoint.id);
    const started = Date.now();
    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
    expect(Date.now() - started).toBeLessThan(5_000);
    const pending = await until(async () => {
      const log = await call(stack.url, "GET", `/webhook-endpoints/${endpoint.id}/deliveries`);
      const rows = log.json.data as Array<{ status: string; lastError: string | null }>;
      return rows.length === 2 && rows.every((d) => d.lastError) ? rows : undefined;
    });
    expect(pending.map((d) => d.status)).toEqual(["PENDING", "PENDING"]);
    // The same words for every network failure: the log does not tell a closed port from others.
    expect(pending.map((d) => d.lastError)).toEqual(["the endpoint could not be reached", "the endpoint could not be reached"]);
  });

  it("refuses bad registrations and unknown endpoints", async () => {
    const bad = await call(stack.url, "POST", "/webhook-endpoints", { url: "ftp://x", eventTypes: ["nope"] });
    expect(bad.status).toBe(400);
    expect(bad.json.error.fields.map((f: { field: string }) => f.field).sort()).toEqual(["eventTypes.0", "url"]);
    expect((await call(stack.url, "DELETE", "/webhook-endpoints/we_missing")).status).toBe(404);
    expect((await call(stack.url, "GET", "/webhook-endpoints/we_missing/deliveries")).status).toBe(404);
  });
});
