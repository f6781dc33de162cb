// Where a checkout came from: the socket's address, X-Forwarded-For and the country header only
// from a trusted proxy, the offline GeoIP database otherwise; into the workflow input (audit
// `where`), the Country search attribute and the order row.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveOrigin } from "../api/origin.ts";
import { loadConfig } from "../config.ts";
import { checkoutWorkflowId, searchAttributes } from "../workflows/definitions.ts";
import { call, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const UA = `origin-test/1.0 ${"x".repeat(400)}`;

async function checkout(stack: TestStack, headers: Record<string, string>) {
  const res = await call(stack.url, "POST", "/checkouts", validCheckout("tok_approve"), { "user-agent": UA, ...headers });
  expect(res.status, res.text).toBe(202);
  const id = res.json.id as string;
  await waitForCheckout(stack.url, id);
  const audit = await call(stack.url, "GET", `/checkouts/${id}/audit`);
  expect(audit.status, audit.text).toBe(200);
  const description = await stack.temporal.workflow.getHandle(checkoutWorkflowId(id)).describe();
  const order = await stack.db.order.findUnique({ where: { checkoutId: id } });
  return {
    where: audit.json.where,
    country: description.typedSearchAttributes.get(searchAttributes.Country),
    orderCountry: order?.country,
  };
}

describe("origin, no trusted proxy configured", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("records the socket's address and the User-Agent (truncated); loopback has no country", async () => {
    const seen = await checkout(stack, {});
    expect(seen.where).toEqual({ ip: "127.0.0.1", userAgent: UA.slice(0, 300) });
    expect(seen.country).toBeUndefined();
    expect(seen.orderCountry).toBeNull();
  });

  it("ignores X-Forwarded-For and the country header", async () => {
    const seen = await checkout(stack, { "x-forwarded-for": "81.2.69.142", "cf-ipcountry": "GB" });
    expect(seen.where.ip).toBe("127.0.0.1");
    expect(seen.where.country).toBeUndefined();
    expect(seen.country).toBeUndefined();
    expect(seen.orderCountry).toBeNull();
  });
});

describe("origin behind a trusted proxy", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { TRUSTED_PROXIES: "127.0.0.1,::1", COUNTRY_HEADER: "CF-IPCountry" } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("takes the client from X-Forwarded-For and the country from the proxy's header", async () => {
    const seen = await checkout(stack, { "x-forwarded-for": "81.2.69.142", "cf-ipcountry": "GB" });
    expect(seen.where).toEqual({ ip: "81.2.69.142", userAgent: UA.slice(0, 300), country: "GB" });
    expect(seen.country).toBe("GB");
    expect(seen.orderCountry).toBe("GB");
  });

  it("without the header, finds the country in the offline GeoIP database", async () => {
    const seen = await checkout(stack, { "x-forwarded-for": "81.2.69.142" });
    expect(seen.where).toMatchObject({ ip: "81.2.69.142", country: "GB" });
    expect(seen.country).toBe("GB");
    expect(seen.orderCountry).toBe("GB");
  });

  it("takes the right-most address that is not a trusted proxy: a forged left part is ignored", async () => {
    const seen = await checkout(stack, { "x-forwarded-for": "8.8.8.8, 81.2.69.142, 127.0.0.1" });
    expect(seen.where.ip).toBe("81.2.69.142");
  });
});

describe("resolveOrigin", () => {
  const trusted = { trustedProxies: ["10.0.0.2"], countryHeader: "cf-ipcountry" };

  it("believes nothing from an untrusted peer", () => {
    expect(resolveOrigin({ peer: "81.2.69.142", forwardedFor: "1.2.3.4", country: "FR" }, trusted)).toEqual({
      ip: "81.2.69.142",
      userAgent: null,
      country: "GB",
    });
  });

  it("normalizes IPv4-mapped IPv6 and gives private addresses no country, whatever the header says", () => {
    expect(resolveOrigin({ peer: "::ffff:10.0.0.2", forwardedFor: "192.168.1.7", country: "FR" }, trusted)).toEqual({
      ip: "192.168.1.7",
      userAgent: null,
      country: null,
    });
  });

  it("stops at garbage in X-Forwarded-For and ignores Cloudflare's XX", () => {
    expect(resolveOrigin({ peer: "10.0.0.2", forwardedFor: "81.2.69.142, not-an-ip", country: "XX" }, trusted).ip).toBe(
      "10.0.0.2",
    );
    expect(resolveOrigin({ peer: "10.0.0.2", forwardedFor: "81.2.69.142", country: "XX" }, trusted).country).toBe("GB");
  });

  it("config: TRUSTED_PROXIES must be IP addresses, COUNTRY_HEADER a header name", () => {
    expect(loadConfig({ TRUSTED_PROXIES: " 10.0.0.2 , ::FFFF:10.0.0.3" }).origin).toEqual({
      trustedProxies: ["10.0.0.2", "10.0.0.3"],
      countryHeader: undefined,
    });
    expect(() => loadConfig({ TRUSTED_PROXIES: "10.0.0.0/8" })).toThrow(/TRUSTED_PROXIES/);
    expect(() => loadConfig({ COUNTRY_HEADER: "cf ipcountry" })).toThrow(/COUNTRY_HEADER/);
  });
});
