// The broker's TLS and credentials from the environment: what each variable turns on, and the
// settings that cannot work refused with the variable's name.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { natsSecurity } from "../../activities/broker.ts";

const dir = mkdtempSync(path.join(tmpdir(), "nats-security-"));
const file = (name: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, "-----BEGIN X-----\n-----END X-----\n");
  return p;
};

describe("natsSecurity", () => {
  it("is nothing when nothing is set", () => {
    expect(natsSecurity({})).toEqual({});
  });

  it("requires TLS with a CA, and adds a client certificate when both halves are set", () => {
    const [ca, cert, key] = [file("ca.pem"), file("client.pem"), file("client.key")];
    expect(natsSecurity({ EVENTS_TLS_CA: ca })).toEqual({ tls: { caFile: ca } });
    expect(natsSecurity({ EVENTS_TLS_CA: ca, EVENTS_TLS_CERT: cert, EVENTS_TLS_KEY: key })).toEqual({
      tls: { caFile: ca, certFile: cert, keyFile: key },
    });
    expect(natsSecurity({ EVENTS_TLS: "true" })).toEqual({ tls: {} });
  });

  it("authenticates with a .creds file", () => {
    const creds = natsSecurity({ EVENTS_CREDS: file("user.creds") });
    expect(typeof creds.authenticator).toBe("function");
  });

  it("names the variable of a setting that cannot work", () => {
    expect(() => natsSecurity({ EVENTS_TLS_CERT: file("c.pem") })).toThrow(/EVENTS_TLS_CERT and EVENTS_TLS_KEY/);
    expect(() => natsSecurity({ EVENTS_TLS_CA: path.join(dir, "missing.pem") })).toThrow(/^EVENTS_TLS_CA: no file/);
    expect(() => natsSecurity({ EVENTS_CREDS: "/nonexistent.creds" })).toThrow(/^EVENTS_CREDS: no file/);
  });
});
