// `npm start` on its embedded database: a development merchant's keys, made on the first start
// and kept in the data folder (never in the repository), so that the README's curl example works
// from the first minute. A database of your own (DATABASE_URL) never gets keys this way: create
// them with `npx checkout keys create`.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { SCOPES } from "../api/caller.ts";
import type { Db } from "../prisma/client.ts";
import { callerForKey, createApiKey } from "./api-keys.ts";
import { DEFAULT_MERCHANT_ID } from "./merchants.ts";

export interface DevelopmentKeys {
  merchantId: string;
  secretKey: string;
  publishableKey: string;
}

export const developmentKeysFile = (dataDir: string) => path.join(dataDir, "development-keys.json");

/** The keys kept in the data folder, made (for the default merchant) when missing or revoked. */
export async function ensureDevelopmentKeys(db: Db, dataDir: string): Promise<DevelopmentKeys> {
  const file = developmentKeysFile(dataDir);
  if (existsSync(file)) {
    const kept = JSON.parse(await readFile(file, "utf8")) as DevelopmentKeys;
    const [secret, publishable] = await Promise.all([callerForKey(db, kept.secretKey), callerForKey(db, kept.publishableKey)]);
    if (secret && publishable) return kept;
  }
  const merchantId = DEFAULT_MERCHANT_ID;
  const secret = await createApiKey(db, { merchantId, type: "secret", scopes: SCOPES, name: "development (npm start)" });
  const publishable = await createApiKey(db, { merchantId, type: "publishable", scopes: [], name: "development (npm start)" });
  const keys = { merchantId, secretKey: secret.key, publishableKey: publishable.key };
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return keys;
}
