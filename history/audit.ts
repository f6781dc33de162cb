// A checkout's audit trail: its story from the workflow history (Temporal's, else the archive's)
// and, where the database is at hand, every payment attempt (the history keeps only an
// activity's last failure; the payment activities write each attempt to PaymentAttempt). Nothing
// secret is told: no email, no payment token. The events it published come from the outbox (activities/outbox.ts).
// GET /checkouts/{id}/audit and `checkout show` answer it.
import type { Client } from "@temporalio/client";
import type { Db } from "../prisma/client.ts";
import { checkoutWorkflowId, orderWorkflowId } from "../workflows/definitions.ts";
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

/** A paid order's later life (workflows/order.ts), from its own workflow's history: who shipped or cancelled it, and when. */
export type OrderStory = Pick<
  CheckoutStory,
  "startedAt" | "closedAt" | "steps" | "updates" | "timers" | "children" | "outcome"
> & {
  workflowId: string;
  runId: string;
  executionStatus: string;
};

export type CheckoutAudit = CheckoutStory & { attempts: PaymentAttemptView[]; events: EventView[]; order: OrderStory | null };

/**
 * The order workflow's story, when the order has one (none until it was shipped, cancelled or
 * timed): from Temporal, else from the archive once the retention has deleted it.
 */
async function orderStory(temporal: Client, db: Db | undefined, checkoutId: string, orderId: string): Promise<OrderStory | null> {
  const workflowId = orderWorkflowId(orderId);
  const source = (await historyFromTemporal(temporal, workflowId)) ?? (db ? await historyFromArchive(db, workflowId) : undefined);
  if (!source) return null;
  const story = redact(readCheckoutHistory(checkoutId, workflowId, source), secretsOf(source));
  return {
    workflowId,
    runId: story.checkout.runId,
    executionStatus: story.checkout.executionStatus,
    startedAt: story.startedAt,
    closedAt: story.closedAt,
    steps: story.steps,
    updates: story.updates,
    timers: story.timers,
    children: story.children,
    outcome: story.outcome,
  };
}

/** The audit trail, or undefined for a checkout neither Temporal nor the archive knows. `db` absent: history only. */
export async function checkoutAudit(deps: { temporal: Client; db?: Db }, checkoutId: string): Promise<CheckoutAudit | undefined> {
  const workflowId = checkoutWorkflowId(checkoutId);
  const source =
    (await historyFromTemporal(deps.temporal, workflowId)) ??
    (deps.db ? await historyFromArchive(deps.db, workflowId) : undefined);
  if (!source) return undefined;
  const story = readCheckoutHistory(checkoutId, workflowId, source);
  const [rows, eventRows, orderRow] = deps.db
    ? await Promise.all([
        deps.db.paymentAttempt.findMany({ where: { checkoutId }, orderBy: [{ startedAt: "asc" }, { attempt: "asc" }] }),
        deps.db.event.findMany({
          where: { checkoutId },
          orderBy: { createdAt: "asc" },
          select: { id: true, type: true, createdAt: true, dispatchedAt: true },
        }),
        deps.db.order.findUnique({ where: { checkoutId }, select: { id: true } }),
      ])
    : [[], [], null];
  const order = orderRow ? await orderStory(deps.temporal, deps.db, checkoutId, orderRow.id) : null;
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
  return redact({ ...story, attempts, events, order }, secretsOf(source));
}
