// The checkout, as the business tells it: create the order, charge the customer, tell them.
// A decline or a gateway that stays down fails the checkout cleanly (order marked, customer
// told); a cancel before charging ends it CANCELLED. Every step, attempt and error is in the
// workflow history, which is the audit trail.
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";
import {
  type CancelRequest,
  CHECKOUT_NOT_CANCELLABLE,
  cancelUpdate,
  getStateQuery,
  PAYMENT_DECLINED,
  searchAttributes,
} from "./definitions.ts";
import { notificationActivityOptions, orderActivityOptions, paymentActivityOptions } from "./retry-policies.ts";
import type { CheckoutInput, CheckoutState, CheckoutStatus, NotificationRequest, OrderSummary } from "./types.ts";

export const CHECKOUT_FAILED = "CheckoutFailed";

const orders = proxyActivities<Activities>(orderActivityOptions);
const notifications = proxyActivities<Activities>(notificationActivityOptions);

export async function checkout(input: CheckoutInput): Promise<CheckoutState> {
  const { workflowId } = workflowInfo();
  const payments = proxyActivities<Activities>(paymentActivityOptions(input.paymentRetryWindowSeconds));
  const state: CheckoutState = {
    checkoutId: input.checkoutId,
    status: "RUNNING",
    step: "CREATING_ORDER",
    payment: { status: "NOT_STARTED", provider: input.payment.provider, attempts: 0 },
  };
  let cancelRequest: CancelRequest | undefined;

  setHandler(getStateQuery, () => state);
  setHandler(
    cancelUpdate,
    async (request) => {
      cancelRequest = request;
      await condition(() => state.status !== "RUNNING");
      return state;
    },
    {
      validator: (_request: CancelRequest) => {
        if (state.status !== "RUNNING" || state.payment.status !== "NOT_STARTED") {
          throw ApplicationFailure.nonRetryable(
            state.status === "RUNNING"
              ? "The payment has already started; the checkout can no longer be cancelled."
              : `The checkout is already ${state.status}.`,
            CHECKOUT_NOT_CANCELLABLE,
          );
        }
      },
    },
  );

  const finish = (status: CheckoutStatus) => {
    state.status = status;
    state.step = "DONE";
    upsertSearchAttributes([{ key: searchAttributes.CheckoutStatus, value: status }]);
  };
  const notify = (template: NotificationRequest["template"], order: OrderSummary, reason?: string) =>
    notifications.sendNotification({
      checkoutId: input.checkoutId,
      template,
      recipient: input.customer.email,
      order,
      items: input.items,
      reason,
    });

  const order = await orders.createOrder(input);
  state.order = order;

  if (cancelRequest) {
    state.step = "COMPENSATING";
    await orders.cancelOrder({ checkoutId: input.checkoutId, reason: cancelRequest.reason });
    state.payment.status = "CANCELLED";
    await notify("checkout-cancelled", order, cancelRequest.reason);
    finish("CANCELLED");
    return state;
  }

  state.step = "PROCESSING_PAYMENT";
  state.payment.status = "PROCESSING";
  try {
    const paid = await payments.initiatePayment({
      checkoutId: input.checkoutId,
      workflowId,
      order,
      payment: input.payment,
    });
    state.payment = {
      status: "SUCCEEDED",
      provider: paid.provider,
      attempts: paid.attempts,
      gatewayReference: paid.gatewayReference,
    };
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err; // a bug in this code: fail the workflow task, not the checkout
    const declined = declineOf(err);
    const reason = declined?.message ?? "The payment provider could not be reached; the payment was not completed.";
    state.payment.status = "FAILED";
    state.payment.attempts = declined?.attempt ?? state.payment.attempts;
    state.lastError = { type: declined ? PAYMENT_DECLINED : "PaymentUnavailable", message: errorMessage(err) };
    state.failureReason = reason;
    state.step = "COMPENSATING";
    await orders.markPaymentFailed({
      checkoutId: input.checkoutId,
      code: declined?.code ?? "gateway_unavailable",
      reason,
    });
    await notify("payment-failed", order, reason);
    finish("FAILED");
    // Failing the workflow makes the checkout stand out as Failed in the Web UI and the CLI,
    // where an operator can reset it to retry the payment.
    throw ApplicationFailure.nonRetryable(reason, CHECKOUT_FAILED, state);
  }

  state.step = "SENDING_NOTIFICATION";
  await notify("order-paid", order);
  finish("COMPLETED");
  return state;
}

interface Decline {
  message: string;
  code: string;
  attempt?: number;
}

/** The gateway's decline, if that is what ended the payment step. */
function declineOf(err: ActivityFailure): Decline | undefined {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type === PAYMENT_DECLINED) {
    const details = (cause.details?.[0] ?? {}) as { code?: string; attempt?: number };
    return { message: cause.message, code: details.code ?? "declined", attempt: details.attempt };
  }
  return undefined;
}

function errorMessage(err: ActivityFailure): string {
  return err.cause?.message ?? err.message;
}
