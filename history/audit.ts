// A checkout's audit trail: its story from the workflow history (Temporal's, else the archive's)
// and, where the database is at hand, every payment attempt (the history keeps only an
// activity's last failure; the payment activities write each attempt to PaymentAttempt). Nothing
// secret is told: no email, no payment token. The events it published come from the outbox (activities/outbox.ts).
// GET /checkouts/{id}/audit and `checkout show` answer it.
import type { Client } from "@temporalio/client";
import type { Db } from "../prisma/client.ts";
import { checkoutWorkflowId } from "../workflows/definitions.ts";
import { historyFromArchive, historyFromTemporal } from "./sources.ts";
import { type CheckoutStory, readCheckoutHistory, redact, secretsOf } from "./story.ts";

export interface PaymentAttemptView {
  activityType: string;
  activityId: string;
  runId: string;
  provider: string;
  attempt: number;
  startedAt: string;
  endedAt: string;
  outcome: string;
  errorType: string | null;
  errorMessage: string | null;
}

export interface EventView {
  id: string;
  type: string;
  createdAt: string;
  dispatchedAt: string | null;
}

export type CheckoutAudit = CheckoutStory & { attempts: PaymentAttemptView[]; events: EventView[] };

/** The audit trail, or undefined for a checkout neither Temporal nor the archive knows. `db` absent: history only. */
export async function checkoutAudit(deps: { temporal: Client; db?: Db }, checkoutId: string): Promise<CheckoutAudit | undefined> {
  const workflowId = checkoutWorkflowId(checkoutId);
  const source =
    (await historyFromTemporal(deps.temporal, workflowId)) ??
    (deps.db ? await historyFromArchive(deps.db, workflowId) : undefined);
  if (!source) return undefined;
  const story = readCheckoutHistory(checkoutId, workflowId, source);
  const [rows, eventRows] = deps.db
    ? await Promise.all([
        deps.db.paymentAttempt.findMany({ where: { checkoutId }, orderBy: [{ startedAt: "asc" }, { attempt: "asc" }] }),
        deps.db.event.findMany({
          where: { checkoutId },
          orderBy: { createdAt: "asc" },
          select: { id: true, type: true, createdAt: true, dispatchedAt: true },
        }),
      ])
    : [[], []];
  const events = eventRows.map((e) => ({
    id: e.id,
    type: e.type,
    createdAt: e.createdAt.toISOString(),
    dispatchedAt: e.dispatchedAt?.toISOString() ?? null,
  }));
  const attempts = rows.map((a) => ({
    activityType: a.activityType,
    activityId: a.activityId,
    runId: a.runId,
    provider: a.provider,
    attempt: a.attempt,
    startedAt: a.startedAt.toISOString(),
    endedAt: a.endedAt.toISOString(),
    outcome: a.outcome,
    errorType: a.errorType,
    errorMessage: a.errorMessage,
  }));
  // Belt and braces: an error message (an SMTP refusal, a gateway's echo) may quote them.
  return redact({ ...story, attempts, events }, secretsOf(source));
}
