// Ledger ids: random and unguessable for what a merchant creates; derived for what a retry must find again.
import { createHash, randomBytes } from "node:crypto";

const random = (prefix: string) => `${prefix}_${randomBytes(12).toString("hex")}`;
export const newAccountId = () => random("acct");
export const newBalanceId = () => random("bal");
export const newEntryId = () => random("je");
export const newPostingId = () => random("pst");

/** A transfer's id under a merchant's Idempotency-Key: the same key is the same transfer. */
export function transferIdFor(merchantId: string, idempotencyKey: string): string {
  return `tr_${createHash("sha256").update(`${merchantId}:${idempotencyKey}`).digest("hex").slice(0, 24)}`;
}
