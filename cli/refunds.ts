// `checkout refunds [--attention] [--checkout <id>]`: the refunds in the database, newest first.
// --attention lists only those whose outcome stayed unknown after every retry: their amount stays
// reserved (PENDING) until an operator decides, with the reason kept on the row.
import { fromDb } from "../money/amounts.ts";
import { createDb } from "../prisma/client.ts";
import { CliError } from "./temporal.ts";

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export async function refundsCommand(options: {
  attention: boolean;
  checkoutId?: string;
  json: boolean;
  io: Io;
}): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new CliError("Set DATABASE_URL to the service's PostgreSQL: refunds are kept there.");
  const db = createDb(databaseUrl);
  try {
    const rows = await db.refund.findMany({
      where: {
        ...(options.attention ? { status: "PENDING", needsAttention: { not: null } } : {}),
        ...(options.checkoutId ? { checkoutId: options.checkoutId.replace(/^checkout-/, "") } : {}),
      },
      include: { payment: { select: { provider: true } } },
      orderBy: { createdAt: "desc" },
      take: 500,
    });
    const refunds = rows.map((r) => ({
      id: r.id,
      checkoutId: r.checkoutId,
      status: r.status,
      amount: fromDb(r.amount),
      currency: r.currency,
      provider: r.payment.provider,
      gatewayReference: r.gatewayReference,
      needsAttention: r.needsAttention,
      failureReason: r.failureReason,
      createdAt: r.createdAt.toISOString(),
    }));
    if (options.json) {
      options.io.out(JSON.stringify(refunds, null, 2));
      return 0;
    }
    if (refunds.length === 0) options.io.out(options.attention ? "No refund needs attention." : "No refunds.");
    for (const r of refunds) {
      options.io.out(`${r.id}  ${r.checkoutId}  ${r.status.padEnd(9)} ${r.amount} ${r.currency}  ${r.provider}  ${r.createdAt}`);
      if (r.needsAttention) options.io.out(`    needs attention: ${r.needsAttention}`);
      else if (r.failureReason) options.io.out(`    ${r.failureReason}`);
    }
    return 0;
  } finally {
    await db.$disconnect();
  }
}
