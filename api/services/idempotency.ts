// A retried request must find what the first one did, and a key reused for another request must
// be refused: the checkout id follows from the key, and the request's fingerprint is kept in the
// workflow's memo to compare against.
import { createHash, randomUUID } from "node:crypto";
import { ApiError } from "../errors.ts";

/** The public id of a checkout: derived from the Idempotency-Key when there is one. */
export function checkoutIdFor(idempotencyKey: string | undefined): string {
  if (!idempotencyKey) return `chk_${randomUUID().replace(/-/g, "")}`;
  return `chk_${createHash("sha256").update(idempotencyKey).digest("hex").slice(0, 32)}`;
}

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
