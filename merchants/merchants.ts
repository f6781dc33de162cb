// Merchants: the tenants. Rows written before merchants existed belong to the default one, which
// the migration that brought merchants created; `npm start` gives its development keys to it.
import { randomBytes } from "node:crypto";
import type { Db } from "../prisma/client.ts";

export const DEFAULT_MERCHANT_ID = "mer_default";

export async function createMerchant(db: Db, name: string) {
  return db.merchant.create({ data: { id: `mer_${randomBytes(12).toString("hex")}`, name } });
}

export async function listMerchants(db: Db) {
  return db.merchant.findMany({ orderBy: { createdAt: "asc" } });
}
