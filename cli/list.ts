// `checkout list`: one line per workflow run that matches, as `temporal workflow list --query`
// shows them, with the checkout's search attributes as columns. A run that a retry (reset)
// replaced is still listed, as Temporal lists it, and marked with what the checkout is now.
import type { WorkflowExecutionInfo } from "@temporalio/client";
import { searchAttributes } from "../workflows/definitions.ts";
import { money } from "./money.ts";
import type { Temporal } from "./temporal.ts";

export interface CheckoutRow {
  id: string;
  workflowId: string;
  runId: string;
  /** CheckoutStatus; the workflow's own status when it ended without setting one (terminated, timed out). */
  status: string;
  workflowStatus: string;
  provider: string | null;
  method: string | null;
  customerId: string | null;
  total: number | null;
  currency: string | null;
  startTime: string;
  closeTime: string | null;
  /** Set when a later run (a retry) replaced this one: the checkout's status now. */
  supersededBy?: { runId: string; status: string };
}

export interface Listing {
  query: string;
  checkouts: CheckoutRow[];
  /** More runs matched than the limit let through. */
  truncated: boolean;
}

export async function listCheckouts(temporal: Temporal, query: string, limit: number): Promise<Listing> {
  const checkouts: CheckoutRow[] = [];
  let truncated = false;
  for await (const info of temporal.client.workflow.list({ query, pageSize: Math.min(Math.max(limit, 1), 1000) })) {
    if (checkouts.length >= limit) {
      truncated = true;
      break;
    }
    checkouts.push(rowOf(info));
  }
  await markSuperseded(temporal, checkouts);
  return { query, checkouts, truncated };
}

export function rowOf(info: Omit<WorkflowExecutionInfo, "raw">): CheckoutRow {
  const sa = info.typedSearchAttributes;
  const checkoutStatus = sa.get(searchAttributes.CheckoutStatus);
  const workflowStatus = info.status.name;
  // A run that ended without reaching a checkout status (terminated, timed out) shows how it ended.
  const status =
    workflowStatus !== "RUNNING" &&
    (checkoutStatus === undefined || checkoutStatus === "RUNNING" || checkoutStatus === "REQUIRES_ACTION")
      ? workflowStatus
      : (checkoutStatus ?? workflowStatus);
  return {
    id: info.workflowId.replace(/^checkout-/, ""),
    workflowId: info.workflowId,
    runId: info.runId,
    status,
    workflowStatus,
    provider: sa.get(searchAttributes.PaymentProvider) ?? null,
    method: sa.get(searchAttributes.PaymentMethod) ?? null,
    customerId: sa.get(searchAttributes.CustomerId) ?? null,
    total: sa.get(searchAttributes.OrderTotal) ?? null,
    currency: sa.get(searchAttributes.Currency) ?? null,
    startTime: info.startTime.toISOString(),
    closeTime: info.closeTime?.toISOString() ?? null,
  };
}

/** Asks which run is current for each closed run listed (a few at a time). */
async function markSuperseded(temporal: Temporal, rows: CheckoutRow[]): Promise<void> {
  const closed = [...new Set(rows.filter((r) => r.workflowStatus !== "RUNNING").map((r) => r.workflowId))];
  const current = new Map<string, { runId: string; status: string }>();
  const queue = [...closed];
  await Promise.all(
    Array.from({ length: Math.min(8, queue.length) }, async () => {
      for (let workflowId = queue.shift(); workflowId; workflowId = queue.shift()) {
        try {
          const d = await temporal.client.workflow.getHandle(workflowId).describe();
          current.set(workflowId, { runId: d.runId, status: rowOf(d).status });
        } catch {
          // gone (retention): nothing to mark
        }
      }
    }),
  );
  for (const row of rows) {
    const now = current.get(row.workflowId);
    if (now && now.runId !== row.runId) row.supersededBy = now;
  }
}

export function formatRows(rows: CheckoutRow[]): string {
  const table = [
    ["CHECKOUT", "STATUS", "PROVIDER", "TOTAL", "STARTED", ""],
    ...rows.map((r) => [
      r.id,
      r.status,
      r.provider ?? "-",
      money(r.total, r.currency),
      r.startTime,
      r.supersededBy ? `(retried: now ${r.supersededBy.status}, run ${r.supersededBy.runId})` : "",
    ]),
  ];
  const widths = table[0].map((_, col) => Math.max(...table.map((line) => line[col].length)));
  return table
    .map((line) =>
      line
        .map((cell, col) => cell.padEnd(widths[col]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
