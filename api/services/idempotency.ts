// A retried request must find what the first one did, and a key reused for another request must
// be refused. A merchant's Idempotency-Key is a row of its own (merchant, key) that maps to the
// checkout it started and the request's fingerprint; checkout ids are random, so no one can
// compute another's id from a key, or take a key before its owner uses it.
import { createHash, randomBytes } from "node:crypto";
import { DEFAULT_MERCHANT_ID } from "../../merchants/merchants.ts";
import { type Db, Prisma } from "../../prisma/client.ts";
import { ApiError } from "../errors.ts";

/** A new checkout's id: random, unguessable. */
export const newCheckoutId = () => `chk_${randomBytes(16).toString("hex")}`;

/** A client secret: lets a browser read its one checkout's status, nothing else. */
export const newClientSecret = (checkoutId: string) => `${checkoutId}_secret_${randomBytes(18).toString("base64url")}`;

/**
 * The id checkouts had before merchants existed: derived from the key. Only the default
 * merchant's keys can be behind one, and a retry of such a request must find its checkout.
 */
export function legacyCheckoutId(idempotencyKey: string): string {
  return `chk_${createHash("sha256").update(idempotencyKey).digest("hex").slice(0, 32)}`;
}

/**
 * The checkout a merchant's key stands for: the one an earlier request under it started (after
 * checking it was the same request), or a new id, claimed atomically so that concurrent requests
 * under one key all get the same checkout.
 */
export async function claimKey(
  db: Db,
  merchantId: string,
  key: string,
  hash: string,
): Promise<{ checkoutId: string; claimed: boolean }> {
  for (;;) {
    const existing = await db.idempotencyKey.findUnique({ where: { merchantId_key: { merchantId, key } } });
    if (existing) {
      refuseOtherRequest({ requestHash: existing.requestHash }, hash, SAME_KEY_OTHER_BODY);
      return { checkoutId: existing.checkoutId, claimed: false };
    }
    const legacy =
      merchantId === DEFAULT_MERCHANT_ID ? await db.checkout.findUnique({ where: { id: legacyCheckoutId(key) } }) : null;
    const checkoutId = legacy?.id ?? newCheckoutId();
    try {
      await db.idempotencyKey.create({ data: { merchantId, key, checkoutId, requestHash: hash } });
      return { checkoutId, claimed: !legacy };
    } catch (err) {
      // Another request under the same key claimed it first: take what it claimed.
      if (!(err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002")) throw err;
    }
  }
}

export const SAME_KEY_OTHER_BODY = "a different request body";

/** The id of a checkout's refund under a key: the same key on the same checkout is the same refund. */
export function refundIdFor(checkoutId: string, idempotencyKey: string): string {
  return `re_${createHash("sha256").update(`${checkoutId}:${idempotencyKey}`).digest("hex").slice(0, 24)}`;
}

/** Fingerprint of a request body, to tell a resubmission from a different request under the same key. */
export function requestHash(body: unknown): string {
  return createHash("sha256").update(canonicalJson(body)).digest("hex");
}

/** A refund request's fingerprint: its amount, or "rest" for everything not refunded yet. */
export function refundRequestHash(amount: number | undefined): string {
  return createHash("sha256")
    .update(String(amount ?? "rest"))
    .digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** 422 when the workflow started under this key was started for another request. */
export function refuseOtherRequest(memo: Record<string, unknown> | undefined, hash: string, what: string): void {
  if (memo?.requestHash === hash) return;
  throw new ApiError(422, "idempotency_key_reused", `This Idempotency-Key was already used for ${what}; use a new key.`, [
    { field: "header.idempotency-key", reason: `already used for ${what}` },
  ]);
}
