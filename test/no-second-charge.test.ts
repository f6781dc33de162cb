// No second charge on any path, even once the provider has forgotten our idempotency key (Stripe
// keeps keys for a day): before any charge that may repeat one, the provider is asked by the
// charge's reference, else by our key; a failover believes "no charge" only from a lookup that
// cannot lag, or from two lookups spaced beyond the provider's search lag. And a refund whose
// outcome stays unknown stays PENDING, its amount reserved, instead of being released.
// Against the Stripe fake, which can forget keys, lag its search and lose answers (dropNext).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkoutWorkflowId } from "../workflows/definitions.ts";
import { type FakeStripe, startFakeStripe, stripeEnv } from "./fakes/stripe.ts";
import { cli } from "./support/cli-process.ts";
import { call, chargesFor, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";
import { temporalCli } from "./support/temporal-cli.ts";

/** The adapter's idea of Stripe's search lag, for this file: how long a failover waits to confirm. */
const SEARCH_LAG_SECONDS = 12;

let fake: FakeStripe;
let stack: TestStack;
beforeAll(async () => {
  fake = await startFakeStripe();
  stack = await startTestStack({
    paymentRetryWindowSeconds: 5,
    env: {
      ...stripeEnv(fake),
      STRIPE_SEARCH_LAG_SECONDS: String(SEARCH_LAG_SECONDS),
      REFUND_RETRY_WINDOW_SECONDS: "5",
    },
  });
});
afterEach(() => {
  fake.failNext(0);
  fake.setSearchLag(0);
  fake.setKeyRetention(Number.POSITIVE_INFINITY);
});
afterAll(async () => {
  await stack?.stop();
  await fake?.stop();
});

const byStripe = (token = "pm_card_visa", fallbackProviders?: string[]) =>
  validCheckout(token, { payment: { provider: "stripe", token, ...(fallbackProviders ? { fallbackProviders } : {}) } });
const intentsFor = (id: string) => fake.paymentIntents().filter((pi) => pi.metadata?.checkout_id === id);
const refundsOf = (intentId: string) => fake.refunds().filter((r) => r.payment_intent === intentId);

/** Waits for the workflow's newest run to close, and returns its status and run id. */
async function latestRunEnds(id: string, otherThan: string) {
  const handle = stack.temporal.workflow.getHandle(checkoutWorkflowId(id));
  await expect
    .poll(
      async () => {
        const d = await handle.describe();
        return d.runId !== otherThan && d.status.name !== "RUNNING";
      },
      { timeout: 45_000 },
    )
    .toBe(true);
  return handle.describe();
}

function activityNames(
  events: Awaited<ReturnType<ReturnType<TestStack["temporal"]["workflow"]["getHandle"]>["fetchHistory"]>>["events"],
) {
  return (events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
}

describe("a new run after the provider forgot the key charges nothing", () => {
  it("`temporal workflow reset` of a completed checkout: asked by reference, found paid, one PaymentIntent", async () => {
    const id = await startCheckout(stack.url, byStripe());
    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
    expect(intentsFor(id)).toHaveLength(1);
    const firstRun = (await stack.temporal.workflow.getHandle(checkoutWorkflowId(id)).describe()).runId;

    fake.setKeyRetention(0); // a day later: the key is gone, a POST under it would charge again
    await temporalCli([
      "workflow",
      "reset",
      "-w",
      checkoutWorkflowId(id),
      "--type",
      "FirstWorkflowTask",
      "--reason",
      "replay it",
    ]);
    const after = await latestRunEnds(id, firstRun);

    expect(after.status.name).toBe("COMPLETED");
    expect(intentsFor(id)).toHaveLength(1);
    const seen = await call(stack.url, "GET", `/checkouts/${id}`);
    expect(seen.json).toMatchObject({
      status: "COMPLETED",
      payment: { status: "SUCCEEDED", gatewayReference: intentsFor(id)[0].id },
    });
    expect(stack.mail.messages.filter((m) => m.raw.includes(id))).toHaveLength(1);
  });

  it("`checkout retry` of a checkout whose charge went through unanswered: asked by key, found paid, one PaymentIntent", async () => {
    // The charge is made but its answer is lost, then Stripe answers 503 for the whole retry window.
    fake.dropNext({ method: "POST", path: "/v1/payment_intents" });
    fake.failNext(10_000, 503, undefined, { path: "/v1/payment_intents" });
    const id = await startCheckout(stack.url, byStripe());
    const failed = await waitForCheckout(stack.url, id, undefined, 40_000);
    expect(failed.status).toBe("FAILED");
    expect(failed.lastError).toMatchObject({ type: "PaymentUnavailable" });
    expect(intentsFor(id).map((pi) => pi.status)).toEqual(["succeeded"]);

    fake.failNext(0);
    fake.setKeyRetention(0);
    const run = await cli(["retry", id, "--reason", "stripe is back"], { TEMPORAL_TASK_QUEUE: stack.taskQueue });
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
    expect(run.stdout.trim()).toBe(`${id} COMPLETED`);
    expect(intentsFor(id)).toHaveLength(1);
    const seen = await call(stack.url, "GET", `/checkouts/${id}`);
    expect(seen.json).toMatchObject({
      status: "COMPLETED",
      order: { status: "PAID" },
      payment: { gatewayReference: intentsFor(id)[0].id },
    });
  });
});

describe("failover", () => {
  it("after a charge that went through unanswered, a lagging search is asked again past its lag: paid at Stripe, no failover", async () => {
    fake.setSearchLag((SEARCH_LAG_SECONDS - 2) * 1000);
    fake.dropNext({ method: "POST", path: "/v1/payment_intents" });
    fake.failNext(10_000, 503, undefined, { method: "POST", path: "/v1/payment_intents" });
    const id = await startCheckout(stack.url, byStripe("pm_card_visa", ["sandbox"]));
    const done = await waitForCheckout(stack.url, id, undefined, 60_000);

    expect(done.status).toBe("COMPLETED");
    expect(done.payment).toMatchObject({ status: "SUCCEEDED", provider: "stripe", gatewayReference: intentsFor(id)[0]?.id });
    expect(done.payment.failovers).toBeUndefined();
    expect(intentsFor(id)).toHaveLength(1);
    expect(await chargesFor(stack.url, id)).toEqual([]);
    // Asked twice after the retries: the first answer (nothing yet) was not believed.
    const events = (await stack.temporal.workflow.getHandle(checkoutWorkflowId(id)).fetchHistory()).events;
    expect(activityNames(events).filter((n) => n === "checkAfterRetries")).toHaveLength(2);
    expect((events ?? []).some((e) => e.timerStartedEventAttributes)).toBe(true);
  });
});

describe("refunds whose answer was lost", () => {
  async function paidCheckout(): Promise<{ id: string; intentId: string }> {
    const id = await startCheckout(stack.url, byStripe());
    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
    return { id, intentId: done.payment.gatewayReference };
  }
  const refund = (id: string, amount: number, key: string) =>
    call(stack.url, "POST", `/checkouts/${id}/refunds`, { amount }, { "idempotency-key": key });
  const refundsIn = async (id: string) => (await call(stack.url, "GET", `/checkouts/${id}/refunds`)).json.data as any[];

  it("made, but unanswered, with the key forgotten: the next attempt finds it by our key; refunded once", async () => {
    const { id, intentId } = await paidCheckout();
    // The key outlives the SDK's own resend (0.25 to 0.5 s later) but not the activity's next
    // attempt (a second after that): as if a day had passed between our attempts.
    fake.setKeyRetention(900);
    fake.dropNext({ method: "POST", path: "/v1/refunds" });
    fake.dropNext({ method: "POST", path: "/v1/refunds" });
    const res = await refund(id, 1000, `lost-${id}`);
    expect(res.status, res.text).toBe(202);
    await expect.poll(async () => (await refundsIn(id)).map((r) => r.status), { timeout: 20_000 }).toEqual(["SUCCEEDED"]);
    expect(refundsOf(intentId).map((r) => [r.amount, r.status])).toEqual([[1000, "succeeded"]]);
  });

  it("unknown for longer than the refund window: stays PENDING for an operator, and caps what can still be refunded", async () => {
    const { id, intentId } = await paidCheckout();
    fake.dropNext({ method: "POST", path: "/v1/refunds" });
    fake.failNext(10_000, 500, undefined, { path: "/v1/refunds" });
    const res = await refund(id, 1000, `unknown-${id}`);
    expect(res.status, res.text).toBe(202);

    await expect
      .poll(async () => (await refundsIn(id))[0]?.needsAttention ?? null, { timeout: 40_000 })
      .toMatch(/outcome is unknown/);
    const [pending] = await refundsIn(id);
    expect(pending).toMatchObject({ status: "PENDING", amount: 1000 });
    // Stripe did make it: releasing the 1000 would let a later refund give back more than was paid.
    expect(refundsOf(intentId)).toHaveLength(1);
    const workflow = stack.temporal.workflow.getHandle(`refund-${id}-${pending.id}`);
    await expect.poll(async () => (await workflow.describe()).status.name, { timeout: 10_000 }).toBe("FAILED");

    fake.failNext(0);
    const tooMuch = await refund(id, 3998 - 1000 + 1, `more-${id}`);
    expect(tooMuch.status, tooMuch.text).toBe(422);
    expect(tooMuch.json.error.code).toBe("refund_exceeds_captured");
    const rest = await refund(id, 3998 - 1000, `rest-${id}`);
    expect(rest.status, rest.text).toBe(202);

    const listed = await cli(["refunds", "--attention", "--checkout", id]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(pending.id);
    expect(listed.stdout).toContain("needs attention: the outcome is unknown");
  });
});
