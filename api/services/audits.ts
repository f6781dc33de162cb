// Audit trails: a checkout's story from its workflow history, live or archived (history/).
import type { Client } from "@temporalio/client";
import { checkoutAudit } from "../../history/audit.ts";
import type { Db } from "../../prisma/client.ts";
import { isCheckoutId } from "../../workflows/definitions.ts";
import { notFound } from "../errors.ts";

export function auditService(temporal: Client, db: Db) {
  async function get(checkoutId: string) {
    const audit = isCheckoutId(checkoutId) ? await checkoutAudit({ temporal, db }, checkoutId) : undefined;
    if (!audit) throw notFound("checkout", checkoutId);
    return audit;
  }
  return { get };
}

export type AuditService = ReturnType<typeof auditService>;
