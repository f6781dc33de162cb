// The sandbox payment provider: a durable ledger of charges in PostgreSQL, keyed by the
// idempotency key each request carries. The same key never charges twice: a replay returns the
// recorded outcome, and a request arriving while another under the same key is in flight is
// told so (409), as real providers do.
import { randomBytes } from "node:crypto";
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
  status: "PENDING" | "PROCESSING" | "SUCCEEDED" | "DECLINED";
  declineCode: string | null;
  declineReason?: string;
  requests: number;
  createdAt: string;
  updatedAt: string;
}

export type LedgerAnswer =
  | { http: 201 | 200 | 402; charge: SandboxCharge }
  | { http: 409 | 422 | 503; error: { code: string; message: string } };

const OUTAGE = "outage";
/** A charge left PROCESSING this long (its request died with the process) may be taken up again. */
const STALE_PROCESSING_MS = 60_000;

export function createSandboxLedger(db: Db, opts: { slowMs: number }) {
  async function outageActive(): Promise<boolean> {
    const row = await db.sandboxSetting.findUnique({ where: { key: OUTAGE } });
    return row?.value ?? false;
  }

  async function setOutage(active: boolean): Promise<boolean> {
    await db.sandboxSetting.upsert({ where: { key: OUTAGE }, create: { key: OUTAGE, value: active }, update: { value: active } });
    return active;
  }

  async function charge(params: ChargeParams): Promise<LedgerAnswer> {
    if (await outageActive()) {
      return { http: 503, error: { code: "outage", message: "The sandbox provider is down (outage switch is on)." } };
    }
    const row = await db.sandboxCharge.upsert({
      where: { idempotencyKey: params.idempotencyKey },
      create: { id: `ch_${randomBytes(12).toString("hex")}`, ...params, requests: 1 },
      update: { requests: { increment: 1 } },
    });
    if (row.amount !== params.amount || row.currency !== params.currency || row.token !== params.token) {
      return {
        http: 422,
        error: { code: "idempotency_key_reused", message: "This idempotency key was used with different parameters." },
      };
    }
    if (row.status === "SUCCEEDED") return { http: 200, charge: view(row) };
    if (row.status === "DECLINED") return { http: 402, charge: view(row) };

    const scenario = scenarioFor(params.token);
    if (scenario.kind === "flaky" && row.requests <= scenario.failures) {
      return { http: 503, error: { code: "temporarily_unavailable", message: `Flaky sandbox: request ${row.requests} fails.` } };
    }
    // Claim the charge: only one request under a key may process it.
    const claimed = await db.sandboxCharge.updateMany({
      where: {
        idempotencyKey: params.idempotencyKey,
        OR: [{ status: "PENDING" }, { status: "PROCESSING", updatedAt: { lt: new Date(Date.now() - STALE_PROCESSING_MS) } }],
      },
      data: { status: "PROCESSING" },
    });
    if (claimed.count === 0) {
      return { http: 409, error: { code: "idempotency_key_in_use", message: "A request with this key is being processed." } };
    }
    if (scenario.kind === "slow") await new Promise((r) => setTimeout(r, opts.slowMs));
    const declined = scenario.kind === "decline";
    const done = await db.sandboxCharge.update({
      where: { idempotencyKey: params.idempotencyKey },
      data: declined ? { status: "DECLINED", declineCode: scenario.code } : { status: "SUCCEEDED" },
    });
    return { http: declined ? 402 : 201, charge: view(done) };
  }

  async function findByKey(idempotencyKey: string): Promise<SandboxCharge | null> {
    const row = await db.sandboxCharge.findUnique({ where: { idempotencyKey } });
    return row ? view(row) : null;
  }

  async function list(filter: { checkoutId?: string; status?: SandboxCharge["status"] }): Promise<SandboxCharge[]> {
    const rows = await db.sandboxCharge.findMany({ where: filter, orderBy: { createdAt: "asc" } });
    return rows.map(view);
  }

  return { charge, findByKey, list, outageActive, setOutage };
}

export type SandboxLedger = ReturnType<typeof createSandboxLedger>;

type Row = NonNullable<Awaited<ReturnType<Db["sandboxCharge"]["findUnique"]>>>;

function view(row: Row): SandboxCharge {
  const scenario = scenarioFor(row.token);
  return {
    id: row.id,
    idempotencyKey: row.idempotencyKey,
    checkoutId: row.checkoutId,
    amount: row.amount,
    currency: row.currency,
    status: row.status,
    declineCode: row.declineCode,
    ...(row.status === "DECLINED" && scenario.kind === "decline" ? { declineReason: scenario.reason } : {}),
    requests: row.requests,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
