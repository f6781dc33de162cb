// The checkout, as the business tells it: create the order, charge the customer, tell them.
// A decline or providers that stay down fail the checkout cleanly (order marked, customer
// told); a customer who must act (3-D Secure, an approval page, a QR code) is waited for until a
// deadline, then the provider is asked; a cancel before charging ends it CANCELLED. Every step,
// attempt, signal and error is in the workflow history, which is the audit trail.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";
import type { PaymentStepResult, RetriesSpentCheck } from "../activities/payments.ts";
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
  paymentEventSignal,
  paymentIdempotencyKey,
  searchAttributes,
} from "./definitions.ts";
import { emitEvent } from "./events.ts";
import {
  notificationActivityOptions,
  orderActivityOptions,
  paymentActivityOptions,
  reconcileActivityOptions,
  riskReportActivityOptions,
} from "./retry-policies.ts";
import type {
  CheckoutInput,
  CheckoutState,
  CheckoutStatus,
  EventType,
  NotificationRequest,
  OrderSummary,
  PaymentEvent,
} from "./types.ts";

export const CHECKOUT_FAILED = "CheckoutFailed";
const DEFAULT_ACTION_TIMEOUT_SECONDS = 900;
/** patched() ids: each adds commands to histories that ran before it shipped. */
const ARCHIVE_ON_CLOSE = "archive-history-on-close";
const REPORT_DECLINES = "report-declines-to-risk";
const FAIL_CLEANLY_WITHOUT_ORDER = "fail-cleanly-without-order";
const REJECTION_IS_FINAL = "provider-rejection-is-final";
const CONFIRM_NO_CHARGE = "confirm-no-charge-before-failover";
const FAILOVER_ONLY_AFTER_LOOKUP = "failover-only-after-lookup";

const orders = proxyActivities<Activities>(orderActivityOptions);
const notifications = proxyActivities<Activities>(notificationActivityOptions);
const reconciliation = proxyActivities<Activities>(reconcileActivityOptions);
const risk = proxyActivities<Activities>(riskReportActivityOptions);

/** How the payment step ended for one provider. */
type ProviderResult =
  | { kind: "paid"; result: Extract<PaymentStepResult, { status: "succeeded" }> }
  | { kind: "declined"; code: string; reason: string; attempt?: number }
  /** A request no retry can fix (the provider refused it, the database refused its write): nothing charged. */
  | { kind: "rejected"; type: string; message: string }
  | { kind: "expired" }
  /** Retries spent. `settled`: the provider, asked, shows no charge, so another provider may be tried. */
  | { kind: "unavailable"; settled: boolean; message: string };

export async function checkout(input: CheckoutInput): Promise<CheckoutState> {
  try {
    return await runCheckout(input);
  } finally {
    // However the run ends (even cancelled), its history is copied to the archive once closed.
    if (patched(ARCHIVE_ON_CLOSE)) await CancellationScope.nonCancellable(() => startArchive(input.checkoutId));
  }
}

async function runCheckout(input: CheckoutInput): Promise<CheckoutState> {
  const { workflowId } = workflowInfo();
  const payments = proxyActivities<Activities>(paymentActivityOptions(input.paymentRetryWindowSeconds));
  const state: CheckoutState = {
    checkoutId: input.checkoutId,
    status: "RUNNING",
    step: "CREATING_ORDER",
    payment: { status: "NOT_STARTED", provider: input.payment.provider, attempts: 0 },
  };
  let cancelRequest: CancelRequest | undefined;
  const pendingEvents: PaymentEvent[] = [];

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

  const setStatus = (status: CheckoutStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: searchAttributes.CheckoutStatus, value: status }]);
  };
  const finish = (status: CheckoutStatus) => {
    state.step = "DONE";
    setStatus(status);
  };
  const notify = (template: NotificationRequest["template"], order: OrderSummary, reason?: string) =>
    notifications.sendNotification.executeWithOptions({ summary: `email ${template} to the customer` }, [
      { checkoutId: input.checkoutId, template, recipient: input.customer.email, order, items: input.items, reason },
    ]);

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
    compensate?: () => Promise<unknown>;
  }): Promise<CheckoutState> {
    state.step = "COMPENSATING";
    await ending.compensate?.();
    await notify(ending.template, ending.order, ending.reason);
    finish(ending.status);
    await emit(ending.event);
    if (ending.status === "FAILED") throw ApplicationFailure.nonRetryable(ending.reason ?? "", CHECKOUT_FAILED, state);
    return state;
  }

  let order: OrderSummary;
  try {
    order = await orders.createOrder.executeWithOptions({ summary: "create order" }, [input]);
  } catch (err) {
    if (!(err instanceof ActivityFailure) || !patched(FAIL_CLEANLY_WITHOUT_ORDER)) throw err;
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

  if (cancelRequest) {
    const { reason } = cancelRequest;
    return endUnpaid({
      status: "CANCELLED",
      template: "checkout-cancelled",
      event: "checkout.cancelled",
      order,
      reason,
      async compensate() {
        await orders.cancelOrder.executeWithOptions({ summary: "cancel the order: cancelled before payment" }, [
          { checkoutId: input.checkoutId, reason },
        ]);
        state.payment.status = "CANCELLED";
      },
    });
  }

  /** One provider's whole payment step: charge, wait for the customer if need be, settle. */
  async function payWith(provider: string, idempotencyKey: string): Promise<ProviderResult> {
    state.step = "PROCESSING_PAYMENT";
    state.payment.provider = provider;
    state.payment.status = "PROCESSING";
    const request = { checkoutId: input.checkoutId, provider, idempotencyKey, order };
    const charge = `${order.totalAmount} ${order.currency}`;
    let step: PaymentStepResult;
    try {
      step = await payments.initiatePayment.executeWithOptions({ summary: `charge ${charge} via ${provider}` }, [
        {
          ...request,
          token: input.payment.token,
          method: input.payment.method,
          customerEmail: input.customer.email,
          returnUrl: input.returnUrl,
        },
      ]);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err; // a bug in this code: fail the workflow task, not the checkout
      const declined = declineOf(err);
      if (declined) return declined;
      const rejected = rejectionOf(err);
      if (rejected && patched(REJECTION_IS_FINAL)) return rejected;
      // Retries spent. An attempt may still have charged: ask before giving up on this provider.
      let check: RetriesSpentCheck;
      try {
        check = await reconciliation.checkAfterRetries.executeWithOptions(
          { summary: `ask ${provider} whether a charge of ${charge} stands after the retries` },
          [request],
        );
      } catch (checkErr) {
        if (!(checkErr instanceof ActivityFailure)) throw checkErr;
        return declineOf(checkErr) ?? { kind: "unavailable", settled: false, message: errorMessage(err) };
      }
      if (check.status === "unreachable") {
        // A provider that cannot even be asked may have charged (a resend, a lost answer): only
        // a lookup that shows no charge hands over to another provider.
        const settled = patched(FAILOVER_ONLY_AFTER_LOOKUP) ? false : !check.outcomeUnknown;
        return { kind: "unavailable", settled, message: errorMessage(err) };
      }
      if (check.status === "not_found" && check.confirmAfterSeconds && patched(CONFIRM_NO_CHARGE)) {
        // The provider's lookup by key lags: a charge made moments ago may not show yet. Ask again
        // once the lag has passed (a durable timer), and hand over to another provider only if
        // that second answer agrees.
        await sleep(check.confirmAfterSeconds * 1000);
        try {
          check = await reconciliation.checkAfterRetries.executeWithOptions(
            { summary: `ask ${provider} again, after its search lag, whether a charge of ${charge} stands` },
            [request],
          );
        } catch (checkErr) {
          if (!(checkErr instanceof ActivityFailure)) throw checkErr;
          return declineOf(checkErr) ?? { kind: "unavailable", settled: false, message: errorMessage(err) };
        }
        if (check.status === "unreachable") return { kind: "unavailable", settled: false, message: errorMessage(err) };
      }
      if (check.status === "not_found") return { kind: "unavailable", settled: true, message: errorMessage(err) };
      step = check;
    }
    state.payment.attempts = Math.max(state.payment.attempts, step.attempts);

    if (step.status === "requires_action" || step.status === "processing") {
      const waited = await awaitCustomer(step, request);
      if (waited.kind !== "settled") return waited.result;
      step = waited.step;
    }
    if (step.status === "succeeded") return { kind: "paid", result: step };
    return { kind: "unavailable", settled: false, message: `the provider left the payment ${step.status}` };
  }

  /**
   * The customer must act at the provider. Each webhook makes us ask the provider; when the
   * deadline passes with no settled payment, we ask one last time (reconciliation), and what
   * is still unpaid then expires.
   */
  async function awaitCustomer(
    first: Extract<PaymentStepResult, { status: "requires_action" | "processing" }>,
    request: { checkoutId: string; provider: string; idempotencyKey: string; order: OrderSummary },
  ): Promise<{ kind: "settled"; step: PaymentStepResult } | { kind: "ended"; result: ProviderResult }> {
    state.step = "AWAITING_CUSTOMER";
    state.payment.status = "REQUIRES_ACTION";
    if (first.status === "requires_action") state.payment.action = first.action;
    state.payment.gatewayReference = first.reference;
    setStatus("REQUIRES_ACTION");
    // A timer, not the clock: the deadline is a durable event in the history.
    let deadlinePassed = false;
    const deadline = new CancellationScope();
    deadline
      .run(() => sleep((input.paymentActionTimeoutSeconds ?? DEFAULT_ACTION_TIMEOUT_SECONDS) * 1000))
      .then(
        () => {
          deadlinePassed = true;
        },
        () => {}, // cancelled: the payment settled first
      );
    try {
      for (;;) {
        await condition(() => pendingEvents.length > 0 || deadlinePassed);
        const signalled = pendingEvents.length > 0;
        pendingEvents.length = 0;
        let step: PaymentStepResult;
        try {
          step = await reconciliation.reconcilePayment.executeWithOptions(
            { summary: `ask ${request.provider} about the charge` },
            [{ ...request, reference: first.reference }],
          );
        } catch (err) {
          if (!(err instanceof ActivityFailure)) throw err;
          const declined = declineOf(err);
          if (declined) return { kind: "ended", result: declined };
          if (!deadlinePassed) continue; // the provider is unreachable right now: wait on
          return { kind: "ended", result: { kind: "unavailable", settled: false, message: errorMessage(err) } };
        }
        if (step.status === "succeeded") return { kind: "settled", step };
        if (deadlinePassed && !signalled) {
          // Stop the charge at the provider, so that a late approval cannot take money.
          try {
            const voided = await reconciliation.voidPayment.executeWithOptions(
              { summary: `void the unfinished charge at ${request.provider}` },
              [{ ...request, reference: first.reference }],
            );
            if (voided.status === "succeeded") return { kind: "settled", step: voided };
          } catch (err) {
            if (!(err instanceof ActivityFailure)) throw err;
            const declined = declineOf(err);
            if (declined) return { kind: "ended", result: declined };
            // Expire all the same; the history keeps that the provider could not be told.
            state.lastError = { type: "VoidFailed", message: errorMessage(err) };
          }
          return { kind: "ended", result: { kind: "expired" } };
        }
      }
    } finally {
      deadline.cancel();
    }
  }

  const providers = [input.payment.provider, ...(input.payment.fallbackProviders ?? [])];
  let outcome: ProviderResult = { kind: "unavailable", settled: true, message: "no provider" };
  for (const [index, provider] of providers.entries()) {
    if (index > 0) {
      const previous = providers[index - 1];
      state.payment.failovers = [
        ...(state.payment.failovers ?? []),
        { from: previous, to: provider, reason: failoverReason(outcome) },
      ];
      upsertSearchAttributes([{ key: searchAttributes.PaymentProvider, value: provider }]);
    }
    outcome = await payWith(provider, paymentIdempotencyKey(workflowId, index === 0 ? undefined : provider));
    // Only a provider that was down, and is known not to have charged, hands over to the next.
    if (!(outcome.kind === "unavailable" && outcome.settled)) break;
  }

  if (outcome.kind === "paid") {
    const paid = outcome.result;
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
    await emit("payment.succeeded");
    state.step = "SENDING_NOTIFICATION";
    await notify("order-paid", order);
    finish("COMPLETED");
    await emit("checkout.completed");
    return state;
  }

  if (outcome.kind === "expired") {
    const reason = "The payment was not completed in time.";
    state.payment.status = "CANCELLED";
    state.failureReason = reason;
    return endUnpaid({
      status: "EXPIRED",
      template: "checkout-expired",
      event: "checkout.expired",
      order,
      reason,
      compensate: () =>
        orders.cancelOrder.executeWithOptions({ summary: "cancel the order: not paid in time" }, [
          { checkoutId: input.checkoutId, reason },
        ]),
    });
  }

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
    async compensate() {
      await orders.markPaymentFailed.executeWithOptions({ summary: `mark the order payment failed (${code})` }, [
        { checkoutId: input.checkoutId, code, reason },
      ]);
      // A decline (not an outage: that is nobody's doing) counts towards the customer's risk hold.
      if (declined && patched(REPORT_DECLINES)) {
        try {
          await risk.reportPaymentFailure.executeWithOptions(
            { summary: `report the decline to customer ${input.customer.id}'s risk check` },
            [{ customerId: input.customer.id, checkoutId: input.checkoutId, code, reason }],
          );
        } catch (err) {
          if (!(err instanceof ActivityFailure)) throw err; // the history keeps why; the checkout ends all the same
        }
      }
    },
  });
}

/** The gateway's decline, if that is what ended the activity. */
function declineOf(err: ActivityFailure): Extract<ProviderResult, { kind: "declined" }> | undefined {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type === PAYMENT_DECLINED) {
    const details = (cause.details?.[0] ?? {}) as { code?: string; attempt?: number };
    return { kind: "declined", reason: cause.message, code: details.code ?? "declined", attempt: details.attempt };
  }
  return undefined;
}

/** A request that no retry can fix, if that is what ended the activity. */
function rejectionOf(err: ActivityFailure): Extract<ProviderResult, { kind: "rejected" }> | undefined {
  const type = failureType(err);
  if (type === GATEWAY_REQUEST_REJECTED || type === DATABASE_REJECTED)
    return { kind: "rejected", type, message: errorMessage(err) };
  return undefined;
}

/** What the customer is told. A provider's refusal (a 4xx) processed nothing; a refused write may follow a charge. */
function rejectionReason(rejected: Extract<ProviderResult, { kind: "rejected" }>): string {
  return rejected.type === GATEWAY_REQUEST_REJECTED
    ? "The payment could not be made: the request was refused. You have not been charged."
    : "The payment could not be completed because of an error on our side; any amount taken will be returned.";
}

function failureType(err: ActivityFailure): string | undefined {
  return err.cause instanceof ApplicationFailure ? (err.cause.type ?? undefined) : undefined;
}

function errorMessage(err: ActivityFailure): string {
  return err.cause?.message ?? err.message;
}

function failoverReason(outcome: ProviderResult): string {
  return outcome.kind === "unavailable" ? `unavailable after its retry budget: ${outcome.message}` : outcome.kind;
}
