// Events to NATS JetStream, read back by a real consumer: one message per event id (JetStream
// de-duplication), the webhook payload, and a checkout's events end to end. Needs a NATS server
// with JetStream on NATS_TEST_URL (default nats://127.0.0.1:4222); without one those tests are
// skipped, and say so.
import { randomBytes } from "node:crypto";
import { connect, type JetStreamManager, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createNatsPublisher, eventSubject, parseEventsUrl } from "../activities/broker.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { freePort } from "../infra/free-port.ts";
import { applyMigrations } from "../prisma/migrations.ts";
import type { CheckoutEvent } from "../workflows/types.ts";
import { createScratchDatabase, dropDatabase } from "./support/databases.ts";
import { startCheckout, until, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const natsUrl = process.env.NATS_TEST_URL || "nats://127.0.0.1:4222";

/** Why the NATS tests cannot run here, or undefined when a JetStream server answers. */
async function probeNats(url: string): Promise<string | undefined> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ ...parseEventsUrl(url), timeout: 2_000, reconnect: false });
    await (await nc.jetstreamManager()).getAccountInfo(); // throws when JetStream is not enabled
    return undefined;
  } catch (err) {
    return `${(err as Error).message || (err as { code?: string }).code || String(err)}`;
  } finally {
    await nc?.close().catch(() => {});
  }
}

const unavailable = await probeNats(natsUrl);
if (unavailable) {
  console.warn(`[broker.test] SKIPPING the NATS JetStream tests: no JetStream server at ${natsUrl} (${unavailable}).`);
}

/** Names no other run or stream uses: JetStream refuses two streams over the same subjects. */
const unique = () => randomBytes(5).toString("hex").toUpperCase();

interface Read {
  subject: string;
  msgId: string | undefined;
  json: { id: string; type: string; created_at: string; data: Record<string, any> };
}

/** Everything the stream holds, read by a real (ordered) JetStream consumer. */
async function readStream(nc: NatsConnection, stream: string): Promise<Read[]> {
  const jsm = await nc.jetstreamManager();
  const count = (await jsm.streams.info(stream)).state.messages;
  const consumer = await nc.jetstream().consumers.get(stream);
  const read: Read[] = [];
  while (read.length < count) {
    const msg = await consumer.next({ expires: 2_000 });
    if (!msg) throw new Error(`stream ${stream} holds ${count} messages; read ${read.length}`);
    read.push({ subject: msg.subject, msgId: msg.headers?.get("Nats-Msg-Id"), json: msg.json() });
  }
  return read;
}

describe("configuration", () => {
  it("EVENTS_URL is optional, and must be a nats:// URL when set", () => {
    expect(loadConfig({}).events).toEqual({ url: undefined, stream: "CHECKOUT_EVENTS", subjectPrefix: "checkout.events" });
    const set = loadConfig({ EVENTS_URL: "nats://u:p@nats:4222", EVENTS_STREAM: "ORDERS", EVENTS_SUBJECT_PREFIX: "shop.events" });
    expect(set.events).toEqual({ url: "nats://u:p@nats:4222", stream: "ORDERS", subjectPrefix: "shop.events" });
    for (const [name, value] of [
      ["EVENTS_URL", "http://nats:4222"],
      ["EVENTS_URL", "not a url"],
      ["EVENTS_STREAM", "checkout.events"],
      ["EVENTS_SUBJECT_PREFIX", "checkout.>"],
    ]) {
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(name);
    }
  });

  it("parses nats:// URLs, with credentials when present", () => {
    expect(parseEventsUrl("nats://127.0.0.1:4222")).toEqual({ servers: "127.0.0.1:4222" });
    expect(parseEventsUrl("nats://nats")).toEqual({ servers: "nats:4222" });
    expect(parseEventsUrl("nats://app:s%40cret@nats:4223")).toEqual({ servers: "nats:4223", user: "app", pass: "s@cret" });
    expect(parseEventsUrl("nats://tok3n@nats:4222")).toEqual({ servers: "nats:4222", token: "tok3n" });
    expect(() => parseEventsUrl("redis://u:secret@host")).toThrow(/nats:\/\/.*\*\*\*@host/);
    expect(eventSubject("payment.succeeded")).toBe("checkout.events.payment.succeeded");
  });
});

describe.skipIf(unavailable)(`NATS JetStream at ${natsUrl}${unavailable ? " (skipped: not reachable)" : ""}`, () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const streams: string[] = [];
  beforeAll(async () => {
    nc = await connect(parseEventsUrl(natsUrl));
    jsm = await nc.jetstreamManager();
  });
  afterAll(async () => {
    for (const stream of streams) await jsm?.streams.delete(stream).catch(() => {});
    await nc?.close();
  });

  it("stores an event once however often it is published, with the webhook payload", async () => {
    const id = unique();
    const stream = `CHECKOUT_TEST_${id}`;
    const subjectPrefix = `test_${id}.checkout.events`;
    streams.push(stream);
    const publisher = createNatsPublisher(natsUrl, { stream, subjectPrefix });
    const event: CheckoutEvent = {
      id: `evt_test_${id.toLowerCase()}`,
      type: "payment.succeeded",
      createdAt: new Date().toISOString(),
      data: { checkoutId: `chk_${id}`, order: { totalAmount: 3998, currency: "USD" } },
    };
    try {
      await publisher.publish(event);
      await publisher.publish(event); // a retried activity: same event id
      await Promise.all([publisher.publish(event), publisher.publish(event)]);

      const info = await jsm.streams.info(stream);
      expect(info.config.subjects).toEqual([`${subjectPrefix}.>`]);
      expect(info.config.duplicate_window).toBe(24 * 60 * 60 * 1e9);
      expect(info.state.messages).toBe(1);
      const [read] = await readStream(nc, stream);
      expect(read.subject).toBe(`${subjectPrefix}.payment.succeeded`);
      expect(read.msgId).toBe(event.id);
      expect(read.json).toEqual({ id: event.id, type: event.type, created_at: event.createdAt, data: event.data });

      // Another event id is another message.
      await publisher.publish({ ...event, id: `${event.id}_2`, type: "checkout.completed" });
      expect((await jsm.streams.info(stream)).state.messages).toBe(2);

      // The stream deleted under a running worker: that attempt fails, the retry creates it again.
      await jsm.streams.delete(stream);
      await expect(publisher.publish(event)).rejects.toThrow(/could not publish/);
      await publisher.publish(event);
      expect((await jsm.streams.info(stream)).state.messages).toBe(1);
    } finally {
      await publisher.close();
    }
    await expect(publisher.publish(event)).rejects.toThrow(/closed/);
  });

  it("publish throws when no acknowledgement comes, so the activity retries", async () => {
    const down = createNatsPublisher(`nats://127.0.0.1:${await freePort()}`, { connectTimeoutMs: 1_000 });
    const event: CheckoutEvent = { id: "evt_down", type: "checkout.completed", createdAt: new Date().toISOString(), data: {} };
    await expect(down.publish(event)).rejects.toThrow(/could not publish evt_down to checkout\.events\.checkout\.completed/);
    await down.close();

    // Reachable, but its stream does not capture the subject: no ack, an error.
    const id = unique();
    const stream = `CHECKOUT_TEST_${id}`;
    streams.push(stream);
    await jsm.streams.add({ name: stream, subjects: [`test_${id}.other.>`] });
    const misrouted = createNatsPublisher(natsUrl, { stream, subjectPrefix: `test_${id}.checkout.events`, ackTimeoutMs: 1_000 });
    try {
      await expect(misrouted.publish({ ...event, id: `evt_${id}` })).rejects.toThrow(/could not publish/);
    } finally {
      await misrouted.close();
    }
  });

  describe("end to end", () => {
    const id = unique();
    const stream = `CHECKOUT_TEST_${id}`;
    const subjectPrefix = `test_${id}.checkout.events`;
    let stack: TestStack;
    let databaseUrl: string;
    beforeAll(async () => {
      streams.push(stream);
      // A database of its own: a relay hands out every event its outbox holds, and the run's shared
      // one also holds the other files' checkouts' (their relays publish nowhere, this one to NATS).
      databaseUrl = await createScratchDatabase(inject("adminDatabaseUrl"), `checkout_broker_${id.toLowerCase()}`);
      await applyMigrations(databaseUrl);
      stack = await startTestStack({
        databaseUrl,
        env: { EVENTS_URL: natsUrl, EVENTS_STREAM: stream, EVENTS_SUBJECT_PREFIX: subjectPrefix },
      });
    });
    afterAll(async () => {
      await stack?.stop();
      if (databaseUrl) await dropDatabase(inject("adminDatabaseUrl"), databaseUrl);
    });

    it("a completed checkout publishes payment.succeeded and checkout.completed", async () => {
      const checkoutId = await startCheckout(stack.url, validCheckout("tok_approve"));
      expect((await waitForCheckout(stack.url, checkoutId)).status).toBe("COMPLETED");

      const events = await until(async () => {
        const info = await jsm.streams.info(stream).catch(() => undefined); // the worker creates it
        if (!info || info.state.messages < 2) return undefined;
        return readStream(nc, stream);
      });
      expect(events.map((e) => e.json.type).sort()).toEqual(["checkout.completed", "payment.succeeded"]);
      for (const event of events) {
        expect(event.subject).toBe(`${subjectPrefix}.${event.json.type}`);
        expect(event.json.id).toMatch(/^evt_/);
        expect(event.msgId).toBe(event.json.id);
        expect(new Date(event.json.created_at).getTime()).not.toBeNaN();
        expect(event.json.data).toMatchObject({ checkoutId, order: { totalAmount: 3998, currency: "USD" } });
      }
      expect(events.find((e) => e.json.type === "checkout.completed")?.json.data.status).toBe("COMPLETED");
      await new Promise((r) => setTimeout(r, 500)); // nothing else arrives
      expect((await jsm.streams.info(stream)).state.messages).toBe(2);
    });
  });
});
