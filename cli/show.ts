// `checkout show <id>`: the checkout's audit timeline. With DATABASE_URL it is the API's own
// (api/audit.ts, as GET /checkouts/{id}/audit answers: history plus each payment attempt from the
// database, or the archive once Temporal has deleted the run); without, the Temporal history
// alone, and the CLI says so.
import type { AuditTimeline } from "../api/schemas.ts";
import { rowOf } from "./list.ts";
import { money } from "./money.ts";
import { CliError, checkoutIdOf, findCheckout, type Temporal } from "./temporal.ts";
import { buildTimeline, type HistoryTimeline, type TimelineEntry } from "./timeline.ts";

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export async function show(temporal: Temporal, arg: string, options: { json: boolean; io: Io }): Promise<number> {
  const { io } = options;
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    // The API's own story, which falls back to the archive once Temporal has deleted the run.
    const checkoutId = checkoutIdOf(arg.trim());
    const [{ auditTimeline }, { createDb }, { ApiError }] = await Promise.all([
      import("../api/audit.ts"),
      import("../prisma/client.ts"),
      import("../api/errors.ts"),
    ]);
    const db = createDb(databaseUrl);
    try {
      const timeline = await auditTimeline(temporal.client, db, checkoutId);
      io.out(options.json ? JSON.stringify(timeline, null, 2) : renderAudit(timeline));
      return 0;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404)
        throw new CliError(
          `Unknown checkout ${checkoutId}: not in Temporal (namespace ${temporal.namespace}) nor in the archive.`,
        );
      throw err;
    } finally {
      await db.$disconnect();
    }
  }

  const found = await findCheckout(temporal, arg);
  io.err("DATABASE_URL is not set: showing the Temporal history only (no payment attempts, no archive).");
  const history = await temporal.client.workflow.getHandle(found.workflowId, found.description.runId).fetchHistory();
  const timeline = buildTimeline(found.checkoutId, found.description, history, rowOf(found.description).status);
  io.out(options.json ? JSON.stringify(timeline, null, 2) : renderHistory(timeline));
  return 0;
}

type Line = { at: string; kind: string; text: string };

function table(lines: Line[]): string {
  const sorted = lines.map((line, index) => ({ ...line, index })).sort((a, b) => a.at.localeCompare(b.at) || a.index - b.index);
  const width = Math.max(0, ...sorted.map((l) => l.kind.length));
  return sorted.map((l) => `  ${l.at}  ${l.kind.padEnd(width)}  ${l.text}`).join("\n");
}

const duration = (from: string | null, to: string | null) => {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
};
const attemptsText = (n: number | undefined) => (n ? `${n} attempt${n === 1 ? "" : "s"}` : undefined);
const joined = (...parts: Array<string | undefined | null | false>) => parts.filter(Boolean).join(", ");

export function renderAudit(t: AuditTimeline): string {
  const { checkout: c, what } = t;
  const lines: Line[] = [
    { at: t.startedAt, kind: "started", text: `checkout started${t.who.identity ? ` by ${t.who.identity}` : ""}` },
  ];
  for (const s of t.steps) {
    const detail = joined(attemptsText(s.attempts), duration(s.scheduledAt, s.endedAt));
    const failure = s.failure ? `: ${joined(s.failure.type, s.failure.message, s.failure.cause)}` : "";
    lines.push({
      at: s.endedAt ?? s.startedAt ?? s.scheduledAt,
      kind: "step",
      text: `${s.activityType} ${s.result}${failure}${detail ? ` (${detail})` : ""}`,
    });
  }
  for (const a of t.attempts) {
    const error = a.errorType || a.errorMessage ? ` (${joined(a.errorType, a.errorMessage)})` : "";
    lines.push({
      at: a.startedAt,
      kind: "attempt",
      text: `${a.activityType} #${a.attempt} via ${a.provider}: ${a.outcome}${error}`,
    });
  }
  for (const s of t.signals) {
    const input = s.input ? ` ${s.input.provider} ${s.input.kind} (${s.input.eventId})` : "";
    lines.push({ at: s.at, kind: "signal", text: `${s.name}${input}` });
  }
  for (const u of t.updates) {
    const reason = u.input?.reason ? ` (reason: ${u.input.reason})` : "";
    const failure = u.failure ? `: ${u.failure.message}` : "";
    lines.push({
      at: u.completedAt ?? u.acceptedAt ?? t.startedAt,
      kind: "update",
      text: `${u.name} ${u.result}${reason}${failure}`,
    });
  }
  for (const timer of t.timers) {
    lines.push({ at: timer.endedAt ?? timer.startedAt, kind: "timer", text: `${timer.seconds} s deadline ${timer.result}` });
  }
  for (const child of t.children) {
    lines.push({ at: child.initiatedAt, kind: "event", text: `${child.workflowType} ${child.workflowId}` });
  }
  if (t.outcome) {
    const o = t.outcome;
    lines.push({
      at: t.closedAt ?? "",
      kind: "ended",
      text: `${o.status ?? o.executionStatus}${o.message ? `: ${o.message}` : ""}`,
    });
  }
  const header = [
    `Checkout ${c.id}: ${c.status ?? c.executionStatus} (workflow ${c.executionStatus})`,
    `  workflow ${c.workflowId}, run ${c.runId}${c.runIds.length > 1 ? ` (runs: ${c.runIds.join(", ")})` : ""}`,
    `  ${joined(money(what.amount, what.currency), `${what.itemCount} item(s)`, `via ${what.provider}`, what.method)}` +
      `${t.who.customerId ? `, customer ${t.who.customerId}` : ""}`,
    ...(t.source.archive
      ? [`  from the archive (Temporal no longer has it): record ${t.source.archive.seq}, hash ${t.source.archive.hash}`]
      : []),
  ];
  return `${header.join("\n")}\n\n${table(lines)}`;
}

export function renderHistory(t: HistoryTimeline): string {
  const lines = t.entries.map((e: TimelineEntry) => {
    const detail =
      e.kind === "step" ? joined(attemptsText(e.attempts), e.durationMs !== undefined && `${e.durationMs} ms`) : undefined;
    return {
      at: e.at,
      kind: e.kind,
      text: `${e.name}${e.detail ? ` ${e.detail}` : ""}${detail ? ` (${detail})` : ""}`,
    };
  });
  const header = [
    `Checkout ${t.checkoutId}: ${t.status} (workflow ${t.workflowStatus})`,
    `  workflow ${t.workflowId}, run ${t.runId}`,
    `  ${joined(t.totalAmount !== undefined && money(t.totalAmount, t.currency), t.provider && `via ${t.provider}`)}` +
      `${t.customerId ? `, customer ${t.customerId}` : ""}`,
  ];
  return `${header.join("\n")}\n\n${table(lines)}`;
}
