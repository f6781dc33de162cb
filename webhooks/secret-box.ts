// Endpoint signing secrets at rest: AES-256-GCM under WEBHOOK_SECRET_KEY (32 bytes), a fresh
// 96-bit IV each time, bound to the endpoint (its id is the additional authenticated data, so a
// sealed secret copied onto another row does not open). Sealed form:
// `v1.<iv>.<ciphertext>.<tag>`, each part base64url. Small on purpose, with nothing but node:crypto.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const VERSION = "v1";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBoxError extends Error {
  override name = "SecretBoxError";
}

/** The key from its base64 text; null when it is not 32 bytes of base64 (the text is never echoed). */
export function parseSecretKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return null;
  const key = Buffer.from(trimmed, "base64"); // node's base64 reads the URL-safe alphabet too
  return key.length === KEY_BYTES ? key : null;
}

export function newSecretKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

export function isSealed(value: string): boolean {
  return value.startsWith(`${VERSION}.`);
}

export function seal(key: Buffer, plaintext: string, context: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(Buffer.from(context, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [VERSION, iv, ciphertext, cipher.getAuthTag()]
    .map((p) => (typeof p === "string" ? p : p.toString("base64url")))
    .join(".");
}

/** The plaintext; SecretBoxError when the value is not sealed, was changed, or another key or context sealed it. */
export function open(key: Buffer, sealed: string, context: string): string {
  const [version, iv, ciphertext, tag, ...rest] = sealed.split(".");
  if (version !== VERSION || !iv || ciphertext === undefined || !tag || rest.length)
    throw new SecretBoxError("not a sealed secret");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"), { authTagLength: TAG_BYTES })
      .setAAD(Buffer.from(context, "utf8"))
      .setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw new SecretBoxError("the sealed secret does not open with this key");
  }
}
