// PLACEHOLDER: the risk helper replaces this file.
import type { RiskPolicy } from "../workflows/types.ts";

export interface PaymentFailureInput {
  customerId: string;
  checkoutId: string;
  code: string;
  reason: string;
}

export function riskActivities(_policy: RiskPolicy) {
  return {
    async reportPaymentFailure(_input: PaymentFailureInput): Promise<void> {},
  };
}
