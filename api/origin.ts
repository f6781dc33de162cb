// Where a checkout request came from: the client's IP, its User-Agent and its country.
// The IP is the socket's peer. Only when that peer is a configured trusted proxy
// (TRUSTED_PROXIES) is X-Forwarded-For believed, read from the right: the right-most address that
// is not itself a trusted proxy is the client (anything left of it may be forged by the client).
// The country comes from the trusted proxy's header (COUNTRY_HEADER, e.g. cf-ipcountry), likewise
// only from a trusted proxy, else from the offline GeoIP database shipped in `geoip-lite`.
// Loopback, private and other non-public addresses have no country.

import { createRequire } from "node:module";
import { BlockList, isIP } from "node:net";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { normalizeIp } from "../config.ts";
import type { CheckoutOrigin } from "../workflows/types.ts";

export const USER_AGENT_MAX = 300;

export interface OriginOptions {
  trustedProxies: string[];
  countryHeader?: string;
}

function socketPeer(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // not served by @hono/node-server (app.request() in a unit test)
  }
}

export function requestOrigin(c: Context, options: OriginOptions): CheckoutOrigin {
  return resolveOrigin(
    {
      peer: socketPeer(c),
      forwardedFor: c.req.header("x-forwarded-for"),
      userAgent: c.req.header("user-agent"),
      country: options.countryHeader ? c.req.header(options.countryHeader) : undefined,
    },
    options,
  );
}

/** The pure part, given the socket's peer and the raw headers. */
export function resolveOrigin(
  request: { peer?: string; forwardedFor?: string; userAgent?: string; country?: string },
  options: OriginOptions,
): CheckoutOrigin {
  const { ip, viaProxy } = clientAddress(request, options);
  const userAgent = request.userAgent ? request.userAgent.replace(/[\p{Cc}]/gu, "").slice(0, USER_AGENT_MAX) || null : null;
  let country: string | null = null;
  if (ip && isPublic(ip)) {
    const header = viaProxy && options.countryHeader ? request.country?.trim().toUpperCase() : undefined;
    // Cloudflare says XX for unknown and T1 for Tor: not countries.
    if (header && /^[A-Z]{2}$/.test(header) && header !== "XX" && header !== "T1") country = header;
    else country = geoCountry(ip);
  }
  return { ip, userAgent, country };
}

/** The client's IP alone (no country lookup), as requestOrigin finds it: what the rate limits count by. */
export function clientIp(c: Context, options: OriginOptions): string | null {
  return clientAddress({ peer: socketPeer(c), forwardedFor: c.req.header("x-forwarded-for") }, options).ip;
}

function clientAddress(
  request: { peer?: string; forwardedFor?: string },
  options: OriginOptions,
): { ip: string | null; viaProxy: boolean } {
  const trusted = new Set(options.trustedProxies.map(normalizeIp));
  const peer = request.peer && isIP(request.peer) ? normalizeIp(request.peer) : null;
  const viaProxy = peer !== null && trusted.has(peer);
  let ip = peer;
  if (viaProxy && request.forwardedFor) {
    const hops = request.forwardedFor.split(",").map((h) => h.trim());
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = stripPort(hops[i]);
      if (!isIP(hop)) break; // garbage: believe nothing further left
      ip = normalizeIp(hop);
      if (!trusted.has(ip)) break;
    }
  }
  return { ip, viaProxy };
}

/** `1.2.3.4:5678` and `[::1]:5678` as some proxies write them. */
function stripPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed) return bracketed[1];
  const v4 = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(hop);
  return v4 ? v4[1] : hop;
}

const nonPublic = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 3],
] as const)
  nonPublic.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 127], // :: and ::1
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
  ["2001:db8::", 32],
  ["64:ff9b:1::", 48],
] as const)
  nonPublic.addSubnet(net, prefix, "ipv6");

/** False for loopback, private, link-local, shared, documentation and multicast addresses. */
export function isPublic(ip: string): boolean {
  const family = isIP(ip);
  if (!family) return false;
  return !nonPublic.check(ip, family === 4 ? "ipv4" : "ipv6");
}

type GeoIp = { lookup(ip: string): { country: string } | null };
let geoip: GeoIp | undefined;

/** The country of a public IP from geoip-lite's bundled database, loaded on first use. */
export function geoCountry(ip: string): string | null {
  // geoip-lite reads its data (~100 MB) synchronously as it loads: only once it is needed.
  geoip ??= createRequire(import.meta.url)("geoip-lite") as GeoIp;
  const country = geoip.lookup(ip)?.country;
  return country && /^[A-Z]{2}$/.test(country) ? country : null;
}
