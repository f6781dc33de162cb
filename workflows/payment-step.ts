// The checkout's payment step: charge through the customer's provider, and through the next one
// only when a provider stayed down and is known not to have charged; wait for the customer when
// they must act (3-D Secure, an approval page, a QR code); and settle what an attempt left
// unknown by asking the provider, never by charging again. The step keeps the checkout's state
// up to date as it goes, so that a query shows where the payment stands.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  patched,
  proxyActivities,
  sleep,
  type TemporalFailure,
  upsertSearchAttributes,
} from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";
import type { PaymentStepResult, RetriesSpentCheck } from "../activities/payments.ts";
import {
  DATABASE_REJECTED,
  GATEWAY_REQUEST_REJECTED,
  PAYMENT_DECLINED,
  paymentIdempotencyKey,
  searchAttributes,
} from "./definitions.ts";
import { paymentActivityOptions, reconcileActivityOptions } from "./retry-policies.ts";
import type {
  CheckoutInput,
  CheckoutState,
  CheckoutStatus,
  EventRequest,
  OrderSummary,
  PaymentEvent,
  PaymentInstruction,
} from "./types.ts";

const DEFAULT_ACTION_TIMEOUT_SECONDS = 900;
/** patched() ids: each adds commands to histories that ran before it shipped. */
const REJECTION_IS_FINAL = "provider-rejection-is-final";
const CONFIRM_NO_CHARGE = "confirm-no-charge-before-failover";
const FAILOVER_ONLY_AFTER_LOOKUP = "failover-only-after-lookup";

const reconciliation = proxyActivities<Activities>(reconcileActivityOptions);

/** How the payment step ended. */
export type PaymentResult =
  | { kind: "paid"; result: Extract<PaymentStepResult, { status: "succeeded" }> }
  | { kind: "declined"; code: string; reason: string; attempt?: number }
  /** A request no retry can fix (the provider refused it, the database refused its write): nothing charged. */
  | { kind: "rejected"; type: string; message: string }
  | { kind: "expired" }
  /** Retries spent. `settled`: the provider, asked, shows no charge, so another provider may be tried. */
  | { kind: "unavailable"; settled: boolean; message: string };

/** What the payment step works with, and the checkout's state it keeps up to date. */
export interface PaymentContext {
  input: CheckoutInput;
  order: OrderSummary;
  state: CheckoutState;
  /** Webhooks received and not yet acted on: each makes the step ask the provider. */
  pendingEvents: PaymentEvent[];
  setStatus(status: CheckoutStatus): void;
  /** payment.succeeded, for the activity that records the success to write with it (a lean run's). */
  eventOnSuccess?: EventRequest;
  /** A payment made again after a decline: its instruction and number (2, 3, …); absent: the checkout's first. */
  again?: { payment: PaymentInstruction; attempt: number };
}

type ChargeRef = {
  checkoutId: string;
  provider: string;
  idempotencyKey: string;
  order: OrderSummary;
  eventOnSuccess?: EventRequest;
};

/** The payment step, provider after provider: the first one, then each fallback in turn. */
export async function pay(ctx: PaymentContext, workflowId: string): Promise<PaymentResult> {
  const { state } = ctx;
  const payment = instructionOf(ctx);
  const attempt = ctx.again?.attempt ?? 1;
  const providers = [payment.provider, ...(payment.fallbackProviders ?? [])];
  let outcome: PaymentResult = { kind: "unavailable", settled: true, message: "no provider" };
  for (const [index, provider] of providers.entries()) {
    if (index > 0) {
      const previous = providers[index - 1];
      state.payment.failovers = [
        ...(state.payment.failovers ?? []),
        { from: previous, to: provider, reason: failoverReason(outcome) },
      ];
      upsertSearchAttributes([{ key: searchAttributes.PaymentProvider, value: provider }]);
    }
    outcome = await payWith(ctx, provider, paymentIdempotencyKey(workflowId, index === 0 ? undefined : provider, attempt));
    // Only a provider that was down, and is known not to have charged, hands over to the next.
    if (!(outcome.kind === "unavailable" && outcome.settled)) break;
  }
  return outcome;
}

/** One provider's whole payment step: charge, wait for the customer if need be, settle. */
async function payWith(ctx: PaymentContext, provider: string, idempotencyKey: string): Promise<PaymentResult> {
  const { input, order, state } = ctx;
  const payments = proxyActivities<Activities>(paymentActivityOptions(input.paymentRetryWindowSeconds));
  state.step = "PROCESSING_PAYMENT";
  state.payment.provider = provider;
  state.payment.status = "PROCESSING";
  const request: ChargeRef = {
    checkoutId: input.checkoutId,
    provider,
    idempotencyKey,
    order,
    eventOnSuccess: ctx.eventOnSuccess,
  };
  let step: PaymentStepResult;
  try {
    step = await payments.initiatePayment.executeWithOptions({ summary: `charge ${amountOf(order)} via ${provider}` }, [
      {
        ...request,
        token: instructionOf(ctx).token,
        method: instructionOf(ctx).method,
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
    const settled = await settleAfterRetries(request, err);
    if ("kind" in settled) return settled;
    step = settled;
  }
  state.payment.attempts = Math.max(state.payment.attempts, step.attempts);

  if (step.status === "requires_action" || step.status === "processing") {
    const waited = await awaitCustomer(ctx, step, request);
    if (waited.kind !== "settled") return waited.result;
    step = waited.step;
  }
  if (step.status === "succeeded") return { kind: "paid", result: step };
  return { kind: "unavailable", settled: false, message: `the provider left the payment ${step.status}` };
}

/**
 * The charge's retries are spent, and an attempt may still have charged: ask the provider before
 * giving up on it. Answers what the provider has (a charge to go on with), or why this provider
 * ends here (`settled` only when a lookup shows no charge).
 */
async function settleAfterRetries(request: ChargeRef, err: ActivityFailure): Promise<PaymentStepResult | PaymentResult> {
  const charge = amountOf(request.order);
  const unavailable = (settled: boolean): PaymentResult => ({ kind: "unavailable", settled, message: errorMessage(err) });
  let check: RetriesSpentCheck;
  try {
    check = await reconciliation.checkAfterRetries.executeWithOptions(
      { summary: `ask ${request.provider} whether a charge of ${charge} stands after the retries` },
      [request],
    );
  } catch (checkErr) {
    if (!(checkErr instanceof ActivityFailure)) throw checkErr;
    return declineOf(checkErr) ?? unavailable(false);
  }
  if (check.status === "unreachable") {
    // A provider that cannot even be asked may have charged (a resend, a lost answer): only
    // a lookup that shows no charge hands over to another provider.
    return unavailable(patched(FAILOVER_ONLY_AFTER_LOOKUP) ? false : !check.outcomeUnknown);
  }
  if (check.status === "not_found" && check.confirmAfterSeconds && patched(CONFIRM_NO_CHARGE)) {
    // The provider's lookup by key lags: a charge made moments ago may not show yet. Ask again
    // once the lag has passed (a durable timer), and hand over to another provider only if
    // that second answer agrees.
    await sleep(check.confirmAfterSeconds * 1000);
    try {
      check = await reconciliation.checkAfterRetries.executeWithOptions(
        { summary: `ask ${request.provider} again, after its search lag, whether a charge of ${charge} stands` },
        [request],
      );
    } catch (checkErr) {
      if (!(checkErr instanceof ActivityFailure)) throw checkErr;
      return declineOf(checkErr) ?? unavailable(false);
    }
    if (check.status === "unreachable") return unavailable(false);
  }
  if (check.status === "not_found") return unavailable(true);
  return check;
}

/**
 * The customer must act at the provider. Each webhook makes us ask the provider; when the
 * deadline passes with no settled payment, we ask one last time (reconciliation), and what
 * is still unpaid then expires.
 */
async function awaitCustomer(
  ctx: PaymentContext,
  first: Extract<PaymentStepResult, { status: "requires_action" | "processing" }>,
  request: ChargeRef,
): Promise<{ kind: "settled"; step: PaymentStepResult } | { kind: "ended"; result: PaymentResult }> {
  const { input, state, pendingEvents } = ctx;
  state.step = "AWAITING_CUSTOMER";
  state.payment.status = "REQUIRES_ACTION";
  if (first.status === "requires_action") state.payment.action = first.action;
  state.payment.gatewayReference = first.reference;
  ctx.setStatus("REQUIRES_ACTION");
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
        step = await reconciliation.reconcilePayment.executeWithOptions({ summary: `ask ${request.provider} about the charge` }, [
          { ...request, reference: first.reference },
        ]);
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

/** What this payment is made with: the checkout's own instruction, or the one given to pay again. */
const instructionOf = (ctx: PaymentContext): PaymentInstruction => ctx.again?.payment ?? ctx.input.payment;

const amountOf = (order: OrderSummary) => `${order.totalAmount} ${order.currency}`;

/** The gateway's decline, if that is what ended the activity. */
function declineOf(err: ActivityFailure): Extract<PaymentResult, { kind: "declined" }> | undefined {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type === PAYMENT_DECLINED) {
    const details = (cause.details?.[0] ?? {}) as { code?: string; attempt?: number };
    return { kind: "declined", reason: cause.message, code: details.code ?? "declined", attempt: details.attempt };
  }
  return undefined;
}

/** A request that no retry can fix, if that is what ended the activity. */
function rejectionOf(err: ActivityFailure): Extract<PaymentResult, { kind: "rejected" }> | undefined {
  const type = failureType(err);
  if (type === GATEWAY_REQUEST_REJECTED || type === DATABASE_REJECTED)
    return { kind: "rejected", type, message: errorMessage(err) };
  return undefined;
}

/** A step's failure: an activity's (the cause inside an ActivityFailure), or a local activity's own. */
export function failureType(err: TemporalFailure): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

export function errorMessage(err: TemporalFailure): string {
  return (err instanceof ActivityFailure ? err.cause?.message : undefined) ?? err.message;
}

function failoverReason(outcome: PaymentResult): string {
  return outcome.kind === "unavailable" ? `unavailable after its retry budget: ${outcome.message}` : outcome.kind;
}
