// Who a webhook may be sent to (the SSRF guard). A subscriber's URL is checked when it is
// registered and again before every delivery attempt: https only (http only where
// WEBHOOK_ALLOW_HTTP allows it), no user name or password, and a host whose every address is a
// public one. A host name is resolved here, once per check, and the delivery connects to the
// addresses that were checked (`lookup` below), never resolving it again: a DNS answer that
// changes between the check and the connection (rebinding) cannot move the request inside.
// Addresses are classified with ipaddr.js; an IPv4 address written in IPv6 (::ffff:127.0.0.1) is
// judged as the IPv4 address it is. WHATWG URL parsing has already turned the other spellings of
// an IPv4 address (2130706433, 0x7f000001, 0177.0.0.1, 127.1) into the dotted one.

import type { LookupAddress, LookupOneOptions } from "node:dns";
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

/** Resolves a host name to all its addresses (node's dns.lookup with `all: true` by default). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface TargetPolicy {
  /** Plain http (development: WEBHOOK_ALLOW_HTTP). */
  allowHttp: boolean;
  /** Loopback, private, link-local, CGNAT and unique-local addresses (development: WEBHOOK_ALLOW_PRIVATE_TARGETS). */
  allowPrivate: boolean;
  /** Injected in tests; node's resolver otherwise. */
  resolve?: Resolver;
}

/**
 * A target that may not be sent to, with the reason (for the 400 answer and the delivery log).
 * `permanent`: the URL itself is refused (scheme, an address written in it); otherwise it is what
 * the host resolves to now, which may change.
 */
export class TargetRefused extends Error {
  override name = "TargetRefused";
  constructor(
    readonly reason: string,
    readonly permanent: boolean,
  ) {
    super(reason);
  }
}

/** A checked target: its URL and the addresses the connection may go to (all of them checked). */
export interface CheckedTarget {
  url: URL;
  addresses: LookupAddress[];
  /** For http(s).request's `lookup` option: answers the checked addresses, never asks DNS again. */
  lookup: PinnedLookup;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type PinnedLookup = (hostname: string, options: LookupOneOptions | { all?: boolean }, callback: LookupCallback) => void;

const RESOLVE_TIMEOUT_MS = 5_000;

/** What the special-purpose ranges are called in a refusal (ipaddr.js's range names). */
const RANGE_NAMES: Record<string, string> = {
  loopback: "a loopback address",
  private: "a private (RFC 1918) address",
  linkLocal: "a link-local address",
  carrierGradeNat: "a carrier-grade NAT (100.64.0.0/10) address",
  uniqueLocal: "a unique-local (fc00::/7) address",
  multicast: "a multicast address",
  unspecified: "the unspecified address",
  broadcast: "the broadcast address",
  reserved: "a reserved or documentation address",
  benchmarking: "a benchmarking address",
  ipv4Compatible: "an IPv4-compatible IPv6 address",
  notGlobalUnicast: "not a global unicast IPv6 address",
};
/** What WEBHOOK_ALLOW_PRIVATE_TARGETS lets through: addresses of this machine and its networks. */
const PRIVATE_RANGES = new Set(["loopback", "private", "linkLocal", "carrierGradeNat", "uniqueLocal"]);

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR("2000::/3") as [ipaddr.IPv6, number];
const IPV4_COMPATIBLE_V6 = ipaddr.parseCIDR("::/96") as [ipaddr.IPv6, number];

/**
 * The special-purpose range an address is in (ipaddr.js's name, or ours), or null for a public
 * unicast address. An IPv4-mapped IPv6 address is judged as its IPv4 address.
 */
export function specialRange(ip: string): string | null {
  let address = ipaddr.parse(ip);
  if (address.kind() === "ipv6") {
    const v6 = address as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) {
      address = v6.toIPv4Address();
    } else {
      const range = v6.range();
      if (range !== "unicast") return range;
      if (v6.match(IPV4_COMPATIBLE_V6)) return "ipv4Compatible";
      if (!v6.match(GLOBAL_UNICAST_V6)) return "notGlobalUnicast";
      return null;
    }
  }
  const range = address.range();
  return range === "unicast" ? null : range;
}

/** Null when the policy lets the address be a target; otherwise why not. */
export function refusedAddress(ip: string, policy: Pick<TargetPolicy, "allowPrivate">): string | null {
  let range: string | null;
  try {
    range = specialRange(ip);
  } catch {
    return `${ip} is not an IP address`;
  }
  if (range === null || (policy.allowPrivate && PRIVATE_RANGES.has(range))) return null;
  return `${ip} is ${RANGE_NAMES[range] ?? `a special-purpose address (${range})`}, which webhooks may not be sent to`;
}

/** The URL's own rules (no network): a parsable http(s) URL the policy allows, without credentials. */
export function parseTarget(raw: string, policy: Pick<TargetPolicy, "allowHttp">): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefused("must be an absolute URL", true);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && policy.allowHttp)) {
    throw new TargetRefused(policy.allowHttp ? "must be an http or https URL" : "must be an https URL", true);
  }
  if (url.username || url.password) throw new TargetRefused("must not contain a user name or password", true);
  if (!url.hostname) throw new TargetRefused("must name a host", true);
  return url;
}

/** The host without the brackets of an IPv6 literal. */
export const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1");

/**
 * Checks a target and resolves its host once: refuses it (TargetRefused) unless every address is
 * one the policy allows. Connect with the answer's `lookup`, so that the connection goes only
 * to the checked addresses.
 */
export async function checkTarget(raw: string, policy: TargetPolicy): Promise<CheckedTarget> {
  const url = parseTarget(raw, policy);
  const host = bareHost(url);
  let addresses: LookupAddress[];
  if (isIP(host)) {
    const refused = refusedAddress(host, policy);
    if (refused) throw new TargetRefused(refused, true);
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    // The same words whether the name does not resolve or resolves inside: the answer must not
    // tell which internal names exist.
    const notPublic = new TargetRefused(
      policy.allowPrivate
        ? `${host} must resolve to addresses webhooks may be sent to`
        : `${host} must resolve to public addresses only`,
      false,
    );
    const name = host.toLowerCase().replace(/\.$/, "");
    if (!policy.allowPrivate && (name === "localhost" || name.endsWith(".localhost"))) throw notPublic; // RFC 6761
    try {
      addresses = await withTimeout((policy.resolve ?? systemResolver)(host), RESOLVE_TIMEOUT_MS);
    } catch {
      throw notPublic;
    }
    if (addresses.length === 0 || addresses.some((a) => refusedAddress(a.address, policy))) throw notPublic;
  }
  return { url, addresses, lookup: pinnedLookup(addresses) };
}

/** A `lookup` for node's sockets that answers only these addresses. */
export function pinnedLookup(addresses: LookupAddress[]): PinnedLookup {
  const checked = addresses.map((a) => ({ address: a.address, family: a.family }));
  return (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) callback(null, checked);
    else callback(null, checked[0].address, checked[0].family);
  };
}

const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
