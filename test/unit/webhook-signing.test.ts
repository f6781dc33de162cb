// Deliveries are signed the Standard Webhooks way, checked here with the `standardwebhooks`
// package as a subscriber would; secrets are sealed at rest (AES-256-GCM) and, during a
// rotation's grace period, the old secret signs beside the new one.
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { isSealed, newSecretKey, open, parseSecretKey, SecretBoxError, seal } from "../../webhooks/secret-box.ts";
import { openFor, sealFor, signingSecrets } from "../../webhooks/secrets.ts";
import { newSigningSecret, signatureHeaders, standardSecret } from "../../webhooks/signing.ts";

const body = JSON.stringify({ id: "evt_1", type: "payment.succeeded", created_at: "2026-01-01T00:00:00.000Z", data: {} });
const verifies = (secret: string, headers: Record<string, string>, payload = body) => {
  try {
    new Webhook(secret).verify(payload, headers);
    return true;
  } catch {
    return false;
  }
};

describe("Standard Webhooks signatures", () => {
  it("verify with the standardwebhooks package, and only with the right secret, body and headers", () => {
    const secret = newSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    const headers = { ...signatureHeaders("evt_1", new Date(), body, [secret]) };
    expect(headers["webhook-id"]).toBe("evt_1");
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, headers)).toMatchObject({ id: "evt_1" });
    expect(verifies(newSigningSecret(), headers)).toBe(false);
    expect(verifies(secret, headers, body.replace("evt_1", "evt_2"))).toBe(false);
    expect(verifies(secret, { ...headers, "webhook-id": "evt_2" })).toBe(false);
  });

  it("a receiver refuses a signature older than its tolerance (a replay)", () => {
    const secret = newSigningSecret();
    const stale = signatureHeaders("evt_1", new Date(Date.now() - 10 * 60_000), body, [secret]);
    expect(verifies(secret, { ...stale })).toBe(false);
  });

  it("carry one signature per secret, newest first, each verifying on its own", () => {
    const [fresh, old] = [newSigningSecret(), newSigningSecret()];
    const headers = signatureHeaders("evt_1", new Date(), body, [fresh, old]);
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(verifies(fresh, { ...headers })).toBe(true);
    expect(verifies(old, { ...headers })).toBe(true);
    expect(verifies(newSigningSecret(), { ...headers })).toBe(false);
  });

  it("a secret from before Standard Webhooks (base64url) keeps its key bytes in the standard form", () => {
    const bytes = Buffer.from([...Array(24).keys()].map((i) => (i % 2 ? 0xfb : 0xff)));
    const legacy = `whsec_${bytes.toString("base64url")}`;
    expect(legacy).toMatch(/[-_]/);
    const standard = standardSecret(legacy);
    expect(standard).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(standard.slice(6), "base64")).toEqual(bytes);
    const current = newSigningSecret();
    expect(standardSecret(current)).toBe(current);
  });
});

describe("secrets at rest", () => {
  const key = newSecretKey();

  it("are sealed with AES-256-GCM: no clear text, a fresh IV each time, opening only with the key and the endpoint", () => {
    const secret = newSigningSecret();
    const sealed = seal(key, secret, "we_1");
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain(secret);
    expect(sealed).not.toContain(secret.slice(6));
    expect(seal(key, secret, "we_1")).not.toBe(sealed);
    expect(open(key, sealed, "we_1")).toBe(secret);
    expect(() => open(newSecretKey(), sealed, "we_1")).toThrow(SecretBoxError);
    expect(() => open(key, sealed, "we_2")).toThrow(SecretBoxError);
    const [v, iv, ciphertext, tag] = sealed.split(".");
    const flipped = Buffer.from(ciphertext, "base64url");
    flipped[0] ^= 1;
    expect(() => open(key, [v, iv, flipped.toString("base64url"), tag].join("."), "we_1")).toThrow(SecretBoxError);
    expect(() => open(key, secret, "we_1")).toThrow(SecretBoxError);
  });

  it("the key is 32 bytes of base64", () => {
    expect(parseSecretKey(key.toString("base64"))).toEqual(key);
    expect(parseSecretKey(`${key.toString("base64url")}\n`)).toEqual(key);
    expect(parseSecretKey(Buffer.alloc(16).toString("base64"))).toBeNull();
    expect(parseSecretKey("not base64 at all!")).toBeNull();
  });

  it("a rotation signs with both secrets until the grace period ends, then with the new one only", () => {
    const [fresh, old] = [newSigningSecret(), newSigningSecret()];
    const now = new Date("2026-12-01T12:00:00Z");
    const row = {
      id: "we_1",
      secret: sealFor(key, "we_1", fresh),
      previousSecret: sealFor(key, "we_1", old),
      previousSecretExpiresAt: new Date(now.getTime() + 24 * 3600_000),
    };
    expect(signingSecrets(key, row, now)).toEqual([fresh, old]);
    expect(signingSecrets(key, row, new Date(now.getTime() + 24 * 3600_000))).toEqual([fresh]);
    expect(signingSecrets(key, { ...row, previousSecret: null, previousSecretExpiresAt: null }, now)).toEqual([fresh]);
  });

  it("a row from before sealing is read as it is, in the standard form", () => {
    const legacy = `whsec_${Buffer.alloc(24, 0xfb).toString("base64url")}`;
    expect(openFor(key, "we_1", legacy)).toBe(standardSecret(legacy));
  });
});
