// The event outbox: a checkout's activities write its events in the transactions of the changes
// they report, and the task queue's relay hands them out. A checkout no one subscribes to runs as
// one workflow: no event workflow, no archive workflow.
import { WorkflowNotFoundError } from "@temporalio/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withEvent, writeCheckoutEvent } from "../activities/outbox.ts";
import { archiveWorkflowId, checkoutWorkflowId, eventRelayWorkflowId, eventWorkflowId } from "../workflows/definitions.ts";
import { startCheckout, until, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const eventsOf = (checkoutId: string) => stack.db.event.findMany({ where: { checkoutId }, orderBy: { createdAt: "asc" } });

describe("the event outbox", () => {
  it("a checkout no one subscribes to starts no workflow but its own; the relay hands its events out", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    expect((await waitForCheckout(stack.url, id)).status).toBe("COMPLETED");
    const workflowId = checkoutWorkflowId(id);
    const handle = stack.temporal.workflow.getHandle(workflowId);
    const { events } = await handle.fetchHistory();
    expect((events ?? []).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toEqual([]);
    const { runId } = await handle.describe();
    for (const other of [
      eventWorkflowId(workflowId, "payment.succeeded"),
      eventWorkflowId(workflowId, "checkout.completed"),
      archiveWorkflowId(workflowId, runId),
    ]) {
      await expect(stack.temporal.workflow.getHandle(other).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    }

    // Written with the changes they report, then marked dispatched by the relay.
    const dispatched = await until(async () => {
      const rows = await eventsOf(id);
      return rows.length === 2 && rows.every((r) => r.dispatchedAt) ? rows : undefined;
    });
    expect(dispatched.map((e) => e.type)).toEqual(["payment.succeeded", "checkout.completed"]);
    const [paid, completed] = dispatched.map((e) => e.data as Record<string, any>);
    expect(paid).toMatchObject({
      checkoutId: id,
      status: "RUNNING",
      customerId: "cus_1",
      order: { totalAmount: 3998, currency: "USD", items: [{ sku: "tee", quantity: 2, unitAmount: 1999 }] },
      payment: { provider: "sandbox", status: "SUCCEEDED", failureReason: null },
    });
    expect(paid.payment.gatewayReference).toEqual(expect.any(String));
    expect(completed).toMatchObject({ status: "COMPLETED", payment: { status: "SUCCEEDED" } });
    expect(dispatched.every((e) => e.sourceWorkflowId === workflowId && e.merchantId === stack.merchantId)).toBe(true);

    const relay = await stack.temporal.workflow.getHandle(eventRelayWorkflowId(stack.taskQueue)).describe();
    expect(relay.status.name).toBe("RUNNING");
  });

  it("a declined payment's event carries the committed failure", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_decline"));
    expect((await waitForCheckout(stack.url, id)).status).toBe("FAILED");
    const [failed] = await until(async () => {
      const rows = await eventsOf(id);
      return rows.length > 0 ? rows : undefined;
    });
    expect(failed.type).toBe("payment.failed");
    expect(failed.data).toMatchObject({
      status: "FAILED",
      payment: { status: "FAILED", failureReason: "Your card was declined." },
    });
  });

  it("writes an event once however often its activity is retried, and only with its change", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    await waitForCheckout(stack.url, id);
    const [first] = await until(async () => {
      const rows = await eventsOf(id);
      return rows.length === 2 ? rows : undefined;
    });
    // A retried attempt writes the same event again: the row stands as the first attempt wrote it.
    const again = { sourceWorkflowId: checkoutWorkflowId(id), type: "payment.succeeded" as const, status: "RUNNING" as const };
    await stack.db.$transaction((tx) => writeCheckoutEvent(tx, id, again));
    const after = await eventsOf(id);
    expect(after).toHaveLength(2);
    expect(after[0]).toEqual(first);

    // A change that fails takes its event with it.
    const cancelled = { ...again, type: "checkout.cancelled" as const, status: "CANCELLED" as const };
    await expect(
      withEvent(stack.db, id, cancelled, async () => {
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
    // And an event that cannot be written (no such order) takes its change with it.
    const name = `outbox-rollback-${id}`;
    await expect(
      withEvent(stack.db, "chk_no_such_checkout", cancelled, (tx) => tx.merchant.create({ data: { id: name, name } })),
    ).rejects.toThrow(/no order/);
    expect(await stack.db.merchant.findUnique({ where: { id: name } })).toBeNull();
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(["payment.succeeded", "checkout.completed"]);
  });
});
