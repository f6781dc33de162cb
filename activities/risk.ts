// Tells a customer's risk workflow (workflows/customer-risk.ts) about a declined payment, starting
// that workflow if the customer has none running. Retries may signal twice; the workflow counts a
// checkout once.
import { Context } from "@temporalio/activity";
import { DEFAULT_MERCHANT_ID } from "../merchants/merchants.ts";
import type { Db } from "../prisma/client.ts";
import type { customerRisk } from "../workflows/customer-risk.ts";
import { customerRiskWorkflowId, paymentFailedSignal, searchAttributes } from "../workflows/definitions.ts";
import type { PaymentFailureReport, RiskPolicy } from "../workflows/types.ts";

export interface PaymentFailureInput {
  /** Absent in checkouts started before merchants existed: the default merchant's. */
  merchantId?: string;
  customerId: string;
  checkoutId: string;
  code: string;
  reason: string;
}

export function riskActivities(db: Db, policy: RiskPolicy) {
  return {
    async reportPaymentFailure({
      merchantId = DEFAULT_MERCHANT_ID,
      customerId,
      checkoutId,
      code,
      reason,
    }: PaymentFailureInput): Promise<void> {
      if (policy.maxFailedPayments === 0) return; // RISK_MAX_FAILED_PAYMENTS=0: no holds, nothing to count
      const { client, info } = Context.current();
      // Before the signal: the API asks the risk workflow of customers with a recent decline only.
      await db.customer.updateMany({
        where: { merchantId, externalId: customerId },
        data: { lastDeclineReportedAt: new Date() },
      });
      await client.workflow.signalWithStart<typeof customerRisk, [PaymentFailureReport]>("customerRisk", {
        workflowId: customerRiskWorkflowId(merchantId, customerId),
        taskQueue: info.taskQueue,
        args: [{ customerId, policy }],
        signal: paymentFailedSignal,
        signalArgs: [{ checkoutId, code, reason, failedAt: new Date().toISOString() }],
        typedSearchAttributes: [
          { key: searchAttributes.CustomerId, value: customerId },
          { key: searchAttributes.RiskLevel, value: "LOW" },
        ],
        staticSummary: `Risk of customer ${customerId}: ${policy.maxFailedPayments} declines within ${policy.windowSeconds} s hold new checkouts for ${policy.holdSeconds} s`,
      });
    },
  };
}
