// The ledger checked against itself: every entry's postings sum to zero per currency, every
// posting is in its balance's currency, and every balance equals the sum of its postings. Run by
// `npx checkout ledger verify`; a tampered row (an UPDATE behind the ledger's back) shows here.
import type { Db } from "../prisma/client.ts";

export interface Inconsistency {
  kind: "entry_unbalanced" | "posting_currency" | "balance_mismatch";
  id: string;
  message: string;
}

export interface VerifyReport {
  entries: number;
  balances: number;
  inconsistencies: Inconsistency[];
}

export async function verifyLedger(db: Db): Promise<VerifyReport> {
  const unbalanced = await db.$queryRaw<Array<{ entryId: string; currency: string; sum: bigint }>>`
    SELECT "entryId", "currency", SUM("amount")::bigint AS "sum" FROM "LedgerPosting"
    GROUP BY "entryId", "currency" HAVING SUM("amount") <> 0 ORDER BY "entryId", "currency"`;
  const wrongCurrency = await db.$queryRaw<Array<{ id: string; currency: string; balanceCurrency: string }>>`
    SELECT p."id", p."currency", b."currency" AS "balanceCurrency" FROM "LedgerPosting" p
    JOIN "LedgerBalance" b ON b."id" = p."balanceId" WHERE p."currency" <> b."currency" ORDER BY p."id"`;
  const mismatched = await db.$queryRaw<Array<{ id: string; amount: bigint; sum: bigint }>>`
    SELECT b."id", b."amount", COALESCE(SUM(p."amount"), 0)::bigint AS "sum" FROM "LedgerBalance" b
    LEFT JOIN "LedgerPosting" p ON p."balanceId" = b."id"
    GROUP BY b."id", b."amount" HAVING b."amount" <> COALESCE(SUM(p."amount"), 0) ORDER BY b."id"`;
  const [entries, balances] = await Promise.all([db.ledgerEntry.count(), db.ledgerBalance.count()]);
  return {
    entries,
    balances,
    inconsistencies: [
      ...unbalanced.map((r) => ({
        kind: "entry_unbalanced" as const,
        id: r.entryId,
        message: `entry ${r.entryId}: its ${r.currency} postings sum to ${r.sum}, not 0`,
      })),
      ...wrongCurrency.map((r) => ({
        kind: "posting_currency" as const,
        id: r.id,
        message: `posting ${r.id} is in ${r.currency}, its balance in ${r.balanceCurrency}`,
      })),
      ...mismatched.map((r) => ({
        kind: "balance_mismatch" as const,
        id: r.id,
        message: `balance ${r.id} holds ${r.amount}, its postings sum to ${r.sum}`,
      })),
    ],
  };
}
