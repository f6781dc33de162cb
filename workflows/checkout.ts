// The checkout, as the business tells it: create the order, charge the customer, tell them.
// A decline or providers that stay down fail the checkout cleanly (order marked, customer
// told); a customer who must act (3-D Secure, an approval page, a QR code) is waited for until a
// deadline, then the provider is asked; a cancel before charging ends it CANCELLED. Every step,
// attempt, signal and error is in the workflow history, which is the audit trail. The payment
// itself (providers, retries spent, the customer's action) is its own step: payment-step.ts.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  TemporalFailure,
  upsertSearchAttributes,
  workflowInfo,
} from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";
import { startArchive } from "./archive.ts";
import {
  awaitPaymentAnswerUpdate,
  type CancelRequest,
  CHECKOUT_NOT_CANCELLABLE,
  cancelUpdate,
  DATABASE_REJECTED,
  GATEWAY_REQUEST_REJECTED,
  getStateQuery,
  PAYMENT_DECLINED,
  PAYMENT_NOT_AWAITED,
  payAgainUpdate,
  paymentEventSignal,
  paymentIdempotencyKey,
  searchAttributes,
} from "./definitions.ts";
import { emitEvent } from "./events.ts";
import { startOrderWorkflow } from "./order.ts";
import { errorMessage, failureType, type PaymentResult, pay } from "./payment-step.ts";
import {
  notificationActivityOptions,
  orderActivityOptions,
  orderLocalActivityOptions,
  riskReportActivityOptions,
} from "./retry-policies.ts";
import type {
  CheckoutInput,
  CheckoutState,
  CheckoutStatus,
  EventRequest,
  EventType,
  NotificationRequest,
  OrderSummary,
  PayAgainRequest,
  PaymentAttemptSummary,
  PaymentEvent,
  PaymentInstruction,
} from "./types.ts";

export const CHECKOUT_FAILED = "CheckoutFailed";
/** patched() ids: each adds commands to histories that ran before it shipped. */
const ARCHIVE_ON_CLOSE = "archive-history-on-close";
const REPORT_DECLINES = "report-declines-to-risk";
const FAIL_CLEANLY_WITHOUT_ORDER = "fail-cleanly-without-order";
/**
 * A decline no longer fails the checkout at once: it waits for a new payment (payAgainUpdate) for
 * the input's payAgainWindowSeconds. Asked only after a decline, and only by runs whose input has
 * a window (none from before it has).
 */
const PAY_AGAIN_AFTER_DECLINE = "pay-again-after-decline";
/** With fulfilmentAutoDeliverSeconds in its input, a paid checkout starts its order's workflow (its timer). */
const START_ORDER_WORKFLOW = "start-order-workflow-when-paid";
/** Payments one checkout may make, the first included: past it, a decline fails the checkout as before. */
export const MAX_PAYMENTS = 5;
/**
 * Runs from before it start a workflow per event and one to archive them, and create the order in
 * an activity task of its own. Since: the activities write the events to the outbox
 * (activities/outbox.ts), closed runs are archived in batches, and the order is created by a local
 * activity, in the first workflow task. Asked once, in that first task, so a run keeps one way.
 */
const ONE_WORKFLOW_PER_CHECKOUT = "one-workflow-per-checkout";

const orders = proxyActivities<Activities>(orderActivityOptions);
const localOrders = proxyLocalActivities<Activities>(orderLocalActivityOptions);
const notifications = proxyActivities<Activities>(notificationActivityOptions);
const risk = proxyActivities<Activities>(riskReportActivityOptions);

export async function checkout(input: CheckoutInput): Promise<CheckoutState> {
  const lean = patched(ONE_WORKFLOW_PER_CHECKOUT);
  try {
    return await runCheckout(input, lean);
  } finally {
    // However the run ends (even cancelled), its history is copied to the archive once closed:
    // by the batch archiver, or, for runs from before it, by a workflow of their own.
    if (!lean && patched(ARCHIVE_ON_CLOSE)) await CancellationScope.nonCancellable(() => startArchive(input.checkoutId));
  }
}

async function runCheckout(input: CheckoutInput, lean: boolean): Promise<CheckoutState> {
  const { workflowId } = workflowInfo();
  const state: CheckoutState = {
    checkoutId: input.checkoutId,
    status: "RUNNING",
    step: "CREATING_ORDER",
    payment: { status: "NOT_STARTED", provider: input.payment.provider, attempts: 0 },
  };
  let cancelRequest: CancelRequest | undefined;
  /** A new payment given while the checkout awaits one (REQUIRES_PAYMENT_METHOD), not yet taken up. */
  let nextPayment: PayAgainRequest | undefined;
  const pendingEvents: PaymentEvent[] = [];
  /** While a payment is awaited after a decline: nothing is charging, so the checkout may still be cancelled. */
  const awaitingPayment = () => state.status === "REQUIRES_PAYMENT_METHOD" && !nextPayment && !cancelRequest;

  setHandler(getStateQuery, () => state);
  setHandler(awaitPaymentAnswerUpdate, async (seconds) => {
    await condition(() => state.status !== "RUNNING" || state.payment.status === "SUCCEEDED", Math.min(seconds, 30) * 1000);
    return state;
  });
  setHandler(paymentEventSignal, (event) => {
    state.payment.events = [...(state.payment.events ?? []), event];
    pendingEvents.push(event);
  });
  setHandler(
    cancelUpdate,
    async (request) => {
      cancelRequest = request;
      await condition(() => state.step === "DONE");
      return state;
    },
    {
      validator: (_request: CancelRequest) => {
        if (awaitingPayment()) return;
        if (state.step === "DONE" || state.payment.status !== "NOT_STARTED") {
          throw ApplicationFailure.nonRetryable(
            state.step === "DONE"
              ? `The checkout is already ${state.status}.`
              : "The payment has already started; the checkout can no longer be cancelled.",
            CHECKOUT_NOT_CANCELLABLE,
          );
        }
      },
    },
  );

  setHandler(
    payAgainUpdate,
    async (request) => {
      // The SDK runs a handler's first synchronous part right after its validator, so the first of
      // racing requests takes the wait before the next is validated. Checked again here all the
      // same (an interceptor could await in between): exactly one is taken, the others fail.
      if (!awaitingPayment()) {
        throw ApplicationFailure.nonRetryable("A payment of this checkout is already in progress.", PAYMENT_NOT_AWAITED);
      }
      // Taken at once: a later request finds this one in progress.
      nextPayment = { payment: request.payment, requestedBy: request.requestedBy };
      state.payment.status = "PROCESSING";
      setStatus("RUNNING");
      // Answers at once, or once the new payment has its first answer (at most 30 s: `Prefer: wait`).
      const waitSeconds = Math.min(request.waitSeconds ?? 30, 30);
      if (waitSeconds > 0) {
        await condition(() => state.status !== "RUNNING" || state.payment.status === "SUCCEEDED", waitSeconds * 1000);
      }
      return state;
    },
    {
      validator: (_request) => {
        if (awaitingPayment()) return;
        throw ApplicationFailure.nonRetryable(
          state.step === "DONE"
            ? `The checkout is already ${state.status}.`
            : state.status === "REQUIRES_PAYMENT_METHOD" || state.payment.status === "PROCESSING"
              ? "A payment of this checkout is already in progress."
              : state.payment.status === "NOT_STARTED"
                ? "The checkout's payment has not been tried yet."
                : "The checkout is not awaiting a new payment: only a declined payment can be made again.",
          PAYMENT_NOT_AWAITED,
        );
      },
    },
  );

  const setStatus = (status: CheckoutStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: searchAttributes.CheckoutStatus, value: status }]);
  };
  const finish = (status: CheckoutStatus) => {
    state.step = "DONE";
    setStatus(status);
  };
  const notify = (template: NotificationRequest["template"], order: OrderSummary, reason?: string, event?: EventRequest) =>
    notifications.sendNotification.executeWithOptions({ summary: `email ${template} to the customer` }, [
      { checkoutId: input.checkoutId, template, recipient: input.customer.email, order, items: input.items, reason, event },
    ]);
  /** The event an activity writes with its change (a lean run's); older runs emit their own. */
  const eventFor = (type: EventType, status: CheckoutStatus): EventRequest | undefined =>
    lean ? { sourceWorkflowId: workflowId, type, status } : undefined;

  /** Tells subscribers and the broker; never waits for them (see workflows/events.ts). */
  const emit = async (type: EventType) => {
    await emitEvent(workflowId, type, input.checkoutId, {
      checkoutId: input.checkoutId,
      status: state.status,
      customerId: input.customer.id,
      order: state.order && {
        id: state.order.orderId,
        totalAmount: state.order.totalAmount,
        currency: state.order.currency,
        items: input.items,
      },
      payment: {
        provider: state.payment.provider,
        method: input.payment.method,
        status: state.payment.status,
        gatewayReference: state.payment.gatewayReference ?? null,
        failureReason: state.failureReason ?? null,
      },
    });
  };

  /**
   * Every way a checkout ends unpaid: the order's own compensation (cancelled, marked failed),
   * the customer told, the event out. A FAILED checkout also fails its run, so that it stands out
   * in the Web UI and the CLI, where an operator can reset it to retry the payment.
   */
  async function endUnpaid(ending: {
    status: "CANCELLED" | "EXPIRED" | "FAILED";
    template: NotificationRequest["template"];
    event: EventType;
    order: OrderSummary;
    reason?: string;
    /** Given the event to write with the compensation (a lean run's). */
    compensate?: (event?: EventRequest) => Promise<unknown>;
  }): Promise<CheckoutState> {
    state.step = "COMPENSATING";
    const event = ending.compensate ? eventFor(ending.event, ending.status) : undefined;
    await ending.compensate?.(event);
    await notify(ending.template, ending.order, ending.reason);
    finish(ending.status);
    // Without an order there was no database write to carry the event: it gets its own workflow.
    if (!event) await emit(ending.event);
    if (ending.status === "FAILED") throw ApplicationFailure.nonRetryable(ending.reason ?? "", CHECKOUT_FAILED, state);
    return state;
  }

  let order: OrderSummary;
  try {
    order = lean
      ? await localOrders.createOrder.executeWithOptions({ summary: "create order" }, [input])
      : await orders.createOrder.executeWithOptions({ summary: "create order" }, [input]);
  } catch (err) {
    // A local activity fails with its own failure (an ApplicationFailure, a timeout), not an ActivityFailure.
    const stepFailed = err instanceof ActivityFailure || (lean && err instanceof TemporalFailure);
    if (!stepFailed || !patched(FAIL_CLEANLY_WITHOUT_ORDER)) throw err;
    // The order could not be recorded (the database refused it, or stayed down for the step's
    // whole time): nothing was charged. The customer is told, the history keeps why.
    state.lastError = { type: failureType(err) ?? "OrderNotRecorded", message: errorMessage(err) };
    state.failureReason = "We could not record your order, so no payment was taken.";
    return endUnpaid({
      status: "FAILED",
      template: "checkout-failed",
      event: "checkout.failed",
      order: { orderId: "", totalAmount: input.totalAmount ?? 0, currency: input.currency },
      reason: state.failureReason,
    });
  }
  state.order = order;

  /** Ends it CANCELLED, as asked (cancelUpdate): the order cancelled, the customer told. `when` goes in the step's summary. */
  const endCancelled = ({ reason }: CancelRequest, when: string) =>
    endUnpaid({
      status: "CANCELLED",
      template: "checkout-cancelled",
      event: "checkout.cancelled",
      order,
      reason,
      async compensate(event) {
        await orders.cancelOrder.executeWithOptions({ summary: `cancel the order: cancelled ${when}` }, [
          { checkoutId: input.checkoutId, reason, event },
        ]);
        state.payment.status = "CANCELLED";
      },
    });

  if (cancelRequest) return endCancelled(cancelRequest, "before payment");

  /** Ends it EXPIRED, unpaid in time: the order cancelled, the customer told. `why` goes in the step's summary. */
  const endExpired = (reason: string, why: string) => {
    state.payment.status = "CANCELLED";
    state.failureReason = reason;
    return endUnpaid({
      status: "EXPIRED",
      template: "checkout-expired",
      event: "checkout.expired",
      order,
      reason,
      compensate: (event) =>
        orders.cancelOrder.executeWithOptions({ summary: `cancel the order: ${why}` }, [
          { checkoutId: input.checkoutId, reason, event },
        ]),
    });
  };

  const paymentContext = {
    input,
    order,
    state,
    pendingEvents,
    setStatus,
    eventOnSuccess: eventFor("payment.succeeded", "RUNNING"),
  };
  let outcome = await pay(paymentContext, workflowId);

  /** A decline counts towards the customer's risk hold (an outage does not: that is nobody's doing). */
  async function reportDecline(code: string, reason: string) {
    try {
      await risk.reportPaymentFailure.executeWithOptions(
        { summary: `report the decline to customer ${input.customer.id}'s risk check` },
        [{ merchantId: input.merchantId, customerId: input.customer.id, checkoutId: input.checkoutId, code, reason }],
      );
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err; // the history keeps why; the checkout goes on all the same
    }
  }

  // Pay again: after a decline, the customer may give another payment (payAgainUpdate) within the
  // window; each one is a payment step of its own, under its own idempotency key.
  const payAgainWindow = input.payAgainWindowSeconds ?? 0;
  let instruction: PaymentInstruction = input.payment;
  const attempts: PaymentAttemptSummary[] = [];
  while (
    outcome.kind === "declined" &&
    payAgainWindow > 0 &&
    attempts.length + 1 < MAX_PAYMENTS &&
    patched(PAY_AGAIN_AFTER_DECLINE)
  ) {
    const declined = outcome;
    attempts.push(attemptSummary(workflowId, attempts.length + 1, instruction, declined));
    state.payment = {
      ...state.payment,
      status: "FAILED",
      action: undefined,
      paymentAttempts: [...attempts],
      payAgainUntil: new Date(Date.now() + payAgainWindow * 1000).toISOString(),
    };
    state.lastError = { type: PAYMENT_DECLINED, message: declined.reason };
    state.failureReason = declined.reason;
    await reportDecline(declined.code, declined.reason);
    state.step = "AWAITING_PAYMENT_METHOD";
    setStatus("REQUIRES_PAYMENT_METHOD");
    // A durable timer: the window is in the history, whatever restarts meanwhile.
    await condition(() => nextPayment !== undefined || cancelRequest !== undefined, payAgainWindow * 1000);
    state.payment.payAgainUntil = undefined;
    if (cancelRequest && !nextPayment) return endCancelled(cancelRequest, "after a declined payment");
    if (!nextPayment) {
      return endExpired("Your payment was declined and no new payment was made in time.", "no new payment after the decline");
    }
    instruction = nextPayment.payment;
    nextPayment = undefined;
    state.lastError = undefined;
    state.failureReason = undefined;
    if (instruction.provider !== input.payment.provider) {
      upsertSearchAttributes([{ key: searchAttributes.PaymentProvider, value: instruction.provider }]);
    }
    outcome = await pay({ ...paymentContext, again: { payment: instruction, attempt: attempts.length + 1 } }, workflowId);
  }
  if (attempts.length > 0) {
    attempts.push(attemptSummary(workflowId, attempts.length + 1, instruction, outcome));
    state.payment.paymentAttempts = [...attempts];
  }

  if (outcome.kind === "paid") {
    const paid = outcome.result;
    const paidAt = new Date().toISOString(); // the workflow's clock: the task that learned of the payment
    state.payment = {
      ...state.payment,
      status: "SUCCEEDED",
      provider: paid.provider,
      attempts: Math.max(state.payment.attempts, paid.attempts),
      gatewayReference: paid.reference,
      action: undefined,
    };
    state.lastError = undefined;
    if (state.status === "REQUIRES_ACTION") setStatus("RUNNING");
    if (!lean) await emit("payment.succeeded");
    state.step = "SENDING_NOTIFICATION";
    const completed = eventFor("checkout.completed", "COMPLETED");
    await notify("order-paid", order, undefined, completed);
    if (input.fulfilmentAutoDeliverSeconds && patched(START_ORDER_WORKFLOW)) {
      await startOrderWorkflow({
        orderId: order.orderId,
        checkoutId: input.checkoutId,
        merchantId: input.merchantId,
        recipient: input.customer.email,
        order,
        items: input.items,
        confirmedAt: paidAt,
        autoDeliverSeconds: input.fulfilmentAutoDeliverSeconds,
      });
    }
    finish("COMPLETED");
    if (!completed) await emit("checkout.completed");
    return state;
  }

  if (outcome.kind === "expired") return endExpired("The payment was not completed in time.", "not paid in time");

  const declined = outcome.kind === "declined" ? outcome : undefined;
  const rejected = outcome.kind === "rejected" ? outcome : undefined;
  const reason =
    declined?.reason ??
    (rejected ? rejectionReason(rejected) : "The payment provider could not be reached; the payment was not completed.");
  state.payment.status = "FAILED";
  if (declined?.attempt) state.payment.attempts = declined.attempt;
  state.lastError = {
    type: declined ? PAYMENT_DECLINED : (rejected?.type ?? "PaymentUnavailable"),
    message: outcome.kind === "unavailable" || outcome.kind === "rejected" ? outcome.message : reason,
  };
  state.failureReason = reason;
  const code =
    declined?.code ??
    (rejected ? (rejected.type === DATABASE_REJECTED ? "database_rejected" : "gateway_rejected") : "gateway_unavailable");
  return endUnpaid({
    status: "FAILED",
    template: "payment-failed",
    event: "payment.failed",
    order,
    reason,
    async compensate(event) {
      await orders.markPaymentFailed.executeWithOptions({ summary: `mark the order payment failed (${code})` }, [
        { checkoutId: input.checkoutId, code, reason, event },
      ]);
      // A decline (not an outage: that is nobody's doing) counts towards the customer's risk hold.
      if (declined && patched(REPORT_DECLINES)) await reportDecline(code, reason);
    },
  });
}

/** One payment of the checkout, as GET /checkouts/{id} lists them once the customer paid again. */
function attemptSummary(
  workflowId: string,
  number: number,
  payment: PaymentInstruction,
  outcome: PaymentResult,
): PaymentAttemptSummary {
  // A fallback provider that took the payment has a key of its own.
  const provider = outcome.kind === "paid" ? outcome.result.provider : payment.provider;
  return {
    number,
    provider,
    method: payment.method,
    idempotencyKey: paymentIdempotencyKey(workflowId, provider === payment.provider ? undefined : provider, number),
    outcome:
      outcome.kind === "paid"
        ? "succeeded"
        : outcome.kind === "declined"
          ? "declined"
          : outcome.kind === "expired"
            ? "expired"
            : "failed",
    ...(outcome.kind === "declined" ? { failureCode: outcome.code, failureReason: outcome.reason } : {}),
  };
}

/** What the customer is told. A provider's refusal (a 4xx) processed nothing; a refused write may follow a charge. */
function rejectionReason(rejected: Extract<PaymentResult, { kind: "rejected" }>): string {
  return rejected.type === GATEWAY_REQUEST_REJECTED
    ? "The payment could not be made: the request was refused. You have not been charged."
    : "The payment could not be completed because of an error on our side; any amount taken will be returned.";
}
