// A transfer, durably (Temporal's money-transfer pattern): debit the source balance (into the
// transit account), credit the destination; on a failure after the debit, compensate (reverse the
// debit). Each step is an activity of its own in the history, posted once per key
// (`<workflow id>:<attempt>:<step>`, activities/ledger.ts), so a retried or replayed step never
// posts twice. A transfer that fails makes its run fail too, so it stands out in the Web UI and
// `temporal workflow list`; retrying it is a new run of the same workflow id with the next attempt.
import { ActivityFailure, ApplicationFailure, proxyActivities, workflowInfo } from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";
import type { TransferOutcome } from "../activities/ledger.ts";
import { LEDGER_REFUSED } from "./definitions.ts";
import { compensationActivityOptions, ledgerActivityOptions } from "./retry-policies.ts";

export interface TransferInput {
  transferId: string;
  /** 1 for the first run; a retry of a failed transfer runs with the next one. */
  attempt: number;
}

export const TRANSFER_FAILED = "TransferFailed";

const { debitTransfer, creditTransfer } = proxyActivities<Activities>(ledgerActivityOptions);
const { compensateTransfer } = proxyActivities<Activities>(compensationActivityOptions);

/** The refusal's code (insufficient_funds, …), or a step that ran out of retries. */
function failureOf(err: ActivityFailure, fallback: string) {
  const cause = err.cause;
  const refused = cause instanceof ApplicationFailure && cause.type === LEDGER_REFUSED;
  const code = refused ? String(cause.details?.[0] ?? "refused") : fallback;
  return { failureCode: code, failureReason: cause?.message ?? err.message };
}

export async function transfer(input: TransferInput): Promise<TransferOutcome> {
  const step = { transferId: input.transferId, workflowId: workflowInfo().workflowId, attempt: input.attempt };
  let debited = false;
  let outcome: TransferOutcome;
  try {
    await debitTransfer(step);
    debited = true;
    outcome = await creditTransfer(step);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    // The debit refused (nothing to reverse) or the credit failed after it (the debit is reversed).
    // Either way the compensation voids both keys first, so a late attempt of either posts nothing.
    outcome = await compensateTransfer({ ...step, ...failureOf(err, debited ? "credit_failed" : "debit_failed") });
  }
  if (outcome.status === "FAILED") {
    throw ApplicationFailure.nonRetryable(`The transfer failed: ${outcome.failureCode}`, TRANSFER_FAILED, outcome);
  }
  return outcome;
}
