// Deny by default: every request needs a merchant's API key (Authorization: Bearer sk_… or
// pk_…), except the few routes anyone may call. Each route then names what the key must be
// allowed to do (`access(scope)`): a key without that scope gets 403, a publishable key gets 403
// wherever the route does not take one.
import type { RouteConfig } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { callerForKey } from "../merchants/api-keys.ts";
import type { Db } from "../prisma/client.ts";
import { callerOf, type Scope, setCaller } from "./caller.ts";
import { ApiError } from "./errors.ts";
import { STORE_PATHS } from "./routes/store.ts";
import { ErrorResponse, json } from "./schemas.ts";

/**
 * Routes that take no key: what a load balancer, a browser reading the docs, and a payment
 * provider's webhook need; and, while the sandbox is on, the sandbox provider's own API (which
 * our worker calls as it would any provider's) and its customer-facing 3-D Secure page, whose
 * charge id (random, never listed without a key) is the customer's only right to it; and, where
 * it is served at all (npm start), the storefront page, which a browser loads before it has a key.
 */
const PUBLIC: Array<[method: string, path: RegExp]> = [
  ["GET", /^\/(health|docs|openapi\.json)?$/],
  ["POST", /^\/webhooks\/[^/]+$/],
  ["POST", /^\/sandbox\/charges(\/[^/]+\/(authenticate|cancel|refunds))?$/],
  ["GET", /^\/sandbox\/(charges|refunds)\/by-key\/[^/]+$/],
  ["GET", /^\/sandbox\/charges\/[^/]+\/authenticate$/],
  ["GET", STORE_PATHS],
];

export const isPublic = (method: string, path: string) => PUBLIC.some(([m, p]) => m === method && p.test(path));

const unauthenticated = (message: string) =>
  new ApiError(401, "authentication_required", message, undefined, { "WWW-Authenticate": 'Bearer realm="checkout"' });

/** The key a request presents: `Authorization: Bearer <key>`, or Basic with the key as the user name (as curl -u sk_…: sends). */
function presentedKey(c: Context): string | undefined {
  const header = c.req.header("authorization");
  if (!header) return undefined;
  const [scheme, value = ""] = header.split(" ", 2);
  if (/^bearer$/i.test(scheme)) return value.trim() || undefined;
  if (/^basic$/i.test(scheme)) return Buffer.from(value, "base64").toString("utf8").split(":")[0] || undefined;
  return undefined;
}

export function authenticate(db: Db): MiddlewareHandler {
  return async (c, next) => {
    const key = presentedKey(c);
    if (!key) {
      if (isPublic(c.req.method, c.req.path)) return next();
      throw unauthenticated("This request needs an API key: send Authorization: Bearer <your key>.");
    }
    const caller = await callerForKey(db, key);
    if (!caller) throw unauthenticated("The API key is not valid (unknown or revoked).");
    setCaller(c, caller);
    return next();
  };
}

/** Whether the caller's scopes allow `scope` (a write scope allows reading the same resource). */
export function allows(scopes: readonly Scope[], scope: Scope): boolean {
  return scopes.includes(scope) || (scope.endsWith(":read") && scopes.includes(scope.replace(":read", ":write") as Scope));
}

/** What a route needs, for createRoute: the scope its key must have, and its OpenAPI security. */
export function access(scope: Scope, options: { publishable?: boolean } = {}) {
  const check: MiddlewareHandler = async (c, next) => {
    const caller = callerOf(c);
    if (!caller) throw unauthenticated("This request needs an API key: send Authorization: Bearer <your key>.");
    if (caller.type === "publishable" && !options.publishable) {
      throw new ApiError(403, "secret_key_required", "A publishable key cannot do this: use a secret key from your server.");
    }
    if (caller.type === "secret" && !allows(caller.scopes, scope)) {
      throw new ApiError(403, "insufficient_scope", `This key lacks the "${scope}" scope.`);
    }
    return next();
  };
  return {
    middleware: check,
    security: [{ apiKey: [] as string[] }],
    description: `Needs a secret key with the \`${scope}\` scope${options.publishable ? ", or a publishable key" : ""}.`,
  };
}

/**
 * What the authentication middleware and `access` answer on a route, for its OpenAPI document
 * (api/router.ts adds them to every route): 401 on any route for a key that is not valid, and on
 * a route that needs a key (`security`) for none at all; 403 there for a key that may not call it.
 */
export function accessResponses(secured: boolean): RouteConfig["responses"] {
  const unauthorized = {
    ...json(
      ErrorResponse,
      secured
        ? "No API key, or one that is unknown or revoked (`authentication_required`)"
        : "An API key was sent but is unknown or revoked (`authentication_required`); this route needs none",
    ),
    headers: { "WWW-Authenticate": { description: 'Bearer realm="checkout"', schema: { type: "string" as const } } },
  };
  if (!secured) return { 401: unauthorized };
  return {
    401: unauthorized,
    403: json(
      ErrorResponse,
      "The key lacks the route's scope (`insufficient_scope`), or is a publishable key where the route takes none (`secret_key_required`)",
    ),
  };
}

/** The caller of a route that went through `access`: always present there. */
export function callerFor(c: Context) {
  const caller = callerOf(c);
  if (!caller) throw unauthenticated("This request needs an API key.");
  return caller;
}
