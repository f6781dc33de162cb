// A checkout's client secret: what a browser holding a publishable key proves its right with.
// It reads that checkout's status (GET /checkouts/{id}?client_secret=…) and, in the lists, the
// objects of that checkout's customer (api/list-scope.ts).
import { timingSafeEqual } from "node:crypto";
import type { Db } from "../prisma/client.ts";

/** Compares secrets in constant time. */
export function sameSecret(expected: string, given: string): boolean {
  const [a, b] = [Buffer.from(expected), Buffer.from(given)];
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The merchant's checkout whose client secret this is (`<checkout id>_secret_…`); undefined for any other. */
export async function checkoutOfClientSecret(db: Db, merchantId: string, clientSecret: string) {
  const checkoutId = clientSecret.split("_secret_")[0];
  if (!checkoutId || checkoutId === clientSecret) return undefined;
  const row = await db.checkout.findUnique({ where: { id: checkoutId } });
  return row && row.merchantId === merchantId && sameSecret(row.clientSecret, clientSecret) ? row : undefined;
}
