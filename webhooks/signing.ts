// Deliveries are signed the Standard Webhooks way (https://www.standardwebhooks.com), so that a
// subscriber verifies them with the `standardwebhooks` or `svix` library: `webhook-id` (the
// event id: the same on every retry), `webhook-timestamp` (unix seconds of this attempt) and
// `webhook-signature`: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one per secret,
// space-separated (during a rotation's grace period: the new secret's, then the old one's).
// Secrets are `whsec_<base64 of 32 random bytes>`; the HMAC key is those bytes.
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

const PREFIX = "whsec_";

export function newSigningSecret(): string {
  return `${PREFIX}${randomBytes(32).toString("base64")}`;
}

/**
 * The standard form of a secret made before deliveries followed Standard Webhooks (base64url
 * after the prefix, which the libraries cannot read): the same key bytes, in base64.
 */
export function standardSecret(secret: string): string {
  const encoded = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  return /[-_]/.test(encoded) || encoded.length % 4 !== 0
    ? `${PREFIX}${Buffer.from(encoded, "base64url").toString("base64")}`
    : secret;
}

export interface SignatureHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** The three headers for one attempt, signed with each of `secrets` (newest first). */
export function signatureHeaders(msgId: string, at: Date, body: string, secrets: string[]): SignatureHeaders {
  if (secrets.length === 0) throw new Error("no secret to sign with");
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": secrets.map((secret) => new Webhook(secret).sign(msgId, at, body)).join(" "),
  };
}
