// The payload codec (codec/): AES-256-GCM round trips, key rotation, refusals that name the key,
// tampering found, payloads in clear passed through; the keys' configuration; the development key
// of a data folder; decoding a fetched history.
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { defaultPayloadConverter, type Payload } from "@temporalio/common";
import { afterAll, describe, expect, it } from "vitest";
import { decodePayload } from "../../archive/history-json.ts";
import { devSecretFiles } from "../../codec/dev-secrets.ts";
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  isEncrypted,
  KEY_ID_METADATA,
  PayloadDecryptionError,
} from "../../codec/encryption-codec.ts";
import { decodePayloadsIn } from "../../codec/history.ts";
import { formatKeys, generateKey, parseKeys } from "../../codec/keys.ts";
import { loadPayloadCodec } from "../../codec/settings.ts";
import { ConfigError, loadConfig, loadPayloadEncryption } from "../../config.ts";

const secret = { customer: { id: "cus_1", email: "ada@example.com" }, payment: { token: "tok_approve" } };
const toPayload = (value: unknown) => defaultPayloadConverter.toPayload(value) as Payload;
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString("utf8");
const oldKey = generateKey("2025-01");
const newKey = generateKey("2026-06");

describe("EncryptionCodec", () => {
  it("encrypts every payload, naming its key, and decrypts it back whole", async () => {
    const codec = new EncryptionCodec([oldKey]);
    const plain = toPayload(secret);
    const [sealed] = await codec.encode([plain]);
    expect(text(sealed.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed.metadata?.[KEY_ID_METADATA])).toBe("2025-01");
    expect(Object.keys(sealed.metadata ?? {}).sort()).toEqual(["encoding", KEY_ID_METADATA]);
    expect(text(sealed.data)).not.toContain("ada@example.com");
    expect(Buffer.from(sealed.data ?? []).toString("base64")).not.toContain(Buffer.from("ada@example").toString("base64"));

    const [opened] = await codec.decode([sealed]);
    expect(text(opened.metadata?.encoding)).toBe("json/plain");
    expect(defaultPayloadConverter.fromPayload(opened)).toEqual(secret);
  });

  it("never encrypts the same payload to the same bytes (a fresh IV each time)", async () => {
    const codec = new EncryptionCodec([oldKey]);
    const [a, b] = await codec.encode([toPayload(secret), toPayload(secret)]);
    expect(Buffer.from(a.data ?? []).equals(Buffer.from(b.data ?? []))).toBe(false);
  });

  it("keeps payloads without data (undefined, null) as they were", async () => {
    const codec = new EncryptionCodec([oldKey]);
    const [sealed] = await codec.encode([toPayload(undefined)]);
    expect(isEncrypted(sealed)).toBe(true);
    const [opened] = await codec.decode([sealed]);
    expect(defaultPayloadConverter.fromPayload(opened)).toBeUndefined();
  });

  it("rotation: a new key encrypts from then on, and what the old key wrote still decrypts", async () => {
    const before = new EncryptionCodec([oldKey]);
    const [written] = await before.encode([toPayload(secret)]);

    const rotated = new EncryptionCodec(parseKeys(formatKeys([oldKey, newKey])));
    expect(rotated.encryptingKeyId).toBe("2026-06");
    expect(rotated.keyIds).toEqual(["2025-01", "2026-06"]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([written]))[0])).toEqual(secret);
    const [fresh] = await rotated.encode([toPayload(secret)]);
    expect(text(fresh.metadata?.[KEY_ID_METADATA])).toBe("2026-06");
    // ...which the process still on the old keys cannot read: deploy the new key everywhere first.
    await expect(before.decode([fresh])).rejects.toThrow(/key "2026-06"/);
  });

  it("refuses, naming the key id, a payload whose key it does not hold", async () => {
    const [written] = await new EncryptionCodec([oldKey]).encode([toPayload(secret)]);
    const without = new EncryptionCodec([newKey]);
    const refusal = await without.decode([written]).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(PayloadDecryptionError);
    expect((refusal as PayloadDecryptionError).keyId).toBe("2025-01");
    expect((refusal as Error).message).toMatch(
      /key "2025-01", which PAYLOAD_ENCRYPTION_KEYS does not hold \(it holds "2026-06"\)/,
    );
    expect((refusal as Error).message).not.toContain(newKey.key.toString("base64"));
  });

  it("refuses a ciphertext that was changed, cut short, or relabelled with another key's id", async () => {
    const codec = new EncryptionCodec([oldKey, newKey]);
    const [sealed] = await codec.encode([toPayload(secret)]);
    const data = Buffer.from(sealed.data ?? []);

    const flipped = Buffer.from(data);
    flipped[20] ^= 0x01;
    await expect(codec.decode([{ ...sealed, data: flipped }])).rejects.toThrow(/key "2026-06" does not decrypt/);
    await expect(codec.decode([{ ...sealed, data: data.subarray(0, 10) }])).rejects.toBeInstanceOf(PayloadDecryptionError);
    const relabelled = { ...sealed, metadata: { ...sealed.metadata, [KEY_ID_METADATA]: Buffer.from("2025-01") } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/key "2025-01" does not decrypt/);
  });

  it("passes payloads that were never encrypted through as they are (histories from before, search attributes)", async () => {
    const codec = new EncryptionCodec([newKey]);
    const plain = toPayload(secret);
    const [same] = await codec.decode([plain]);
    expect(same).toBe(plain);
  });

  it("with encryption off, sends payloads in clear and still decrypts what its keys wrote", async () => {
    const [written] = await new EncryptionCodec([oldKey]).encode([toPayload(secret)]);
    const off = new EncryptionCodec([oldKey], { encrypt: false });
    expect(off.encryptingKeyId).toBeUndefined();
    const plain = toPayload(secret);
    expect((await off.encode([plain]))[0]).toBe(plain);
    expect(defaultPayloadConverter.fromPayload((await off.decode([written]))[0])).toEqual(secret);
    await expect(new EncryptionCodec([], { encrypt: false }).decode([written])).rejects.toThrow(/it holds none/);
  });
});

describe("PAYLOAD_ENCRYPTION_KEYS", () => {
  it("is id:base64 pairs, oldest first, newest last", () => {
    const keys = parseKeys(` a:${oldKey.key.toString("base64")} , b.2:${newKey.key.toString("base64")} `);
    expect(keys.map((k) => k.id)).toEqual(["a", "b.2"]);
    expect(keys[1].key.equals(newKey.key)).toBe(true);
  });

  it.each([
    ["no id", `:${oldKey.key.toString("base64")}`, /entry 1 must be id:base64key/],
    ["no colon", "justtext", /entry 1 must be id:base64key/],
    ["a short key", `k:${Buffer.alloc(16).toString("base64")}`, /key "k" must be 32 random bytes/],
    ["not base64", `k:${"!".repeat(44)}`, /key "k" must be 32 random bytes/],
    ["a repeated id", `k:${oldKey.key.toString("base64")},k:${newKey.key.toString("base64")}`, /key id "k" is given twice/],
  ])("refuses %s, naming the variable and never the key", (_what, raw, message) => {
    let refusal: unknown;
    try {
      loadConfig({ PAYLOAD_ENCRYPTION_KEYS: raw });
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(ConfigError);
    expect((refusal as Error).message).toMatch(/^PAYLOAD_ENCRYPTION_KEYS: /);
    expect((refusal as Error).message).toMatch(message);
    for (const key of [oldKey, newKey]) expect((refusal as Error).message).not.toContain(key.key.toString("base64"));
  });

  it("PAYLOAD_ENCRYPTION is on unless set off", () => {
    expect(loadPayloadEncryption({}).encrypt).toBe(true);
    expect(loadPayloadEncryption({ PAYLOAD_ENCRYPTION: "off" }).encrypt).toBe(false);
    expect(() => loadPayloadEncryption({ PAYLOAD_ENCRYPTION: "maybe" })).toThrow(/PAYLOAD_ENCRYPTION must be true or false/);
  });

  it("CODEC_SERVER_TOKEN and CODEC_CORS_ORIGINS are checked", () => {
    expect(() => loadConfig({ CODEC_SERVER_TOKEN: "short" })).toThrow(/CODEC_SERVER_TOKEN must be at least 16 characters/);
    expect(() => loadConfig({ CODEC_CORS_ORIGINS: "http://ui.example/path" })).toThrow(/CODEC_CORS_ORIGINS must be/);
    const config = loadConfig({ CODEC_CORS_ORIGINS: "https://ui.example.com, http://localhost:8080" });
    expect(config.codecServer).toEqual({
      token: undefined,
      host: "127.0.0.1",
      port: 8234,
      corsOrigins: ["https://ui.example.com", "http://localhost:8080"],
    });
  });
});

describe("the keys a process uses", () => {
  const dirs: string[] = [];
  const dataDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "checkout-codec-"));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("against a server of your own: PAYLOAD_ENCRYPTION_KEYS, or a refusal naming it", async () => {
    const DATA_DIR = await dataDir();
    await expect(loadPayloadCodec(loadPayloadEncryption({ DATA_DIR }), "external")).rejects.toThrow(
      /^Set PAYLOAD_ENCRYPTION_KEYS: .*PAYLOAD_ENCRYPTION=off/,
    );
    await expect(loadPayloadCodec(loadPayloadEncryption({ DATA_DIR }), "external")).rejects.toBeInstanceOf(ConfigError);
    const given = await loadPayloadCodec(
      loadPayloadEncryption({ DATA_DIR, PAYLOAD_ENCRYPTION_KEYS: formatKeys([oldKey, newKey]) }),
      "external",
    );
    expect(given.codec.encryptingKeyId).toBe("2026-06");
    expect(given.source).toBe("PAYLOAD_ENCRYPTION_KEYS");
    const off = await loadPayloadCodec(loadPayloadEncryption({ DATA_DIR, PAYLOAD_ENCRYPTION: "off" }), "external");
    expect(off.codec.encryptingKeyId).toBeUndefined();
    expect(off.source).toBe("off");
  });

  it("under npm start: a development key made once in the data folder, which the CLI beside it reads", async () => {
    const DATA_DIR = await dataDir();
    await expect(loadPayloadCodec(loadPayloadEncryption({ DATA_DIR }), "beside-dev-server")).rejects.toThrow(
      /Set PAYLOAD_ENCRYPTION_KEYS/,
    );
    const [first, again] = await Promise.all([
      loadPayloadCodec(loadPayloadEncryption({ DATA_DIR }), "embedded"),
      loadPayloadCodec(loadPayloadEncryption({ DATA_DIR }), "embedded"),
    ]);
    const file = devSecretFiles(path.resolve(DATA_DIR)).payloadEncryptionKeys;
    expect(first.source).toBe(file);
    expect(first.codec.encryptingKeyId).toMatch(/^dev-[0-9a-f]{6}$/);
    expect(again.codec.encryptingKeyId).toBe(first.codec.encryptingKeyId);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(parseKeys(await readFile(file, "utf8"))).toHaveLength(1);

    const [written] = await first.codec.encode([toPayload(secret)]);
    const cli = await loadPayloadCodec(loadPayloadEncryption({ DATA_DIR }), "beside-dev-server");
    expect(defaultPayloadConverter.fromPayload((await cli.codec.decode([written]))[0])).toEqual(secret);
  });
});

describe("decodePayloadsIn", () => {
  it("decrypts every payload of a fetched history, wherever it sits, and leaves the others", async () => {
    const codec = new EncryptionCodec([newKey]);
    const [input, memo, result] = await codec.encode([toPayload(secret), toPayload("fingerprint"), toPayload({ ok: true })]);
    const searchAttribute = toPayload("cus_1");
    const history = {
      events: [
        {
          eventId: { low: 1, high: 0, unsigned: false },
          workflowExecutionStartedEventAttributes: {
            input: { payloads: [input] },
            memo: { fields: { requestHash: memo } },
            searchAttributes: { indexedFields: { CustomerId: searchAttribute } },
          },
        },
        { workflowExecutionCompletedEventAttributes: { result: { payloads: [result] } } },
      ],
    };
    // Read before decoding, a payload is refused, not taken for absent.
    expect(() => decodePayload(input)).toThrow(/still encrypted: decode the history/);
    await decodePayloadsIn(history, [codec]);
    const [started, completed] = history.events as any[];
    expect(defaultPayloadConverter.fromPayload(started.workflowExecutionStartedEventAttributes.input.payloads[0])).toEqual(
      secret,
    );
    expect(defaultPayloadConverter.fromPayload(started.workflowExecutionStartedEventAttributes.memo.fields.requestHash)).toBe(
      "fingerprint",
    );
    expect(started.workflowExecutionStartedEventAttributes.searchAttributes.indexedFields.CustomerId).toBe(searchAttribute);
    expect(defaultPayloadConverter.fromPayload(completed.workflowExecutionCompletedEventAttributes.result.payloads[0])).toEqual({
      ok: true,
    });
  });
});
