// Before a new checkout starts, the API asks the customer's risk workflow
// (workflows/customer-risk.ts) with the `assessCheckout` update, so the decision stands in that
// workflow's history. A held customer gets 429 with Retry-After and no workflow is started. A
// customer with no declined payment reported recently enough to matter (lastDeclineReportedAt)
// has no risk workflow worth asking: most checkouts are decided by one database read, without a
// round trip to Temporal.
import type { Client } from "@temporalio/client";
import { WorkflowNotFoundError } from "@temporalio/common";
import { log } from "../../observability/logger.ts";
import type { Db } from "../../prisma/client.ts";
import type { customerRisk } from "../../workflows/customer-risk.ts";
import { assessCheckoutUpdate, customerRiskWorkflowId } from "../../workflows/definitions.ts";
import type { RiskDecision } from "../../workflows/types.ts";
import { ApiError } from "../errors.ts";

/** Long enough for a busy worker, short enough that a customer at checkout barely notices. */
const ASSESS_DEADLINE_MS = 5_000;

const noRecord: RiskDecision = {
  level: "LOW",
  hold: false,
  holdUntil: null,
  failuresInWindow: 0,
  reason: "no declined payments on record",
};

/** With RISK_MAX_FAILED_PAYMENTS=0 nothing is counted, so nothing is asked. */
export const riskChecksOff: RiskDecision = { ...noRecord, reason: "risk checks are off (RISK_MAX_FAILED_PAYMENTS=0)" };

/** How long a reported decline can still hold or count (the longer of RISK_WINDOW_SECONDS and RISK_HOLD_SECONDS). */
export interface RiskMemory {
  declinesMatterForSeconds: number;
}

export async function assessCheckout(
  { temporal, db, memory }: { temporal: Client; db: Db; memory: RiskMemory },
  merchantId: string,
  customerId: string,
  checkoutId: string,
  at: string,
): Promise<RiskDecision> {
  const customer = await db.customer.findUnique({
    where: { merchantId_externalId: { merchantId, externalId: customerId } },
    select: { lastDeclineReportedAt: true },
  });
  const reported = customer?.lastDeclineReportedAt?.getTime();
  if (reported === undefined || reported < Date.parse(at) - memory.declinesMatterForSeconds * 1000) return noRecord;
  const handle = temporal.workflow.getHandle<typeof customerRisk>(customerRiskWorkflowId(merchantId, customerId));
  try {
    return await temporal.withDeadline(Date.now() + ASSESS_DEADLINE_MS, () =>
      handle.executeUpdate(assessCheckoutUpdate, { args: [{ checkoutId, at }] }),
    );
  } catch (err) {
    // No risk workflow, or one that ended (the server answers NOT_FOUND "workflow execution
    // already completed"): no decline within a window is on record.
    if (err instanceof WorkflowNotFoundError) return noRecord;
    // Fail open: a risk check that cannot answer (no worker, Temporal slow) must not stop honest
    // customers from paying; the checkout goes through marked MEDIUM, and says why in its input.
    const message = err instanceof Error ? err.message : String(err);
    log.warn(`risk check for customer ${customerId} unavailable, letting checkout ${checkoutId} through: ${message}`);
    return {
      level: "MEDIUM",
      hold: false,
      holdUntil: null,
      failuresInWindow: 0,
      reason: `the risk check was unavailable (${message}); let through unchecked`,
    };
  }
}

/** 429 for a held customer: Retry-After in whole seconds until the hold ends, at least 1. */
export function customerOnHold(decision: RiskDecision, now = Date.now()): ApiError {
  const until = decision.holdUntil ?? new Date(now).toISOString();
  const seconds = Math.max(1, Math.ceil((Date.parse(until) - now) / 1000));
  return new ApiError(
    429,
    "customer_on_hold",
    `Too many declined payments: ${decision.reason}.`,
    [{ field: "customer.id", reason: `on hold until ${until} after repeated declined payments` }],
    { "Retry-After": String(seconds) },
  );
}
