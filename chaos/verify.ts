// What must hold for every checkout a client may have started, whatever crashed: it ends (a
// terminal status within the bound), it charged at most once (and only if it completed), its order
// says the same as the checkout, and the customer got exactly one email for the outcome (or one
// left UNCERTAIN, with the reason on the row: a crash between the SMTP handover and its answer).
import type { SmtpCatcher } from "../infra/smtp-catcher.ts";
import type { Db } from "../prisma/client.ts";
import type { Posted } from "./load.ts";

export interface Verdict {
  /** Checkouts the API accepted (202). */
  accepted: number;
  /** Checkouts that exist (accepted, or started by a POST whose answer was lost). */
  started: number;
  ended: number;
  /** Accepted but gone, or started and never ended within the bound. */
  lost: string[];
  doubleCharges: string[];
  orderMismatches: string[];
  lostEmails: string[];
  uncertainEmails: string[];
  /** An approve/flaky/slow checkout that did not complete, or a decline that did. */
  wrongOutcomes: string[];
  /** 5xx answers other than 503 (a dependency that is down must say so). */
  serverErrors: number;
}

interface VerifyDeps {
  apiUrl: string;
  apiKey: string;
  db: Db;
  mail: SmtpCatcher;
  deadline: number;
}

const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"]);
const ORDER_STATUS: Record<string, string[]> = {
  COMPLETED: ["PAID"],
  FAILED: ["PAYMENT_FAILED"],
  CANCELLED: ["CANCELLED"],
  EXPIRED: ["CANCELLED"],
};
const EMAIL: Record<string, string> = {
  COMPLETED: "order-paid",
  FAILED: "payment-failed",
  CANCELLED: "checkout-cancelled",
  EXPIRED: "checkout-expired",
};

/** Polls until every started checkout has ended (or the deadline), then checks each one. */
export async function verify(posted: Posted[], deps: VerifyDeps): Promise<Verdict> {
  const verdict: Verdict = {
    accepted: posted.filter((p) => p.id).length,
    started: 0,
    ended: 0,
    lost: [],
    doubleCharges: [],
    orderMismatches: [],
    lostEmails: [],
    uncertainEmails: [],
    wrongOutcomes: [],
    serverErrors: posted.flatMap((p) => p.answers).filter((a) => typeof a === "number" && a >= 500 && a !== 503).length,
  };
  for (const checkout of posted) {
    // A POST whose answer was lost may still have started its checkout: its key says which.
    const claimed = checkout.id ? undefined : await deps.db.idempotencyKey.findFirst({ where: { key: checkout.key } });
    const id = checkout.id ?? claimed?.checkoutId;
    if (!id) continue;
    const status = await finalStatus(deps, id);
    if (status === "absent") {
      if (checkout.id) verdict.lost.push(`${id}: accepted, then gone`);
      continue;
    }
    verdict.started++;
    if (!TERMINAL.has(status)) {
      verdict.lost.push(`${id}: still ${status}`);
      continue;
    }
    verdict.ended++;

    const charges = await deps.db.sandboxCharge.findMany({ where: { checkoutId: id, status: "SUCCEEDED" } });
    if (
      charges.length > 1 ||
      (charges.length === 1 && status !== "COMPLETED") ||
      (status === "COMPLETED" && charges.length !== 1)
    ) {
      verdict.doubleCharges.push(`${id}: ${status} with ${charges.length} charge(s)`);
    }
    const order = await deps.db.order.findUnique({ where: { checkoutId: id } });
    if (!order || !ORDER_STATUS[status].includes(order.status)) {
      verdict.orderMismatches.push(`${id}: checkout ${status}, order ${order?.status ?? "missing"}`);
    }
    const expected = checkout.token === "tok_decline" ? "FAILED" : "COMPLETED";
    if (status !== expected) verdict.wrongOutcomes.push(`${id} (${checkout.token}): ${status}`);

    const template = EMAIL[status];
    const caught = deps.mail.messages.filter((m) => m.messageId === `<${id}.${template}@checkout>`).length;
    const row = await deps.db.notification.findUnique({
      where: { checkoutId_channel_template: { checkoutId: id, channel: "email", template } },
    });
    if (row?.status === "UNCERTAIN" && caught <= 1)
      verdict.uncertainEmails.push(`${id}: ${template} (${row.lastError ?? "no answer"})`);
    else if (caught !== 1) verdict.lostEmails.push(`${id}: ${caught} "${template}" email(s), row ${row?.status ?? "missing"}`);
  }
  return verdict;
}

/** The checkout's status once it has ended, its last status at the deadline, or "absent" (404). */
async function finalStatus({ apiUrl, apiKey, deadline }: VerifyDeps, id: string): Promise<string> {
  let last = "UNKNOWN";
  for (;;) {
    try {
      const res = await fetch(`${apiUrl}/checkouts/${id}`, {
        headers: { authorization: `Bearer ${apiKey}` },
        signal: AbortSignal.timeout(10_000),
      });
      if (res.status === 404) return "absent";
      if (res.ok) {
        last = ((await res.json()) as { status: string }).status;
        if (TERMINAL.has(last)) return last;
      }
    } catch {
      // the API is not answering yet
    }
    if (Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** True when the verdict shows no loss, no double charge and nothing else amiss. */
export function clean(v: Verdict): boolean {
  return (
    v.lost.length + v.doubleCharges.length + v.orderMismatches.length + v.lostEmails.length + v.wrongOutcomes.length === 0 &&
    v.serverErrors === 0
  );
}
