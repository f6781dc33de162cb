// The payload codec every Temporal client and worker of this project uses (wiring.ts): each
// payload is serialized whole (its metadata too) and sealed with AES-256-GCM under the last
// key, so the Temporal server only ever holds ciphertext. The result is a payload of its own
// encoding, `binary/encrypted`, that names the key in its metadata; decoding finds that key among
// all of them (rotation), refuses loudly a key it lacks or a ciphertext that was changed, and
// hands back as they are the payloads that were never encrypted (histories from before, search
// attributes). Runs outside the workflow sandbox, so node:crypto is at hand.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Payload, PayloadCodec } from "@temporalio/common";
import proto from "@temporalio/proto";
import type { EncryptionKey } from "./keys.ts";

export const ENCRYPTED_ENCODING = "binary/encrypted";
/** Metadata naming the key a payload was encrypted with. */
export const KEY_ID_METADATA = "encryption-key-id";

const CIPHER = "aes-256-gcm";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ProtoPayload = proto.temporal.api.common.v1.Payload;
const utf8 = (text: string) => Buffer.from(text, "utf8");

/** A payload that this process cannot decrypt: its key is unknown here, or its bytes were changed. */
export class PayloadDecryptionError extends Error {
  override name = "PayloadDecryptionError";
  constructor(
    message: string,
    readonly keyId: string,
  ) {
    super(message);
  }
}

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return !!encoding && Buffer.from(encoding).toString("utf8") === ENCRYPTED_ENCODING;
}

export interface EncryptionCodecOptions {
  /** false: new payloads are left in clear (PAYLOAD_ENCRYPTION=off); the keys still decrypt older ones. */
  encrypt?: boolean;
}

export class EncryptionCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;
  /** The key new payloads are encrypted with: the last of the list (normally the newest). */
  private readonly current: EncryptionKey | undefined;

  constructor(keys: EncryptionKey[], options: EncryptionCodecOptions = {}) {
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
    const encrypt = options.encrypt ?? true;
    if (encrypt && keys.length === 0) throw new Error("encrypting payloads needs at least one key");
    this.current = encrypt ? keys.at(-1) : undefined;
  }

  /** The ids of the keys it decrypts with, oldest first (never the keys themselves). */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** The id of the key new payloads are encrypted with; undefined when encryption is off. */
  get encryptingKeyId(): string | undefined {
    return this.current?.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const current = this.current;
    if (!current) return payloads;
    return payloads.map((payload) => seal(payload, current));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.open(payload) : payload));
  }

  private open(payload: Payload): Payload {
    const idBytes = payload.metadata?.[KEY_ID_METADATA];
    const keyId = idBytes ? Buffer.from(idBytes).toString("utf8") : "";
    const key = this.keys.get(keyId);
    if (!key) {
      const held = this.keys.size ? `it holds ${this.keyIds.map((id) => `"${id}"`).join(", ")}` : "it holds none";
      throw new PayloadDecryptionError(
        `A payload is encrypted with key "${keyId || "(none named)"}", which PAYLOAD_ENCRYPTION_KEYS does not hold (${held}): add that key back to read it.`,
        keyId,
      );
    }
    const data = Buffer.from(payload.data ?? []);
    try {
      if (data.length < IV_BYTES + TAG_BYTES) throw new Error("too short");
      const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES));
      decipher.setAAD(utf8(keyId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      const inner = ProtoPayload.decode(plain);
      return { metadata: { ...inner.metadata }, data: inner.data };
    } catch {
      throw new PayloadDecryptionError(
        `A payload encrypted with key "${keyId}" does not decrypt: its bytes were changed, or the key named "${keyId}" here is not the one that encrypted it.`,
        keyId,
      );
    }
  }
}

function seal(payload: Payload, { id, key }: EncryptionKey): Payload {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(CIPHER, key, iv);
  // The key id is authenticated too: a payload relabelled with another key's id does not decrypt.
  cipher.setAAD(utf8(id));
  const sealed = Buffer.concat([cipher.update(ProtoPayload.encode(payload).finish()), cipher.final()]);
  return {
    metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(id) },
    data: Buffer.concat([iv, sealed, cipher.getAuthTag()]),
  };
}
