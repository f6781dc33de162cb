// Who is calling: the merchant and the API key the request was authenticated with. Set by the
// authentication middleware (api/auth.ts) before any route runs; absent on the routes that need
// no key (/health, the docs, /openapi.json, POST /webhooks/{provider}).
import type { Context } from "hono";

/** What a key may do: a resource, read or write (write includes read), as Stripe's restricted keys. */
export const SCOPES = [
  "checkouts:read",
  "checkouts:write",
  "refunds:read",
  "refunds:write",
  /** Fulfilment: ship an order and mark it delivered (a warehouse's key need hold nothing else). */
  "orders:write",
  "reports:read",
  "webhooks:read",
  "webhooks:write",
  "sandbox:write",
  /** The ledger: accounts, balances, their statements, transfers. */
  "ledger:read",
  "ledger:write",
  /** Adding and disabling currencies, which every merchant shares: an operator's scope. */
  "currencies:write",
] as const;
export type Scope = (typeof SCOPES)[number];

/** Scopes over what every merchant shares: a key gets them only when they are named (`keys create --scope`). */
export const OPERATOR_SCOPES: readonly Scope[] = ["currencies:write"];

export interface Caller {
  merchantId: string;
  /** The API key's id (never its secret): recorded as who acted. */
  keyId: string;
  /** `secret` keys are for servers; `publishable` keys for browsers (start a checkout, read it with its client secret). */
  type: "secret" | "publishable";
  scopes: readonly Scope[];
}

const CALLER = "caller";

export function setCaller(c: Context, caller: Caller): void {
  c.set(CALLER as never, caller as never);
}

/** The authenticated caller, or undefined on a route that needs no key. */
export function callerOf(c: Context): Caller | undefined {
  return c.get(CALLER as never) as Caller | undefined;
}
