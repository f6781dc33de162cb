// An order's life after payment, on the real stack: cancel before payment (the checkout ends
// CANCELLED), after payment (a full refund by the order's workflow, linked to the order, which
// ends CANCELLED), once shipped (409 naming why); fulfilment by requests (shipped, delivered) and
// by the FULFILMENT_AUTO_DELIVER_SECONDS timer; each change emails the customer and writes its
// event to the outbox. A ship and a cancel racing give one outcome.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCOPES } from "../api/caller.ts";
import { createApiKey } from "../merchants/api-keys.ts";
import { checkoutWorkflowId, orderWorkflowId } from "../workflows/definitions.ts";
import { call, startCheckout, until, validCheckout, waitForCheckout } from "./support/http.ts";
import { recordHistory } from "./support/record-history.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const ended = (body: any) => ["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"].includes(body?.status);
const subjectsFor = (stack: TestStack, checkoutId: string) =>
  stack.mail.messages.filter((m) => m.raw.includes(checkoutId)).map((m) => m.subject);
const eventsOf = async (stack: TestStack, checkoutId: string) =>
  (await stack.db.event.findMany({ where: { checkoutId }, orderBy: { createdAt: "asc" } })).map((e) => ({
    type: e.type,
    data: e.data as any,
  }));
const eventTypes = async (stack: TestStack, checkoutId: string) => (await eventsOf(stack, checkoutId)).map((e) => e.type).sort();

/** A paid order: its checkout completed. */
async function paidOrder(stack: TestStack) {
  const id = await startCheckout(stack.url, validCheckout("tok_approve"));
  const done = await waitForCheckout(stack.url, id, ended);
  expect(done.status).toBe("COMPLETED");
  return { checkoutId: id, orderId: done.order.id as string };
}

describe("cancel and fulfil an order", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { PAY_AGAIN_WINDOW_SECONDS: "120" } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("cancels before payment: the checkout ends CANCELLED, nothing charged, one email", async () => {
    // Declined and awaiting a new payment: the order exists, nothing is charging.
    const id = await startCheckout(stack.url, validCheckout("tok_decline"));
    const waiting = await waitForCheckout(stack.url, id, (b) => b.status === "REQUIRES_PAYMENT_METHOD");
    const cancelled = await call(stack.url, "POST", `/orders/${waiting.order.id}/cancel`, { reason: "changed my mind" });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json).toMatchObject({
      status: "CANCELLED",
      cancellation: { reason: "changed my mind", refundId: null, cancelledAt: expect.any(String) },
    });
    const checkout = await waitForCheckout(stack.url, id, ended);
    expect(checkout.status).toBe("CANCELLED");
    expect(await stack.db.sandboxCharge.count({ where: { checkoutId: id, status: "SUCCEEDED" } })).toBe(0);
    expect(await stack.db.refund.count({ where: { checkoutId: id } })).toBe(0);
    expect(subjectsFor(stack, id)).toEqual(["Your order was cancelled"]);
    expect(await eventTypes(stack, id)).toEqual(["checkout.cancelled"]);
    // No order workflow was needed.
    await expect(stack.temporal.workflow.getHandle(orderWorkflowId(waiting.order.id)).describe()).rejects.toThrow();

    const again = await call(stack.url, "DELETE", `/orders/${waiting.order.id}`);
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("order_cancelled");
  });

  it("cancels after payment: a full refund, linked to the order, which ends CANCELLED; emails and order.cancelled", async () => {
    const { checkoutId, orderId } = await paidOrder(stack);
    const cancelled = await call(stack.url, "POST", `/orders/${orderId}/cancel`, { reason: "out of stock" });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json).toMatchObject({ status: "CANCELLED", cancellation: { reason: "out of stock" } });
    const { refundId } = cancelled.json.cancellation;
    expect(refundId).toMatch(/^re_/);

    const refunds = await call(stack.url, "GET", `/checkouts/${checkoutId}/refunds`);
    expect(refunds.json.data).toEqual([expect.objectContaining({ id: refundId, status: "SUCCEEDED", amount: 3998 })]);
    const checkout = await call(stack.url, "GET", `/checkouts/${checkoutId}`);
    expect(checkout.json).toMatchObject({
      status: "COMPLETED",
      payment: { refundedAmount: 3998 },
      order: { status: "CANCELLED" },
    });
    const charge = await stack.db.sandboxCharge.findFirstOrThrow({ where: { checkoutId, status: "SUCCEEDED" } });
    expect(Number(charge.refundedAmount)).toBe(3998);

    await until(() => (subjectsFor(stack, checkoutId).length === 3 ? true : undefined));
    expect(subjectsFor(stack, checkoutId).sort()).toEqual(
      ["Payment received: $39.98", "Refund issued: $39.98", "Your order was cancelled and $39.98 refunded"].sort(),
    );
    const events = await until(async () => {
      const all = await eventsOf(stack, checkoutId);
      return all.some((e) => e.type === "refund.succeeded") ? all : undefined;
    });
    expect(events.map((e) => e.type).sort()).toEqual(
      ["checkout.completed", "order.cancelled", "payment.succeeded", "refund.succeeded"].sort(),
    );
    expect(events.find((e) => e.type === "order.cancelled")?.data).toMatchObject({
      orderStatus: "CANCELLED",
      cancellation: { refundId },
      order: { id: orderId },
    });

    // The compensation is in the order workflow's history: the refund, as its child.
    const handle = stack.temporal.workflow.getHandle(orderWorkflowId(orderId));
    await handle.result();
    const history = await handle.fetchHistory();
    expect(
      history.events?.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name === "refund"),
    ).toBe(true);
    await recordHistory(stack.temporal, orderWorkflowId(orderId), "order-cancelled-refunded.json");

    // The checkout's audit tells the order's later life too: the cancel, who asked, the refund.
    const audit = await call(stack.url, "GET", `/checkouts/${checkoutId}/audit`);
    expect(audit.status, audit.text).toBe(200);
    expect(audit.text).not.toContain("ada@example.com");
    expect(audit.json.order).toMatchObject({
      workflowId: orderWorkflowId(orderId),
      executionStatus: "COMPLETED",
      updates: [{ name: "cancelOrder", result: "completed", input: { reason: "out of stock" } }],
      children: [{ workflowType: "refund" }],
      outcome: { status: "CANCELLED" },
    });

    const again = await call(stack.url, "POST", `/orders/${orderId}/cancel`);
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("order_cancelled");
  });

  it("ships, refuses a cancel once shipped (409 naming why), then delivers; an email and an event for each", async () => {
    const { checkoutId, orderId } = await paidOrder(stack);
    const shipped = await call(stack.url, "POST", `/orders/${orderId}/shipment`, { carrier: "UPS", tracking: "1Z999" });
    expect(shipped.status, shipped.text).toBe(200);
    expect(shipped.json).toMatchObject({ status: "SHIPPED", shipment: { carrier: "UPS", tracking: "1Z999" } });

    const refused = await call(stack.url, "POST", `/orders/${orderId}/cancel`, { reason: "too late" });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe("order_shipped");
    expect(refused.json.error.message).toContain("it has shipped (UPS, tracking 1Z999)");
    // The same shipment again is a client's retry: the same answer, no second email or event (counted below).
    const twice = await call(stack.url, "POST", `/orders/${orderId}/shipment`, { carrier: "UPS", tracking: "1Z999" });
    expect(twice.status, twice.text).toBe(200);
    expect(twice.json).toMatchObject({ status: "SHIPPED", shipment: { carrier: "UPS", tracking: "1Z999" } });
    const another = await call(stack.url, "POST", `/orders/${orderId}/shipment`, { carrier: "DHL", tracking: "JD0001" });
    expect(another.status).toBe(409);

    const delivered = await call(stack.url, "POST", `/orders/${orderId}/delivery`);
    expect(delivered.status, delivered.text).toBe(200);
    expect(delivered.json).toMatchObject({ status: "DELIVERED", deliveredAt: expect.any(String) });
    expect((await call(stack.url, "GET", `/orders/${orderId}`)).json.status).toBe("DELIVERED");
    const deliveredAgain = await call(stack.url, "POST", `/orders/${orderId}/delivery`);
    expect(deliveredAgain.status, deliveredAgain.text).toBe(200);
    expect(deliveredAgain.json.deliveredAt).toBe(delivered.json.deliveredAt);
    expect((await call(stack.url, "GET", `/checkouts/${checkoutId}`)).json.status).toBe("COMPLETED");

    await stack.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();
    expect(subjectsFor(stack, checkoutId)).toEqual([
      "Payment received: $39.98",
      "Your order has shipped",
      "Your order was delivered",
    ]);
    const shippedMail = stack.mail.messages.find((m) => m.raw.includes(checkoutId) && m.subject === "Your order has shipped");
    expect(shippedMail?.raw).toContain("1Z999");
    expect(await eventTypes(stack, checkoutId)).toEqual(
      ["checkout.completed", "order.delivered", "order.shipped", "payment.succeeded"].sort(),
    );
    expect(await stack.db.refund.count({ where: { checkoutId } })).toBe(0);
    await recordHistory(stack.temporal, orderWorkflowId(orderId), "order-shipped-delivered.json");
    const audit = await call(stack.url, "GET", `/checkouts/${checkoutId}/audit`);
    expect(audit.json.order.updates.map((u: any) => [u.name, u.result, u.input])).toEqual([
      ["ship", "completed", { carrier: "UPS", tracking: "1Z999" }],
      ["deliver", "completed", null],
    ]);
    expect(audit.json.order.steps.map((s: any) => s.activityType)).toEqual([
      "recordShipment",
      "sendNotification",
      "recordDelivery",
      "sendNotification",
    ]);

    const late = await call(stack.url, "DELETE", `/orders/${orderId}`);
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe("order_delivered");
  });

  it("hands order events to the merchant's subscribers, like every event", async () => {
    const received: Array<{ type: string; data: any }> = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        received.push(JSON.parse(body));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    const endpoint = await call(stack.url, "POST", "/webhook-endpoints", {
      url,
      eventTypes: ["order.shipped", "order.delivered", "order.cancelled"],
    });
    expect(endpoint.status, endpoint.text).toBe(201);
    try {
      const { checkoutId, orderId } = await paidOrder(stack);
      expect((await call(stack.url, "POST", `/orders/${orderId}/shipment`, { carrier: "UPS", tracking: "Z1" })).status).toBe(200);
      expect((await call(stack.url, "POST", `/orders/${orderId}/delivery`)).status).toBe(200);
      const mine = () => received.filter((e) => e.data.checkoutId === checkoutId);
      await until(() => (mine().length >= 2 ? true : undefined));
      // Each event is a delivery of its own: they may arrive in either order.
      expect(
        mine()
          .map((e) => [e.type, e.data.orderStatus])
          .sort(),
      ).toEqual([
        ["order.delivered", "DELIVERED"],
        ["order.shipped", "SHIPPED"],
      ]);
      expect(mine().find((e) => e.type === "order.shipped")?.data.shipment).toMatchObject({ carrier: "UPS", tracking: "Z1" });
      expect(JSON.stringify(mine())).not.toContain("ada@example.com");
    } finally {
      await call(stack.url, "DELETE", `/webhook-endpoints/${endpoint.json.id}`);
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("a shipment and a cancel racing: one is accepted, the other refused, and the order shows the winner", async () => {
    const { checkoutId, orderId } = await paidOrder(stack);
    const [ship, cancel] = await Promise.all([
      call(stack.url, "POST", `/orders/${orderId}/shipment`, { carrier: "DHL", tracking: "JD0001" }),
      call(stack.url, "POST", `/orders/${orderId}/cancel`),
    ]);
    expect([ship.status, cancel.status].sort(), `${ship.text}\n${cancel.text}`).toEqual([200, 409]);
    const order = (await call(stack.url, "GET", `/orders/${orderId}`)).json;
    expect(order.status).toBe(ship.status === 200 ? "SHIPPED" : "CANCELLED");
    expect(await stack.db.refund.count({ where: { checkoutId } })).toBe(cancel.status === 200 ? 1 : 0);
  });

  it("fulfilment is the merchant's: a browser cannot ship; a key without refunds:write cannot cancel a paid order", async () => {
    const { orderId } = await paidOrder(stack);
    const browser = { authorization: `Bearer ${stack.publishableKey}` };
    const ship = await call(stack.url, "POST", `/orders/${orderId}/shipment`, { carrier: "UPS", tracking: "1" }, browser);
    expect(ship.status).toBe(403);
    const checkoutsOnly = await createApiKey(stack.db, {
      merchantId: stack.merchantId,
      type: "secret",
      scopes: ["checkouts:write"],
    });
    const cancel = await call(stack.url, "POST", `/orders/${orderId}/cancel`, undefined, {
      authorization: `Bearer ${checkoutsOnly.key}`,
    });
    expect(cancel.status).toBe(403);
    expect(cancel.json.error.message).toContain("refunds:write");
    const noShip = await call(
      stack.url,
      "POST",
      `/orders/${orderId}/shipment`,
      { carrier: "UPS", tracking: "1" },
      {
        authorization: `Bearer ${checkoutsOnly.key}`,
      },
    );
    expect(noShip.status).toBe(403);
    const other = await createApiKey(stack.db, {
      merchantId: (await stack.db.merchant.create({ data: { id: `mer_other_${Date.now()}`, name: "other" } })).id,
      type: "secret",
      scopes: SCOPES,
    });
    const foreign = await call(stack.url, "POST", `/orders/${orderId}/cancel`, undefined, {
      authorization: `Bearer ${other.key}`,
    });
    expect(foreign.status).toBe(404);
    expect((await call(stack.url, "GET", `/orders/${orderId}`)).json.status).toBe("PAID");
    // Nothing was let through, and by default a paid checkout starts no second workflow.
    await expect(stack.temporal.workflow.getHandle(orderWorkflowId(orderId)).describe()).rejects.toThrow(/not found/i);
  });

  it("lets the customer's browser cancel a paid order with the checkout's client secret", async () => {
    const started = await call(stack.url, "POST", "/checkouts", validCheckout("tok_approve"), {
      authorization: `Bearer ${stack.publishableKey}`,
    });
    const { id, clientSecret } = started.json;
    const done = await waitForCheckout(stack.url, id, ended);
    const browser = { authorization: `Bearer ${stack.publishableKey}` };
    expect((await call(stack.url, "POST", `/orders/${done.order.id}/cancel`, undefined, browser)).status).toBe(404);
    const cancelled = await call(
      stack.url,
      "POST",
      `/orders/${done.order.id}/cancel?client_secret=${clientSecret}`,
      undefined,
      browser,
    );
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.json.status).toBe("CANCELLED");
  });
});

describe("delivery on a timer (FULFILMENT_AUTO_DELIVER_SECONDS)", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { FULFILMENT_AUTO_DELIVER_SECONDS: "3" } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("marks a paid order delivered after the time, with its email and order.delivered", async () => {
    const { checkoutId, orderId } = await paidOrder(stack);
    expect((await call(stack.url, "GET", `/orders/${orderId}`)).json.status).toBe("PAID");
    const order = await until(async () => {
      const o = (await call(stack.url, "GET", `/orders/${orderId}`)).json;
      return o.status === "DELIVERED" ? o : undefined;
    }, 30_000);
    expect(order.deliveredAt).toEqual(expect.any(String));
    await stack.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();
    expect(subjectsFor(stack, checkoutId)).toEqual(["Payment received: $39.98", "Your order was delivered"]);
    expect(await eventTypes(stack, checkoutId)).toEqual(["checkout.completed", "order.delivered", "payment.succeeded"]);
    await recordHistory(stack.temporal, checkoutWorkflowId(checkoutId), "checkout-auto-deliver-completed.json");
    await recordHistory(stack.temporal, orderWorkflowId(orderId), "order-auto-delivered.json");
  });

  it("a shipment before the timer: the timer still delivers it", async () => {
    const { orderId } = await paidOrder(stack);
    const shipped = await call(stack.url, "POST", `/orders/${orderId}/shipment`, { carrier: "UPS", tracking: "T1" });
    expect(shipped.status, shipped.text).toBe(200);
    const order = await until(async () => {
      const o = (await call(stack.url, "GET", `/orders/${orderId}`)).json;
      return o.status === "DELIVERED" ? o : undefined;
    }, 30_000);
    expect(order.shipment).toMatchObject({ carrier: "UPS", tracking: "T1" });
  });
});
