// The sandbox payment provider: a durable ledger of charges and refunds in PostgreSQL, keyed by
// the idempotency key each request carries. The same key never charges (or refunds) twice: a
// replay returns the recorded outcome, and a request arriving while another under the same key
// is in flight is told so (409), as real providers do. A `tok_3ds` charge waits for the customer
// to authenticate on the sandbox's page; its outcome is then sent as a signed webhook.
import { randomBytes } from "node:crypto";
import { signPayload } from "../activities/signature.ts";
import { fromDb } from "../money/amounts.ts";
import { log } from "../observability/logger.ts";
import type { Db } from "../prisma/client.ts";
import { scenarioFor } from "./scenarios.ts";

export interface ChargeParams {
  idempotencyKey: string;
  checkoutId: string;
  amount: number;
  currency: string;
  token: string;
}

export interface SandboxCharge {
  id: string;
  idempotencyKey: string;
  checkoutId: string;
  amount: number;
  currency: string;
  status: "PENDING" | "PROCESSING" | "REQUIRES_ACTION" | "SUCCEEDED" | "DECLINED";
  declineCode: string | null;
  declineReason?: string;
  refundedAmount: number;
  requests: number;
  createdAt: string;
  updatedAt: string;
}

export interface SandboxRefund {
  id: string;
  chargeId: string;
  amount: number;
  idempotencyKey: string;
  createdAt: string;
}

type Failure = { http: 404 | 409 | 422 | 503; error: { code: string; message: string } };
export type LedgerAnswer = { http: 201 | 200 | 202 | 402; charge: SandboxCharge } | Failure;
export type RefundAnswer = { http: 200 | 201; refund: SandboxRefund } | Failure;

export interface SandboxOptions {
  slowMs: number;
  /** Signs the webhooks the sandbox sends when an authenticated charge settles. */
  webhookSecret: string;
  /** Where those webhooks go (the API's own /webhooks/sandbox unless configured). */
  webhookUrl?: string;
}

const OUTAGE = "outage";
/**
 * Processing a charge takes at most the slow scenario's wait: a charge still PROCESSING this much
 * later was interrupted (the process answering it died), and the sandbox finishes it, as a real
 * provider finishes its own interrupted work, the next time anyone asks about it.
 */
const INTERRUPTED_AFTER_EXTRA_MS = 5_000;

export function createSandboxLedger(db: Db, opts: SandboxOptions) {
  const interruptedBefore = () => new Date(Date.now() - opts.slowMs - INTERRUPTED_AFTER_EXTRA_MS);

  /** The outcome a charge's token leads to (the scenario), once processed. */
  function outcomeOf(token: string) {
    const scenario = scenarioFor(token);
    return scenario.kind === "decline"
      ? ({ status: "DECLINED", declineCode: scenario.code } as const)
      : scenario.kind === "action"
        ? ({ status: "REQUIRES_ACTION" } as const)
        : ({ status: "SUCCEEDED" } as const);
  }

  /** Finishes a charge whose processing was interrupted; any other row is returned as it is. */
  async function settledIfInterrupted(row: Row): Promise<Row> {
    if (row.status !== "PROCESSING" || row.updatedAt >= interruptedBefore()) return row;
    await db.sandboxCharge.updateMany({
      where: { id: row.id, status: "PROCESSING", updatedAt: row.updatedAt },
      data: outcomeOf(row.token),
    });
    return db.sandboxCharge.findUniqueOrThrow({ where: { id: row.id } });
  }

  async function outageActive(): Promise<boolean> {
    const row = await db.sandboxSetting.findUnique({ where: { key: OUTAGE } });
    return row?.value ?? false;
  }

  async function setOutage(active: boolean): Promise<boolean> {
    await db.sandboxSetting.upsert({ where: { key: OUTAGE }, create: { key: OUTAGE, value: active }, update: { value: active } });
    return active;
  }

  const outage: Failure = {
    http: 503,
    error: { code: "outage", message: "The sandbox provider is down (outage switch is on)." },
  };

  async function charge(params: ChargeParams): Promise<LedgerAnswer> {
    if (await outageActive()) return outage;
    const row = await db.sandboxCharge.upsert({
      where: { idempotencyKey: params.idempotencyKey },
      create: { id: `ch_${randomBytes(12).toString("hex")}`, ...params, requests: 1 },
      update: { requests: { increment: 1 } },
    });
    if (fromDb(row.amount) !== params.amount || row.currency !== params.currency || row.token !== params.token) {
      return {
        http: 422,
        error: { code: "idempotency_key_reused", message: "This idempotency key was used with different parameters." },
      };
    }
    if (row.status === "SUCCEEDED") return { http: 200, charge: view(row) };
    if (row.status === "DECLINED") return { http: 402, charge: view(row) };
    if (row.status === "REQUIRES_ACTION") return { http: 202, charge: view(row) };

    const scenario = scenarioFor(params.token);
    if (scenario.kind === "flaky" && row.requests <= scenario.failures) {
      return { http: 503, error: { code: "temporarily_unavailable", message: `Flaky sandbox: request ${row.requests} fails.` } };
    }
    // Claim the charge: only one request under a key may process it.
    const claimed = await db.sandboxCharge.updateMany({
      where: {
        idempotencyKey: params.idempotencyKey,
        OR: [{ status: "PENDING" }, { status: "PROCESSING", updatedAt: { lt: interruptedBefore() } }],
      },
      data: { status: "PROCESSING" },
    });
    if (claimed.count === 0) {
      return { http: 409, error: { code: "idempotency_key_in_use", message: "A request with this key is being processed." } };
    }
    if (scenario.kind === "slow") await new Promise((r) => setTimeout(r, opts.slowMs));
    const outcome = outcomeOf(params.token);
    const done = await db.sandboxCharge.update({ where: { idempotencyKey: params.idempotencyKey }, data: outcome });
    return { http: outcome.status === "DECLINED" ? 402 : outcome.status === "REQUIRES_ACTION" ? 202 : 201, charge: view(done) };
  }

  /**
   * The customer's answer on the authentication page. `notify: false` settles the charge without
   * sending the webhook, as when a provider's delivery is lost: reconciliation must then find it.
   */
  async function authenticate(chargeId: string, succeeded: boolean, notify = true): Promise<LedgerAnswer> {
    const settled = await db.sandboxCharge.updateMany({
      where: { id: chargeId, status: "REQUIRES_ACTION" },
      data: succeeded ? { status: "SUCCEEDED" } : { status: "DECLINED", declineCode: "authentication_failed" },
    });
    const row = await db.sandboxCharge.findUnique({ where: { id: chargeId } });
    if (!row) return { http: 404, error: { code: "not_found", message: `No charge ${chargeId}.` } };
    if (settled.count === 0) {
      return { http: 409, error: { code: "not_awaiting_action", message: `Charge ${chargeId} is ${row.status}.` } };
    }
    const charge = view(row);
    if (notify) void deliverWebhook(succeeded ? "charge.succeeded" : "charge.failed", charge);
    return { http: 200, charge };
  }

  /** The merchant gives up on a charge still awaiting the customer: a late answer takes no money. */
  async function cancelCharge(chargeId: string): Promise<LedgerAnswer> {
    await db.sandboxCharge.updateMany({
      where: { id: chargeId, status: { in: ["REQUIRES_ACTION", "PENDING"] } },
      data: { status: "DECLINED", declineCode: "canceled" },
    });
    const row = await db.sandboxCharge.findUnique({ where: { id: chargeId } });
    if (!row) return { http: 404, error: { code: "not_found", message: `No charge ${chargeId}.` } };
    if (row.status === "PROCESSING") {
      return { http: 409, error: { code: "charge_in_progress", message: `Charge ${chargeId} is being processed.` } };
    }
    return { http: 200, charge: view(row) };
  }

  async function refund(chargeId: string, amount: number, idempotencyKey: string): Promise<RefundAnswer> {
    if (await outageActive()) return outage;
    return db.$transaction(async (tx) => {
      const earlier = await tx.sandboxRefund.findUnique({ where: { idempotencyKey } });
      if (earlier) return { http: 200 as const, refund: refundView(earlier) };
      // Lock the charge row so that concurrent refunds see each other's amounts.
      await tx.$queryRaw`SELECT id FROM "SandboxCharge" WHERE id = ${chargeId} FOR UPDATE`;
      const row = await tx.sandboxCharge.findUnique({ where: { id: chargeId } });
      if (!row) return { http: 404 as const, error: { code: "not_found", message: `No charge ${chargeId}.` } };
      if (row.status !== "SUCCEEDED") {
        return { http: 422 as const, error: { code: "charge_not_captured", message: `Charge ${chargeId} is ${row.status}.` } };
      }
      const remaining = fromDb(row.amount - row.refundedAmount);
      if (amount > remaining) {
        return {
          http: 422 as const,
          error: { code: "amount_too_large", message: `Refund of ${amount} exceeds the ${remaining} left on ${chargeId}.` },
        };
      }
      const created = await tx.sandboxRefund.create({
        data: { id: `re_${randomBytes(12).toString("hex")}`, idempotencyKey, chargeId, amount },
      });
      await tx.sandboxCharge.update({ where: { id: chargeId }, data: { refundedAmount: { increment: amount } } });
      return { http: 201 as const, refund: refundView(created) };
    });
  }

  async function deliverWebhook(type: string, charge: SandboxCharge) {
    if (!opts.webhookUrl) return;
    const body = JSON.stringify({ id: `evt_${randomBytes(12).toString("hex")}`, type, created: Date.now(), data: charge });
    const headers = { "content-type": "application/json", "sandbox-signature": signPayload(body, opts.webhookSecret) };
    for (let attempt = 1; attempt <= 5; attempt++) {
      try {
        const res = await fetch(opts.webhookUrl, { method: "POST", headers, body, signal: AbortSignal.timeout(5_000) });
        if (res.ok) return;
      } catch {
        // try again below
      }
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
    }
    log.warn(`sandbox: webhook ${type} for ${charge.id} was not accepted by ${opts.webhookUrl}`);
  }

  async function findByKey(idempotencyKey: string): Promise<SandboxCharge | null> {
    const row = await db.sandboxCharge.findUnique({ where: { idempotencyKey } });
    return row ? view(await settledIfInterrupted(row)) : null;
  }

  async function findById(id: string): Promise<SandboxCharge | null> {
    const row = await db.sandboxCharge.findUnique({ where: { id } });
    return row ? view(row) : null;
  }

  /** A merchant's charges (those of its checkouts, the newest 1,000 checkouts when none is named). */
  async function list(
    merchantId: string,
    filter: { checkoutId?: string; status?: SandboxCharge["status"] },
  ): Promise<SandboxCharge[]> {
    const checkouts = await db.checkout.findMany({
      where: { merchantId, ...(filter.checkoutId ? { id: filter.checkoutId } : {}) },
      select: { id: true },
      orderBy: { createdAt: "desc" },
      take: 1_000,
    });
    const rows = await db.sandboxCharge.findMany({
      where: { checkoutId: { in: checkouts.map((c) => c.id) }, ...(filter.status ? { status: filter.status } : {}) },
      orderBy: { createdAt: "asc" },
    });
    return rows.map(view);
  }

  /** The refund made under this key, if any: how a refund whose answer was lost is found again. */
  async function findRefundByKey(idempotencyKey: string): Promise<SandboxRefund | null> {
    const row = await db.sandboxRefund.findUnique({ where: { idempotencyKey } });
    return row ? refundView(row) : null;
  }

  async function refunds(chargeId: string): Promise<SandboxRefund[]> {
    const rows = await db.sandboxRefund.findMany({ where: { chargeId }, orderBy: { createdAt: "asc" } });
    return rows.map(refundView);
  }

  return {
    charge,
    authenticate,
    cancelCharge,
    refund,
    findByKey,
    findById,
    findRefundByKey,
    list,
    refunds,
    outageActive,
    setOutage,
  };
}

export type SandboxLedger = ReturnType<typeof createSandboxLedger>;

type Row = NonNullable<Awaited<ReturnType<Db["sandboxCharge"]["findUnique"]>>>;
type RefundRow = NonNullable<Awaited<ReturnType<Db["sandboxRefund"]["findUnique"]>>>;

function view(row: Row): SandboxCharge {
  const scenario = scenarioFor(row.token);
  return {
    id: row.id,
    idempotencyKey: row.idempotencyKey,
    checkoutId: row.checkoutId,
    amount: fromDb(row.amount),
    currency: row.currency,
    status: row.status,
    declineCode: row.declineCode,
    ...(row.status === "DECLINED" ? { declineReason: declineReason(row.declineCode, scenario) } : {}),
    refundedAmount: fromDb(row.refundedAmount),
    requests: row.requests,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function declineReason(code: string | null, scenario: ReturnType<typeof scenarioFor>): string {
  if (code === "canceled") return "The payment was cancelled before the customer completed it.";
  if (code === "authentication_failed") return "The customer did not complete authentication.";
  return scenario.kind === "decline" ? scenario.reason : "The payment was declined.";
}

function refundView(row: RefundRow): SandboxRefund {
  return {
    id: row.id,
    chargeId: row.chargeId,
    amount: fromDb(row.amount),
    idempotencyKey: row.idempotencyKey,
    createdAt: row.createdAt.toISOString(),
  };
}
