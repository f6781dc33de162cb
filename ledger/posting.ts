// The one way money moves: post(), a journal entry of postings that sum to zero per currency,
// in one transaction. Transfers use it today; deposits, withdrawals and exchange will (their
// other side being a system balance, see systemBalance). What it guarantees:
// - once per idempotency key (workflow id + step): a retried activity gets the entry it made;
// - the balances it touches are locked (SELECT … FOR UPDATE, in id order, so two entries never
//   deadlock) before they are read, so concurrent movements on one balance are serialised;
// - no balance ends below minus its overdraft limit (0 unless the balance was opened with one;
//   system balances have none), no disabled account or balance and no inactive currency takes a
//   movement (unless `force`, for a compensation that gives back what was taken).
import { MAX_AMOUNT } from "../money/amounts.ts";
import { type Db, Prisma } from "../prisma/client.ts";
import { LedgerRefusal } from "./errors.ts";
import { newBalanceId, newEntryId, newPostingId } from "./ids.ts";

type Tx = Prisma.TransactionClient;

export interface PostingRequest {
  balanceId: string;
  /** Minor units: positive credits the balance, negative debits it. */
  amount: bigint;
}

export interface EntryRequest {
  idempotencyKey: string;
  kind: string;
  transferId?: string;
  postings: PostingRequest[];
  /** Skip the status checks: a compensation must give money back to a balance disabled meanwhile. */
  force?: boolean;
}

export interface PostedEntry {
  id: string;
  /** False when the key had been posted already: nothing was written this time. */
  created: boolean;
}

interface LockedBalance {
  id: string;
  currency: string;
  amount: bigint;
  overdraftLimit: bigint | null;
  status: string;
  accountStatus: string;
  currencyActive: boolean | null;
}

/** Posts the entry in its own transaction; `then` runs in it too (a transfer's status, its event). */
export async function post(db: Db, request: EntryRequest, then?: (tx: Tx, entry: PostedEntry) => Promise<void>) {
  try {
    return await db.$transaction(async (tx) => {
      const entry = await postIn(tx, request);
      await then?.(tx, entry);
      return entry;
    });
  } catch (err) {
    // The same key posted at the same moment by another attempt: that one's entry stands.
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") {
      const existing = await db.ledgerEntry.findUnique({ where: { idempotencyKey: request.idempotencyKey } });
      if (existing) return { id: existing.id, created: false };
    }
    throw err;
  }
}

/** Posts the entry in the caller's transaction. */
export async function postIn(tx: Tx, request: EntryRequest): Promise<PostedEntry> {
  const existing = await tx.ledgerEntry.findUnique({ where: { idempotencyKey: request.idempotencyKey } });
  if (existing) return { id: existing.id, created: false };
  if (request.postings.length < 2) throw new LedgerRefusal("unbalanced_entry", "An entry needs at least two postings.");
  for (const p of request.postings) {
    if (p.amount === 0n || p.amount > BigInt(MAX_AMOUNT) || p.amount < -BigInt(MAX_AMOUNT)) {
      throw new LedgerRefusal("invalid_amount", `A posting's amount must be non-zero and within ±${MAX_AMOUNT}.`);
    }
  }
  const ids = [...new Set(request.postings.map((p) => p.balanceId))].sort();
  const locked = await lockBalances(tx, ids);
  const sums = new Map<string, bigint>();
  for (const p of request.postings) {
    const balance = locked.get(p.balanceId);
    if (!balance) throw new LedgerRefusal("unbalanced_entry", `No balance "${p.balanceId}".`);
    sums.set(balance.currency, (sums.get(balance.currency) ?? 0n) + p.amount);
  }
  for (const [currency, sum] of sums) {
    if (sum !== 0n) throw new LedgerRefusal("unbalanced_entry", `The postings in ${currency} sum to ${sum}, not zero.`);
  }
  const change = new Map<string, bigint>();
  for (const p of request.postings) change.set(p.balanceId, (change.get(p.balanceId) ?? 0n) + p.amount);
  for (const [id, delta] of change) {
    const balance = locked.get(id) as LockedBalance;
    if (!request.force) {
      if (balance.accountStatus !== "ACTIVE")
        throw new LedgerRefusal("account_disabled", `The account of balance ${id} is disabled.`);
      if (balance.status !== "ACTIVE") throw new LedgerRefusal("balance_disabled", `Balance ${id} is disabled.`);
      if (balance.currencyActive === null) throw new LedgerRefusal("unknown_currency", `No currency ${balance.currency}.`);
      if (!balance.currencyActive)
        throw new LedgerRefusal("currency_inactive", `The currency ${balance.currency} is not active.`);
    }
    const after = balance.amount + delta;
    // Every balance reads back as an exact number (money/amounts.ts), whatever it is credited.
    if (delta > 0n && after > BigInt(MAX_AMOUNT)) {
      throw new LedgerRefusal("balance_limit", `Balance ${id} would hold more than ${MAX_AMOUNT}.`);
    }
    // Only a debit is held to the floor: a credit (or a compensation) may always bring money back.
    if (delta < 0n && balance.overdraftLimit !== null && after < -balance.overdraftLimit) {
      throw new LedgerRefusal(
        "insufficient_funds",
        `Balance ${id} holds ${balance.amount}${balance.overdraftLimit > 0n ? ` (overdraft ${balance.overdraftLimit})` : ""}: not enough for ${-delta}.`,
      );
    }
  }
  const entryId = newEntryId();
  await tx.ledgerEntry.create({
    data: { id: entryId, idempotencyKey: request.idempotencyKey, kind: request.kind, transferId: request.transferId },
  });
  await tx.ledgerPosting.createMany({
    data: request.postings.map((p) => ({
      id: newPostingId(),
      entryId,
      balanceId: p.balanceId,
      currency: (locked.get(p.balanceId) as LockedBalance).currency,
      amount: p.amount,
    })),
  });
  for (const [id, delta] of change) {
    await tx.ledgerBalance.update({ where: { id }, data: { amount: { increment: delta } } });
  }
  return { id: entryId, created: true };
}

async function lockBalances(tx: Tx, ids: string[]): Promise<Map<string, LockedBalance>> {
  const rows = await tx.$queryRaw<LockedBalance[]>`
    SELECT b."id", b."currency", b."amount", b."overdraftLimit", b."status"::text AS "status",
           a."status"::text AS "accountStatus", c."active" AS "currencyActive"
    FROM "LedgerBalance" b
    JOIN "LedgerAccount" a ON a."id" = b."accountId"
    LEFT JOIN "LedgerCurrency" c ON c."code" = b."currency"
    WHERE b."id" = ANY(${ids})
    ORDER BY b."id"
    FOR UPDATE OF b`;
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * A system account's balance in a currency, made on first use: the other side of movements that
 * come from or go to outside a merchant's balances. "transit" holds a transfer's amount between
 * its debit and its credit.
 */
export async function systemBalance(db: Db | Tx, system: string, currency: string): Promise<string> {
  try {
    return await systemBalanceOnce(db, system, currency);
  } catch (err) {
    // Two first uses at once: the other one made it.
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002")
      return systemBalanceOnce(db, system, currency);
    throw err;
  }
}

async function systemBalanceOnce(db: Db | Tx, system: string, currency: string): Promise<string> {
  const accountId = `sys_${system}`;
  await db.ledgerAccount.upsert({
    where: { id: accountId },
    create: { id: accountId, system, owner: `system: ${system}` },
    update: {},
  });
  const balance = await db.ledgerBalance.upsert({
    where: { accountId_currency: { accountId, currency } },
    create: { id: newBalanceId(), accountId, currency, overdraftLimit: null },
    update: {},
  });
  return balance.id;
}
