// Webhook signatures, Stripe's scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`;
// a receiver refuses signatures further than the webhook tolerance from now (providers/webhooks.ts).
// The sandbox signs its webhooks this way; this service's deliveries to its subscribers follow
// Standard Webhooks instead (webhooks/signing.ts).
import { createHmac, timingSafeEqual } from "node:crypto";
import { WEBHOOK_TOLERANCE_SECONDS, withinTolerance } from "../providers/webhooks.ts";

export function signPayload(body: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const digest = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return `t=${timestamp},v1=${digest}`;
}

/** Null when the signature holds; otherwise why not. */
export function checkSignature(body: string, header: string | undefined, secret: string, now = Date.now()): string | null {
  if (!header) return "missing signature header";
  const parts = Object.fromEntries(header.split(",").map((p) => p.trim().split("=", 2) as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || !parts.v1) return "malformed signature header";
  if (!withinTolerance(timestamp * 1000, now)) {
    return `signature timestamp outside the ${WEBHOOK_TOLERANCE_SECONDS / 60}-minute tolerance`;
  }
  const expected = Buffer.from(createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex"));
  const given = Buffer.from(parts.v1);
  return given.length === expected.length && timingSafeEqual(given, expected) ? null : "signature does not match";
}
