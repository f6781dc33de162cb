// No endless retries: an error that no retry can fix ends the checkout FAILED at once and cleanly
// (customer told, operator sees why), instead of being retried for ever. Two such errors, from the
// real parts: the database refusing the order's write (a trigger raising check_violation, in this
// file's own scratch database), and a provider refusing the request with a 400 that is not a decline.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { applyMigrations } from "../prisma/migrations.ts";
import { type FakeStripe, startFakeStripe, stripeEnv } from "./fakes/stripe.ts";
import { createScratchDatabase, dropDatabase } from "./support/databases.ts";
import { LOCAL_ACTIVITY_MARKER, stepTypes } from "./support/history-steps.ts";
import { chargesFor, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const admin = inject("adminDatabaseUrl");
let databaseUrl: string;
let fake: FakeStripe;
let stack: TestStack;

beforeAll(async () => {
  databaseUrl = await createScratchDatabase(admin, `checkout_bounded_${randomBytes(4).toString("hex")}`);
  await applyMigrations(databaseUrl);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  // A write the database refuses every time, as a constraint would: a retry cannot fix it.
  await client.query(`
    CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.sku = 'poison' THEN
        RAISE EXCEPTION 'this item may not be sold' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER refuse_poison BEFORE INSERT ON "OrderItem" FOR EACH ROW EXECUTE FUNCTION refuse_poison();`);
  await client.end();
  fake = await startFakeStripe();
  stack = await startTestStack({
    databaseUrl,
    env: {
      ...stripeEnv(fake),
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await fake?.stop();
  if (databaseUrl) await dropDatabase(admin, databaseUrl);
});

const history = (id: string) => stack.temporal.workflow.getHandle(`checkout-${id}`).fetchHistory();
const mailsFor = (id: string) => stack.mail.messages.filter((m) => m.raw.includes(id));

describe("an error that no retry can fix", () => {
  it("a write the database refuses: createOrder fails once, not again, and the checkout ends FAILED with the customer told", async () => {
    const body = validCheckout("tok_approve", { items: [{ sku: "poison", name: "Poison", quantity: 1, unitAmount: 500 }] });
    const id = await startCheckout(stack.url, body);
    const done = await waitForCheckout(stack.url, id);

    expect(done.status).toBe("FAILED");
    expect(done.step).toBe("DONE");
    expect(done.order).toBeNull();
    expect(done.lastError).toMatchObject({
      type: "DatabaseRejected",
      message: expect.stringContaining("this item may not be sold"),
    });
    expect(done.failureReason).toBe("We could not record your order, so no payment was taken.");
    expect(await chargesFor(stack.url, id)).toEqual([]);

    // One attempt (a local activity's: one marker), failed as non-retryable: no retry loop, and no payment step.
    const { events } = await history(id);
    const runs = (events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER);
    expect(runs).toHaveLength(1);
    expect(
      runs[0].markerRecordedEventAttributes?.failure?.cause?.applicationFailureInfo ??
        runs[0].markerRecordedEventAttributes?.failure?.applicationFailureInfo,
    ).toMatchObject({
      type: "DatabaseRejected",
      nonRetryable: true,
    });
    expect(stepTypes(events)).toEqual(["createOrder", "sendNotification"]);

    await expect.poll(() => mailsFor(id).map((m) => m.subject), { timeout: 10_000 }).toEqual(["We could not take your order"]);
    expect(mailsFor(id)[0].raw).toContain("You have not been charged.");
    await expect
      .poll(async () => (await stack.db.event.findMany({ where: { checkoutId: id } })).map((e) => e.type), { timeout: 10_000 })
      .toEqual(["checkout.failed"]);
  });

  it("a request the provider refuses (400, not a decline): FAILED at once as gateway_rejected, nothing charged, no failover", async () => {
    const before = fake.requestCount;
    const body = validCheckout("pm_card_unknown", {
      payment: { provider: "stripe", token: "pm_card_unknown", fallbackProviders: ["sandbox"] },
    });
    const id = await startCheckout(stack.url, body);
    const done = await waitForCheckout(stack.url, id);

    expect(done.status).toBe("FAILED");
    expect(done.payment).toMatchObject({ status: "FAILED", provider: "stripe", failureCode: "gateway_rejected" });
    expect(done.payment.failovers).toBeUndefined();
    expect(done.lastError).toMatchObject({
      type: "GatewayRequestRejected",
      message: expect.stringContaining("No such PaymentMethod"),
    });
    expect(done.failureReason).toMatch(/the request was refused\. You have not been charged\./);
    expect(fake.paymentIntents().filter((pi) => pi.metadata?.checkout_id === id)).toEqual([]);
    expect(fake.requestCount - before).toBe(1);
    expect(await chargesFor(stack.url, id)).toEqual([]);
    expect(stepTypes((await history(id)).events)).toEqual([
      "createOrder",
      "initiatePayment",
      "markPaymentFailed",
      "sendNotification",
    ]);
    await expect
      .poll(() => mailsFor(id).map((m) => m.subject), { timeout: 10_000 })
      .toEqual(["Your payment of $39.98 did not go through"]);
  });
});
