// What a browser is told. Security headers on every answer (hono/secure-headers: nosniff, no
// framing by other sites, no referrer, HSTS, …). CORS only for the configured origins
// (CORS_ORIGINS); with none, browsers on other origins cannot read the API's answers. Any origin
// ("*") only in `npm start`'s development mode, unless CORS_ORIGINS says otherwise.
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { secureHeaders } from "hono/secure-headers";

export const securityHeaders = (): MiddlewareHandler => secureHeaders();

/** undefined when no origin may call: then no CORS header is sent at all. */
export function corsFor(origins: string[] | "*"): MiddlewareHandler | undefined {
  if (origins !== "*" && origins.length === 0) return undefined;
  return cors({
    origin: origins,
    allowMethods: ["GET", "POST", "PUT", "DELETE"],
    allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "Prefer"],
    exposeHeaders: ["Location", "Retry-After", "Preference-Applied", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"],
    maxAge: 600,
  });
}
