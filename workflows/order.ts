// A paid order's later life, in a workflow of its own (`order-<orderId>`): CONFIRMED, then SHIPPED
// and DELIVERED; or, before it ships, CANCELLED with a full refund (the refund workflow, run as a
// child: the saga's compensation, in this history). Every change is an update whose validator
// refuses, with the reason, what the order's status does not allow, and it takes the new status
// at once: of a shipment and a cancel racing, exactly one is accepted. Each change is written with
// its event (order.shipped, order.delivered, order.cancelled) in one transaction, and the customer
// is emailed. With autoDeliverSeconds, a durable timer marks the order delivered that long after
// it was confirmed. The checkout's own workflow ends when it is paid; this one is started only
// when an order needs it (see README "Order lifecycle").
import {
  ApplicationFailure,
  allHandlersFinished,
  ChildWorkflowFailure,
  condition,
  executeChild,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  WorkflowIdReusePolicy,
  workflowInfo,
} from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";
import { isAlreadyStarted } from "./already-started.ts";
import {
  cancelOrderUpdate,
  deliverUpdate,
  getOrderStateQuery,
  ORDER_CHANGE_REFUSED,
  ORDER_REFUND_FAILED,
  orderWorkflowId,
  refundWorkflowId,
  shipUpdate,
} from "./definitions.ts";
import { refund } from "./refund.ts";
import { notificationActivityOptions, orderActivityOptions } from "./retry-policies.ts";
import type {
  DeliverRequest,
  EventType,
  NotificationRequest,
  OrderCancelRequest,
  OrderInput,
  OrderLifecycleStatus,
  OrderState,
  ShipRequest,
} from "./types.ts";

const orders = proxyActivities<Activities>(orderActivityOptions);
const notifications = proxyActivities<Activities>(notificationActivityOptions);

export async function order(input: OrderInput): Promise<OrderState> {
  const { workflowId } = workflowInfo();
  const state: OrderState = { orderId: input.orderId, checkoutId: input.checkoutId, status: "CONFIRMED" };
  /**
   * Changes are written one after another, in the order they were accepted; the customer's emails
   * likewise, in a queue of their own, so that a mail server that is down delays no change.
   */
  const queue = () => {
    let tail: Promise<unknown> = Promise.resolve();
    const inTurn = <T>(step: () => Promise<T>): Promise<T> => {
      const run = tail.then(step);
      tail = run.catch(() => {});
      return run;
    };
    return { inTurn, drained: () => tail };
  };
  const writes = queue();
  const mails = queue();
  const inTurn = writes.inTurn;
  /** An email, after the ones before it; one that fails for all its retries (a day) is kept as the last error. */
  const mailInTurn = (step: () => Promise<unknown>) =>
    mails.inTurn(step).catch((err: Error) => {
      state.lastError = { type: "EmailFailed", message: err.message };
    });
  const event = (type: EventType) => ({ sourceWorkflowId: workflowId, type, status: "COMPLETED" as const });
  const notify = (template: NotificationRequest["template"], extra: Partial<NotificationRequest> = {}) =>
    notifications.sendNotification.executeWithOptions({ summary: `email ${template} to the customer` }, [
      { checkoutId: input.checkoutId, template, recipient: input.recipient, order: input.order, items: input.items, ...extra },
    ]);
  const refuse = (message: string) => ApplicationFailure.nonRetryable(message, ORDER_CHANGE_REFUSED);
  const refuseUnless = (allowed: OrderLifecycleStatus[], doing: string) => {
    if (allowed.includes(state.status)) return;
    const why: Record<OrderLifecycleStatus, string> = {
      CONFIRMED: "it is not shipped yet",
      SHIPPED: state.shipment
        ? `it has shipped (${state.shipment.carrier}, tracking ${state.shipment.tracking})`
        : "it has shipped",
      DELIVERED: "it was delivered",
      CANCELLING: "it is being cancelled",
      CANCELLED: "it was cancelled",
    };
    throw refuse(`The order cannot be ${doing}: ${why[state.status]}.`);
  };

  function deliver(by: string): Promise<void> {
    state.status = "DELIVERED";
    state.deliveredAt = new Date().toISOString();
    state.deliveredBy = by;
    const deliveredAt = state.deliveredAt;
    const recorded = inTurn(() =>
      orders.recordDelivery.executeWithOptions({ summary: `record the delivery (${by})` }, [
        { checkoutId: input.checkoutId, deliveredAt, event: event("order.delivered") },
      ]),
    );
    void mailInTurn(() => notify("order-delivered"));
    return recorded;
  }

  setHandler(getOrderStateQuery, () => state);

  setHandler(
    shipUpdate,
    async ({ carrier, tracking }) => {
      refuseUnless(["CONFIRMED"], "shipped"); // again, as checkout.ts's payAgain handler does
      const shippedAt = new Date().toISOString();
      state.status = "SHIPPED";
      state.shipment = { carrier, tracking, shippedAt };
      await inTurn(() =>
        orders.recordShipment.executeWithOptions({ summary: `record the shipment (${carrier})` }, [
          { checkoutId: input.checkoutId, carrier, tracking, shippedAt, event: event("order.shipped") },
        ]),
      );
      // The email follows; the answer does not wait for the mail server.
      void mailInTurn(() => notify("order-shipped", { shipment: { carrier, tracking } }));
      return state;
    },
    { validator: (_request: ShipRequest) => refuseUnless(["CONFIRMED"], "shipped") },
  );

  setHandler(
    deliverUpdate,
    async ({ requestedBy }) => {
      refuseUnless(["CONFIRMED", "SHIPPED"], "marked delivered");
      await deliver(requestedBy ?? "merchant");
      return state;
    },
    { validator: (_request: DeliverRequest) => refuseUnless(["CONFIRMED", "SHIPPED"], "marked delivered") },
  );

  setHandler(
    cancelOrderUpdate,
    async ({ reason, refundId, requestedBy }) => {
      refuseUnless(["CONFIRMED"], "cancelled");
      state.status = "CANCELLING";
      state.cancellation = { reason, refundId };
      try {
        // The compensation: the whole payment back, by the refund workflow (its own emails and
        // refund.succeeded event), as a child so that it stands in this history.
        const refunded = await inTurn(() =>
          executeChild(refund, {
            workflowId: refundWorkflowId(input.checkoutId, refundId),
            args: [
              {
                refundId,
                checkoutId: input.checkoutId,
                recipient: input.recipient,
                requestedBy,
                order: input.order,
                items: input.items,
                requestedAt: new Date().toISOString(),
                retryWindowSeconds: input.refundRetryWindowSeconds,
              },
            ],
            parentClosePolicy: ParentClosePolicy.ABANDON,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            staticSummary: `Refund order ${input.orderId}: cancelled before shipping`,
          }),
        );
        state.cancellation.refundedAmount = refunded.amount;
      } catch (err) {
        if (!(err instanceof ChildWorkflowFailure)) throw err;
        // Nothing changed: the order stays confirmed, and the history keeps why.
        state.status = "CONFIRMED";
        const message = err.cause?.message ?? err.message;
        state.lastError = { type: ORDER_REFUND_FAILED, message };
        state.cancellation = undefined;
        throw ApplicationFailure.nonRetryable(
          `The order was not cancelled: its refund did not go through (${message}).`,
          ORDER_REFUND_FAILED,
        );
      }
      const cancelledAt = new Date().toISOString();
      state.cancellation.cancelledAt = cancelledAt;
      await inTurn(() =>
        orders.recordOrderCancelled.executeWithOptions({ summary: "record the cancel, with its refund" }, [
          { checkoutId: input.checkoutId, reason, refundId, cancelledAt, event: event("order.cancelled") },
        ]),
      );
      state.status = "CANCELLED";
      void mailInTurn(() =>
        notify("order-cancelled", { reason, refund: { id: refundId, amount: state.cancellation?.refundedAmount ?? 0 } }),
      );
      return state;
    },
    { validator: (_request: OrderCancelRequest) => refuseUnless(["CONFIRMED"], "cancelled") },
  );

  const ended = () => state.status === "DELIVERED" || state.status === "CANCELLED";
  if (input.autoDeliverSeconds !== undefined) {
    // A durable timer, counted from the payment: the order is taken as delivered then, unless it
    // was delivered or cancelled first (or is being cancelled).
    const dueAt = Date.parse(input.confirmedAt) + input.autoDeliverSeconds * 1000;
    const settled = await condition(() => ended() || state.status === "CANCELLING", Math.max(dueAt - Date.now(), 1));
    if (!settled) await deliver("timer");
  }
  await condition(() => ended() && allHandlersFinished());
  await writes.drained();
  await mails.drained(); // the last email
  return state;
}

/**
 * Started by a checkout once paid, when orders are delivered on a timer: an abandoned child, so it
 * outlives the checkout. Already started (a shipment came first, a replay): nothing to do.
 */
export async function startOrderWorkflow(input: OrderInput): Promise<void> {
  try {
    await startChild(order, {
      workflowId: orderWorkflowId(input.orderId),
      args: [input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `Order ${input.orderId} of checkout ${input.checkoutId}: fulfilment`,
    });
  } catch (err) {
    if (!isAlreadyStarted(err)) throw err;
  }
}
