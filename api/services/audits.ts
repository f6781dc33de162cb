// Audit trails: a checkout's story from its workflow history, live or archived (history/).
import type { Client } from "@temporalio/client";
import { checkoutAudit } from "../../history/audit.ts";
import type { Db } from "../../prisma/client.ts";
import { notFound } from "../errors.ts";
import type { CheckoutRuns } from "./checkout-runs.ts";

export function auditService(temporal: Client, db: Db, runs: CheckoutRuns) {
  async function get(merchantId: string, checkoutId: string) {
    const owned = await runs.owned(merchantId, checkoutId);
    const audit = owned ? await checkoutAudit({ temporal, db }, checkoutId) : undefined;
    if (!audit) throw notFound("checkout", checkoutId);
    return audit;
  }
  return { get };
}

export type AuditService = ReturnType<typeof auditService>;
