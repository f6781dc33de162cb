// `checkout ledger verify`, `checkout transfers list|show`, `checkout balances show`: the ledger
// in the database (DATABASE_URL), read as an operator, across merchants.
import { parseArgs } from "node:util";
import { verifyLedger } from "../ledger/verify.ts";
import { fromDb } from "../money/amounts.ts";
import { createDb, type Db } from "../prisma/client.ts";
import { UsageError } from "./query.ts";
import { CliError } from "./temporal.ts";

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

async function withDb<T>(work: (db: Db) => Promise<T>): Promise<T> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new CliError("Set DATABASE_URL to the service's PostgreSQL: the ledger is kept there.");
  const db = createDb(databaseUrl);
  try {
    return await work(db);
  } finally {
    await db.$disconnect();
  }
}

const TRANSFER_STATUSES = ["PENDING", "COMPLETED", "FAILED"] as const;

/** `ledger verify [--json]`: exit 0 when consistent, 1 naming the first inconsistency (and counting the rest). */
export async function ledgerCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: "boolean" } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals[0] !== "verify" || positionals.length !== 1) throw new UsageError("`checkout ledger` takes `verify`.");
  const report = await withDb(verifyLedger);
  if (values.json) io.out(JSON.stringify(report, null, 2));
  const [first, ...rest] = report.inconsistencies;
  if (!first) {
    if (!values.json) io.out(`The ledger is consistent: ${report.entries} entries, ${report.balances} balances.`);
    return 0;
  }
  io.err(`The ledger is NOT consistent: ${first.message}${rest.length ? ` (and ${rest.length} more)` : ""}.`);
  return 1;
}

const transferLine = (t: {
  id: string;
  status: string;
  amount: bigint;
  currency: string;
  fromBalanceId: string;
  toBalanceId: string;
  failureCode: string | null;
  createdAt: Date;
}) =>
  `${t.id}  ${t.status.padEnd(9)} ${fromDb(t.amount)} ${t.currency}  ${t.fromBalanceId} -> ${t.toBalanceId}  ${t.createdAt.toISOString()}${t.failureCode ? `  ${t.failureCode}` : ""}`;

/** `transfers list [--status S] [--balance B] [--merchant M] [--limit N] [--json]` and `transfers show <id> [--json]`. */
export async function transfersCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      status: { type: "string" },
      balance: { type: "string" },
      merchant: { type: "string" },
      limit: { type: "string" },
      json: { type: "boolean" },
    },
    allowPositionals: true,
    strict: true,
  });
  const [sub, id, ...extra] = positionals;
  if (sub === "show") {
    if (!id || extra.length) throw new UsageError("`checkout transfers show` takes one transfer id.");
    return withDb(async (db) => {
      const transfer = await db.transfer.findUnique({ where: { id } });
      if (!transfer) throw new CliError(`No transfer ${id}.`);
      const entries = await db.ledgerEntry.findMany({
        where: { transferId: id },
        include: { postings: true },
        orderBy: { createdAt: "asc" },
      });
      if (values.json) {
        io.out(JSON.stringify({ transfer, entries }, (_k, v) => (typeof v === "bigint" ? Number(v) : v), 2));
        return 0;
      }
      io.out(transferLine(transfer));
      io.out(`  merchant ${transfer.merchantId}, attempt ${transfer.attempt}${transfer.reversed ? ", debit reversed" : ""}`);
      if (transfer.failureReason) io.out(`  ${transfer.failureReason}`);
      for (const e of entries) {
        const postings = e.postings.map((p) => `${p.balanceId} ${p.amount > 0n ? "+" : ""}${p.amount}`).join(", ");
        io.out(`  ${e.createdAt.toISOString()}  ${e.kind.padEnd(17)} ${e.idempotencyKey}${postings ? `  ${postings}` : ""}`);
      }
      return 0;
    });
  }
  if (sub !== "list" || id) throw new UsageError("`checkout transfers` takes `list` or `show <id>`.");
  const status = values.status?.toUpperCase();
  if (status && !(TRANSFER_STATUSES as readonly string[]).includes(status)) {
    throw new UsageError(`--status is one of ${TRANSFER_STATUSES.join(", ")}.`);
  }
  const limit = values.limit === undefined ? 100 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError("--limit takes a whole number above 0.");
  return withDb(async (db) => {
    const rows = await db.transfer.findMany({
      where: {
        ...(status ? { status: status as (typeof TRANSFER_STATUSES)[number] } : {}),
        ...(values.merchant ? { merchantId: values.merchant } : {}),
        ...(values.balance ? { OR: [{ fromBalanceId: values.balance }, { toBalanceId: values.balance }] } : {}),
      },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: limit,
    });
    if (values.json) io.out(JSON.stringify(rows, (_k, v) => (typeof v === "bigint" ? Number(v) : v), 2));
    else if (rows.length === 0) io.out("No transfers.");
    else for (const row of rows) io.out(transferLine(row));
    return 0;
  });
}

/** `balances show <id> [--json]`: the balance, what its postings sum to, its latest postings. */
export async function balancesCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: "boolean" } },
    allowPositionals: true,
    strict: true,
  });
  const [sub, id, ...extra] = positionals;
  if (sub !== "show" || !id || extra.length) throw new UsageError("`checkout balances show` takes one balance id.");
  return withDb(async (db) => {
    const balance = await db.ledgerBalance.findUnique({ where: { id }, include: { account: true } });
    if (!balance) throw new CliError(`No balance ${id}.`);
    const sum = (await db.ledgerPosting.aggregate({ where: { balanceId: id }, _sum: { amount: true } }))._sum.amount ?? 0n;
    const postings = await db.ledgerPosting.findMany({
      where: { balanceId: id },
      include: { entry: true },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: 20,
    });
    if (values.json) {
      io.out(JSON.stringify({ balance, postingsSum: sum, postings }, (_k, v) => (typeof v === "bigint" ? Number(v) : v), 2));
      return 0;
    }
    io.out(
      `${balance.id}  ${balance.currency}  ${balance.amount}  ${balance.status}  account ${balance.accountId} (${balance.account.status})`,
    );
    io.out(
      `  overdraft ${balance.overdraftLimit ?? "unlimited"}; postings sum to ${sum}${sum === balance.amount ? "" : "  MISMATCH"}`,
    );
    for (const p of postings) {
      io.out(
        `  ${p.createdAt.toISOString()}  ${p.amount > 0n ? "+" : ""}${p.amount}  ${p.entry.kind}  ${p.entry.transferId ?? ""}`,
      );
    }
    return 0;
  });
}
