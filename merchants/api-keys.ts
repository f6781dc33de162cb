// API keys: `sk_…` secret keys for a merchant's servers, `pk_…` publishable keys for browsers.
// A key is shown once, when created; only its SHA-256 is stored, so a copy of the database holds
// no usable key. A revoked key stops working at once in the process that revoked it and within
// KEY_CACHE_MS in the others.
import { createHash, randomBytes } from "node:crypto";
import type { Caller, Scope } from "../api/caller.ts";
import type { Db } from "../prisma/client.ts";

export type KeyType = Caller["type"];

/** How long a process trusts what it last read about a key (revocation reaches every process within it). */
export const KEY_CACHE_MS = 10_000;

const PREFIX: Record<KeyType, string> = { secret: "sk_", publishable: "pk_" };

export const hashKey = (key: string) => createHash("sha256").update(key).digest("hex");

export interface CreatedKey {
  id: string;
  /** The key itself: shown to whoever created it, never stored. */
  key: string;
  merchantId: string;
  type: KeyType;
  scopes: Scope[];
}

export async function createApiKey(
  db: Db,
  options: { merchantId: string; type: KeyType; scopes: readonly Scope[]; name?: string },
): Promise<CreatedKey> {
  const key = `${PREFIX[options.type]}${randomBytes(24).toString("base64url")}`;
  // Publishable keys act only through their own rights (start a checkout, read it by its secret).
  const scopes = options.type === "publishable" ? [] : [...new Set(options.scopes)];
  const row = await db.apiKey.create({
    data: {
      id: `key_${randomBytes(10).toString("hex")}`,
      merchantId: options.merchantId,
      type: options.type === "secret" ? "SECRET" : "PUBLISHABLE",
      prefix: key.slice(0, 12),
      hash: hashKey(key),
      scopes,
      name: options.name ?? null,
    },
  });
  return { id: row.id, key, merchantId: row.merchantId, type: options.type, scopes };
}

export async function listApiKeys(db: Db, merchantId?: string) {
  const rows = await db.apiKey.findMany({ where: merchantId ? { merchantId } : {}, orderBy: { createdAt: "asc" } });
  return rows.map((row) => ({
    id: row.id,
    merchantId: row.merchantId,
    type: row.type === "SECRET" ? "secret" : "publishable",
    prefix: `${row.prefix}…`,
    scopes: row.scopes,
    name: row.name,
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
  }));
}

/** Revokes a key; false when there is no such key (or it was revoked already). */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  const { count } = await db.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  keyCache.clear();
  return count > 0;
}

const keyCache = new Map<string, { caller: Caller | undefined; until: number }>();

/** The caller a presented key stands for; undefined for an unknown or revoked key. */
export async function callerForKey(db: Db, key: string): Promise<Caller | undefined> {
  const hash = hashKey(key);
  const cached = keyCache.get(hash);
  if (cached && cached.until > Date.now()) return cached.caller;
  const row = await db.apiKey.findUnique({ where: { hash } });
  const caller: Caller | undefined =
    row && !row.revokedAt
      ? {
          merchantId: row.merchantId,
          keyId: row.id,
          type: row.type === "SECRET" ? "secret" : "publishable",
          scopes: row.scopes as Scope[],
        }
      : undefined;
  if (keyCache.size > 10_000) keyCache.clear();
  keyCache.set(hash, { caller, until: Date.now() + KEY_CACHE_MS });
  return caller;
}
