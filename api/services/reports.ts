// GET /reports/payments: one merchant's payments of the checkouts started in a window (the order's
// createdAt within [from, to]), counted and summed per currency (never across currencies) by
// provider, method, status and country; the most common failure reasons; and the median time from
// the checkout's start (order createdAt) to the payment's success. Parameterized queries only.
import type { Db } from "../../prisma/client.ts";

export interface Amount {
  currency: string;
  amount: number;
}

export interface Bucket {
  key: string | null;
  count: number;
  amounts: Amount[];
}

export interface PaymentsReport {
  from: string;
  to: string;
  total: { count: number; amounts: Amount[] };
  byProvider: Bucket[];
  byMethod: Bucket[];
  byStatus: Bucket[];
  byCountry: Bucket[];
  failureReasons: { reason: string; count: number }[];
  medianTimeToPaidMs: number | null;
}

type Row = { key: string | null; currency: string; count: number; amount: number };

/** Rows of (key, currency) into one bucket per key, most payments first. */
function buckets(rows: Row[]): Bucket[] {
  const byKey = new Map<string | null, Bucket>();
  for (const row of rows) {
    const bucket = byKey.get(row.key) ?? { key: row.key, count: 0, amounts: [] };
    bucket.count += row.count;
    bucket.amounts.push({ currency: row.currency, amount: row.amount });
    byKey.set(row.key, bucket);
  }
  return [...byKey.values()]
    .map((b) => ({ ...b, amounts: b.amounts.sort((x, y) => x.currency.localeCompare(y.currency)) }))
    .sort((a, b) => b.count - a.count || String(a.key).localeCompare(String(b.key)));
}

export async function paymentsReport(db: Db, merchantId: string, from: Date, to: Date): Promise<PaymentsReport> {
  // Prisma keeps DateTime as UTC in timestamp(3) columns: the raw queries compare in UTC too.
  const [fromUtc, toUtc] = [from.toISOString(), to.toISOString()];
  const where = { order: { merchantId, createdAt: { gte: from, lte: to } } };
  const grouped = async (field: "provider" | "method" | "status") => {
    const rows = await db.payment.groupBy({
      by: [field, "currency"],
      where,
      _count: { _all: true },
      _sum: { amount: true },
    });
    return buckets(
      rows.map((r) => ({
        key: String(r[field]),
        currency: r.currency,
        count: r._count._all,
        amount: Number(r._sum.amount ?? 0),
      })),
    );
  };

  const [byProvider, byMethod, byStatus, countryRows, reasons, median] = await Promise.all([
    grouped("provider"),
    grouped("method"),
    grouped("status"),
    // The country lives on the order: a join, with the window as parameters.
    db.$queryRaw<{ key: string | null; currency: string; count: number; amount: bigint | number | null }[]>`
      SELECT o."country" AS key, p."currency" AS currency, count(*)::int AS count, sum(p."amount")::bigint AS amount
      FROM "Payment" p JOIN "Order" o ON o."id" = p."orderId"
      WHERE o."merchantId" = ${merchantId}
        AND o."createdAt" >= ${fromUtc}::timestamptz AT TIME ZONE 'UTC' AND o."createdAt" <= ${toUtc}::timestamptz AT TIME ZONE 'UTC'
      GROUP BY o."country", p."currency"`,
    db.payment.groupBy({
      by: ["failureReason"],
      where: { ...where, failureReason: { not: null } },
      _count: { _all: true },
      orderBy: [{ _count: { failureReason: "desc" } }, { failureReason: "asc" }],
      take: 10,
    }),
    db.$queryRaw<{ median: number | null }[]>`
      SELECT percentile_cont(0.5) WITHIN GROUP (
        ORDER BY extract(epoch FROM (p."succeededAt" - o."createdAt")) * 1000
      )::float8 AS median
      FROM "Payment" p JOIN "Order" o ON o."id" = p."orderId"
      WHERE o."merchantId" = ${merchantId}
        AND o."createdAt" >= ${fromUtc}::timestamptz AT TIME ZONE 'UTC' AND o."createdAt" <= ${toUtc}::timestamptz AT TIME ZONE 'UTC'
        AND p."status" = 'SUCCEEDED' AND p."succeededAt" IS NOT NULL`,
  ]);

  const totals = new Map<string, number>();
  let count = 0;
  for (const bucket of byStatus) {
    count += bucket.count;
    for (const a of bucket.amounts) totals.set(a.currency, (totals.get(a.currency) ?? 0) + a.amount);
  }
  const medianMs = median[0]?.median;
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    total: {
      count,
      amounts: [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => ({ currency, amount })),
    },
    byProvider,
    byMethod,
    byStatus,
    byCountry: buckets(countryRows.map((r) => ({ ...r, count: Number(r.count), amount: Number(r.amount ?? 0) }))),
    failureReasons: reasons.map((r) => ({ reason: r.failureReason ?? "", count: r._count._all })),
    medianTimeToPaidMs: medianMs === null || medianMs === undefined ? null : Math.round(Number(medianMs)),
  };
}

export function reportService(db: Db) {
  return { payments: (merchantId: string, from: Date, to: Date) => paymentsReport(db, merchantId, from, to) };
}

export type ReportService = ReturnType<typeof reportService>;
