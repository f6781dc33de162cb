// `checkout show <id>`: the checkout's audit trail, as GET /checkouts/{id}/audit tells it
// (history/audit.ts): with DATABASE_URL, every payment attempt too and, once Temporal has deleted
// the run, the archive's copy; without, the Temporal history alone, and the CLI says so.
import { type CheckoutAudit, checkoutAudit } from "../history/audit.ts";
import { createDb } from "../prisma/client.ts";
import { money } from "./money.ts";
import { CliError, checkoutIdOf, type Temporal } from "./temporal.ts";

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export async function show(temporal: Temporal, arg: string, options: { json: boolean; io: Io }): Promise<number> {
  const { io } = options;
  const checkoutId = checkoutIdOf(arg.trim());
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) io.err("DATABASE_URL is not set: showing the Temporal history only (no payment attempts, no archive).");
  const db = databaseUrl ? createDb(databaseUrl) : undefined;
  try {
    const audit = await checkoutAudit({ temporal: temporal.client, db }, checkoutId);
    if (!audit) {
      throw new CliError(
        `Unknown checkout ${checkoutId}: not in Temporal (namespace ${temporal.namespace})${db ? " nor in the archive" : ""}.`,
      );
    }
    io.out(options.json ? JSON.stringify(audit, null, 2) : renderAudit(audit));
    return 0;
  } finally {
    await db?.$disconnect();
  }
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

export function renderAudit(t: CheckoutAudit): string {
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
  // A lean run's events are in the outbox, not children of its own (activities/outbox.ts).
  for (const event of t.events) {
    const handedOut = event.dispatchedAt ? "handed out" : "waiting for the relay";
    lines.push({ at: event.createdAt, kind: "event", text: `${event.type} ${event.id} (${handedOut})` });
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
