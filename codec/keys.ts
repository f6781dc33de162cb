// The payload encryption keys: `id:base64` pairs, comma-separated, oldest first and newest last
// (PAYLOAD_ENCRYPTION_KEYS). The last one encrypts; every one decrypts, so a key is rotated by
// adding a new one (first before the current one, to be read everywhere, then at the end, to
// write with it) and dropping an old one only once no history needs it (README).
import { randomBytes } from "node:crypto";

/** AES-256: 32 bytes. */
export const KEY_BYTES = 32;

export interface EncryptionKey {
  /** Written beside each payload it encrypts (never secret): says which key decrypts it. */
  id: string;
  key: Buffer;
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parses `id:base64,id:base64,…` (oldest first). A refusal names the entry by its id or its
 * position, never by the key material it holds.
 */
export function parseKeys(raw: string): EncryptionKey[] {
  const keys: EncryptionKey[] = [];
  const entries = raw.split(",").map((entry) => entry.trim());
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(":");
    const id = colon < 0 ? "" : entry.slice(0, colon).trim();
    const material = colon < 0 ? "" : entry.slice(colon + 1).trim();
    if (!ID.test(id)) {
      throw new Error(`entry ${index + 1} must be id:base64key, the id of letters, digits, ".", "_" and "-"`);
    }
    if (!BASE64.test(material) || Buffer.from(material, "base64").length !== KEY_BYTES) {
      throw new Error(`key "${id}" must be ${KEY_BYTES} random bytes in base64 (e.g. \`openssl rand -base64 32\`)`);
    }
    if (keys.some((k) => k.id === id)) throw new Error(`key id "${id}" is given twice`);
    keys.push({ id, key: Buffer.from(material, "base64") });
  });
  return keys;
}

export function formatKeys(keys: EncryptionKey[]): string {
  return keys.map((k) => `${k.id}:${k.key.toString("base64")}`).join(",");
}

export function generateKey(id: string): EncryptionKey {
  return { id, key: randomBytes(KEY_BYTES) };
}
