// Rate limits. A request with an API key (callerOf(c).keyId, set by api/auth.ts, which runs
// before this) counts against that key; one without counts against its client address
// (api/origin.ts: X-Forwarded-For only from a trusted proxy; an IPv6 client by its /64, which one
// client usually holds whole). Windows of one minute. A key that api/auth.ts refuses (401) is
// answered before this, uncounted.
//
// The counters are rate-limiter-flexible's PostgreSQL store, in the "RateLimit" table (a
// migration makes it), so every API process counts the same requests. A caller over its limit is
// then refused from memory until its window ends, without a query per refused request. When the
// database does not answer within STORE_TIMEOUT_MS, this process counts in memory until it does:
// the limits hold roughly, and the API stays up.
//
// Past the limit: 429 `rate_limited` with Retry-After, and RateLimit-Limit/-Remaining/-Reset on
// every counted answer. /sandbox/… is not counted: it stands for a provider's own API, which the
// workers call as often as the payments need.
import type { Context, MiddlewareHandler } from "hono";
import type pg from "pg";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
  RLWrapperTimeouts,
} from "rate-limiter-flexible";
import { callerOf } from "../caller.ts";
import { errorBody } from "../errors.ts";
import { clientIp, type OriginOptions } from "../origin.ts";

const WINDOW_SECONDS = 60;
const STORE_TIMEOUT_MS = 500;
export const RATE_LIMIT_TABLE = "RateLimit";

export interface RateLimitSettings {
  /** Requests a minute per API key; 0: no limit. */
  perKeyPerMinute: number;
  /** Requests a minute per client address, for requests without a key; 0: no limit. */
  perIpPerMinute: number;
}

interface Limit {
  points: number;
  limiter: RateLimiterAbstract;
}

function limit(pool: pg.Pool, name: "key" | "ip", points: number): Limit | undefined {
  if (points <= 0) return undefined;
  const store = new RateLimiterPostgres({
    storeClient: pool,
    storeType: "pool",
    tableName: RATE_LIMIT_TABLE,
    tableCreated: true,
    keyPrefix: name,
    points,
    duration: WINDOW_SECONDS,
    inMemoryBlockOnConsumed: points + 1,
  });
  const limiter = new RLWrapperTimeouts({
    limiter: store,
    timeoutMs: STORE_TIMEOUT_MS,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration: WINDOW_SECONDS }),
  });
  return { points, limiter };
}

export function rateLimit(pool: pg.Pool, settings: RateLimitSettings, origin: OriginOptions): MiddlewareHandler {
  const perKey = limit(pool, "key", settings.perKeyPerMinute);
  const perIp = limit(pool, "ip", settings.perIpPerMinute);
  return async (c, next) => {
    if (c.req.path.startsWith("/sandbox/")) return next();
    const keyId = callerOf(c)?.keyId;
    const [counted, subject] = keyId ? [perKey, keyId] : [perIp, addressBucket(clientIp(c, origin))];
    if (!counted) return next();
    let answer: RateLimiterRes;
    try {
      answer = await counted.limiter.consume(subject);
    } catch (refused) {
      if (!(refused instanceof RateLimiterRes)) throw refused; // the insurance counts when the store fails
      const retryAfter = Math.max(1, Math.ceil(refused.msBeforeNext / 1000));
      headers(c, counted.points, refused);
      c.header("Retry-After", String(retryAfter));
      const who = keyId ? "with this API key" : "from this address";
      return c.json(
        errorBody("rate_limited", `Too many requests ${who}: at most ${counted.points} a minute. Retry in ${retryAfter} s.`),
        429,
      );
    }
    headers(c, counted.points, answer);
    await next();
  };
}

function headers(c: Context, points: number, answer: RateLimiterRes) {
  c.header("RateLimit-Limit", String(points));
  c.header("RateLimit-Remaining", String(Math.max(0, answer.remainingPoints)));
  c.header("RateLimit-Reset", String(Math.max(0, Math.ceil(answer.msBeforeNext / 1000))));
}

/** What one client is counted as: its IPv4 address, its IPv6 /64, or "unknown" (no socket). */
export function addressBucket(ip: string | null): string {
  if (!ip) return "unknown";
  if (!ip.includes(":")) return ip;
  return `${expandIpv6(ip).slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, in lower-case hex without leading zeros. */
function expandIpv6(ip: string): string[] {
  let address = ip.toLowerCase().split("%")[0];
  // An IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) as its two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    address = `${address.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((group) => Number.parseInt(group || "0", 16).toString(16));
}
