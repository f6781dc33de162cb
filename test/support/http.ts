// Small helpers for talking to the API over real HTTP.
import { expect } from "vitest";

export const validCheckout = (token = "tok_approve", overrides: Record<string, unknown> = {}) => ({
  customer: { id: "cus_1", email: "ada@example.com" },
  items: [{ sku: "tee", name: "T-shirt", quantity: 2, unitAmount: 1999 }],
  currency: "USD",
  payment: { provider: "sandbox", token },
  ...overrides,
});

/** The key each test stack's API is called with unless a call says otherwise (registered by stack.ts). */
const defaultKeys = new Map<string, string>();
export const useKeyFor = (base: string, key: string) => defaultKeys.set(base, key);

/** Calls the API; with the stack's secret key unless `headers` has its own authorization ("" for none). */
export async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const key = defaultKeys.get(base);
  const { authorization = key ? `Bearer ${key}` : "", ...rest } = headers;
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(authorization ? { authorization } : {}),
      ...rest,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

export async function startCheckout(base: string, body: unknown, idempotencyKey?: string): Promise<string> {
  const res = await call(base, "POST", "/checkouts", body, idempotencyKey ? { "idempotency-key": idempotencyKey } : {});
  expect(res.status, res.text).toBe(202);
  return res.json.id as string;
}

/** Polls GET /checkouts/{id} until `done` holds for the body (or the time runs out). */
export async function waitForCheckout(base: string, id: string, done: (body: any) => boolean = isTerminal, timeoutMs = 45_000) {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    const res = await call(base, "GET", `/checkouts/${id}`);
    last = res.json;
    if (res.status === 200 && done(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`checkout ${id} did not get there in ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`);
}

/** Polls `probe` until it answers something other than undefined (or the time runs out). */
export async function until<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const isTerminal = (body: any) => ["COMPLETED", "FAILED", "CANCELLED"].includes(body?.status);

export async function chargesFor(base: string, checkoutId: string) {
  const res = await call(base, "GET", `/sandbox/charges?checkoutId=${checkoutId}`);
  expect(res.status).toBe(200);
  return res.json.data as Array<{ status: string; idempotencyKey: string; amount: number; currency: string; requests: number }>;
}
