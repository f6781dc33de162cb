// Invalid checkout requests over real HTTP: each is refused with a 4xx that names the exact
// field, none ever answers 500, and none starts a workflow (proved at the end against a valid one).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

type Body = ReturnType<typeof validCheckout>;

interface ErrorJson {
  error: { code: string; message: string; fields?: { field: string; reason: string }[] };
}

/** Every answer this file got, so the last test can check none was a 500. */
const seen: { label: string; status: number }[] = [];

async function post(label: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await call(stack.url, "POST", "/checkouts", body, headers);
  seen.push({ label, status: res.status });
  return res;
}

/** The shared error shape; returns the distinct field paths it names. */
function expectError(res: { status: number; json: unknown; text: string }, status: number, code: string): string[] {
  expect(res.status, res.text).toBe(status);
  const { error } = res.json as ErrorJson;
  expect(error, res.text).toEqual({
    code,
    message: expect.any(String),
    fields: expect.any(Array),
  });
  expect(error.message.length).toBeGreaterThan(0);
  expect(error.fields!.length).toBeGreaterThan(0);
  for (const f of error.fields!) {
    expect(f).toEqual({ field: expect.any(String), reason: expect.any(String) });
    expect(f.reason.length, JSON.stringify(f)).toBeGreaterThan(0);
  }
  return [...new Set(error.fields!.map((f) => f.field))];
}

/** A change to the valid body: sets (or, with no value, deletes) what is at a dotted path. */
const set =
  (path: string, ...value: [unknown] | []) =>
  (body: Body) => {
    const keys = path.split(".");
    const last = keys.pop()!;
    let target = body as unknown as Record<string, unknown>;
    for (const key of keys) target = target[key] as Record<string, unknown>;
    if (value.length === 0) delete target[last];
    else target[last] = value[0];
  };
const unset = (path: string) => set(path);

interface BodyCase {
  name: string;
  /** Changes the valid body in place, or returns a whole other body to send. */
  mutate: (body: Body) => unknown;
  field: string;
  /** The order total is then also out of range, and named on "items" as well. */
  alsoTotal?: boolean;
}

const bodyCases: BodyCase[] = [
  { name: "customer.id empty", mutate: set("customer.id", ""), field: "customer.id" },
  { name: "customer.id with spaces", mutate: set("customer.id", "cus 1"), field: "customer.id" },
  { name: "customer.id missing", mutate: unset("customer.id"), field: "customer.id" },
  { name: "customer.email not an email", mutate: set("customer.email", "ada-at-example.com"), field: "customer.email" },
  { name: "customer.email missing", mutate: unset("customer.email"), field: "customer.email" },
  { name: "items empty", mutate: set("items", []), field: "items" },
  { name: "items not an array", mutate: set("items", "tee"), field: "items" },
  { name: "items.0.sku empty", mutate: set("items.0.sku", ""), field: "items.0.sku" },
  {
    name: "items.1.sku missing (second item)",
    mutate: set("items.1", { name: "Mug", quantity: 1, unitAmount: 500 }),
    field: "items.1.sku",
  },
  { name: "items.0.name empty", mutate: set("items.0.name", ""), field: "items.0.name" },
  { name: "items.0.name too long", mutate: set("items.0.name", "x".repeat(201)), field: "items.0.name" },
  { name: "items.0.quantity 0", mutate: set("items.0.quantity", 0), field: "items.0.quantity", alsoTotal: true },
  { name: "items.0.quantity non-integer", mutate: set("items.0.quantity", 1.5), field: "items.0.quantity" },
  { name: "items.0.quantity a string", mutate: set("items.0.quantity", "2"), field: "items.0.quantity" },
  { name: "items.0.unitAmount a float", mutate: set("items.0.unitAmount", 19.99), field: "items.0.unitAmount" },
  { name: "items.0.unitAmount negative", mutate: set("items.0.unitAmount", -1), field: "items.0.unitAmount", alsoTotal: true },
  {
    // Beyond what a JSON number carries exactly (2^53): refused as a number, not rounded.
    name: "items.0.unitAmount not a safe integer",
    mutate: set("items.0.unitAmount", 2 ** 53),
    field: "items.0.unitAmount",
  },
  { name: "total zero", mutate: set("items.0.unitAmount", 0), field: "items" },
  { name: "currency lowercase", mutate: set("currency", "usd"), field: "currency" },
  { name: "currency unknown code ABC", mutate: set("currency", "ABC"), field: "currency" },
  { name: "currency missing", mutate: unset("currency"), field: "currency" },
  { name: "payment.provider unknown", mutate: set("payment.provider", "bitcoin"), field: "payment.provider" },
  { name: "payment.token with spaces", mutate: set("payment.token", "tok approve"), field: "payment.token" },
  {
    name: "payment.token a spaced card number",
    mutate: set("payment.token", "4242 4242 4242 4242"),
    field: "payment.token",
  },
  {
    name: "payment.token a bare card number",
    mutate: set("payment.token", "4242424242424242"),
    field: "payment.token",
  },
  {
    name: "payment.token a card number with dashes",
    mutate: set("payment.token", "4242-4242-4242-4242"),
    field: "payment.token",
  },
  { name: "payment.token empty", mutate: set("payment.token", ""), field: "payment.token" },
  { name: "payment.method invalid", mutate: set("payment.method", "cash"), field: "payment.method" },
  {
    name: "unknown field card at top level",
    mutate: set("card", { number: "4242424242424242", cvc: "123" }),
    field: "card",
  },
  {
    name: "unknown field card inside payment",
    mutate: set("payment.card", "4242424242424242"),
    field: "payment.card",
  },
  { name: "unknown field inside an item", mutate: set("items.0.color", "red"), field: "items.0.color" },
  { name: "body is JSON null", mutate: () => null, field: "(body)" },
  { name: "body is a JSON array", mutate: (b) => [b], field: "(body)" },
];

describe("POST /checkouts refuses an invalid body", () => {
  it.each(bodyCases)("$name → 400 naming $field", async ({ name, mutate, field, alsoTotal }) => {
    const body = validCheckout();
    const replaced = mutate(body);
    const res = await post(name, replaced === undefined ? body : replaced);

    expect(expectError(res, 400, "validation_failed")).toEqual(alsoTotal ? [field, "items"] : [field]);
    if (alsoTotal) {
      const total = (res.json as ErrorJson).error.fields!.filter((f) => f.field === "items");
      expect(total).toEqual([{ field: "items", reason: expect.stringMatching(/order total/) }]);
    }
    // Card details are never echoed back.
    expect(res.text).not.toContain("4242");
  });

  it("a body that is not JSON → 400 malformed_request naming the body", async () => {
    const res = await post("not JSON", '{"customer": {"id": "cus_1",');
    expect(expectError(res, 400, "malformed_request")).toEqual(["(body)"]);
  });

  it("a missing body → 400 naming every required field", async () => {
    const res = await post("missing body", undefined);
    expect(expectError(res, 400, "validation_failed").sort()).toEqual(["currency", "customer", "items", "payment"]);
  });

  it("a valid but unconfigured provider (stripe) → 422 provider_not_configured", async () => {
    const body = validCheckout();
    body.payment.provider = "stripe";
    const res = await post("stripe", body);
    expect(expectError(res, 422, "provider_not_configured")).toEqual(["payment.provider"]);
    // The reason names exactly what to set.
    expect((res.json as ErrorJson).error.fields![0].reason).toBe("not configured: set STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET");
  });
});

describe("POST /checkouts refuses an invalid Idempotency-Key", () => {
  it.each([
    { name: "longer than 255 characters", key: "k".repeat(256) },
    { name: "empty", key: "" },
    { name: "with a space", key: "order 1" },
    { name: "with a non-ASCII character", key: "commande-\u00e9" },
  ])("$name → 400 naming header.idempotency-key", async ({ name, key }) => {
    const res = await post(`idempotency-key ${name}`, validCheckout(), { "idempotency-key": key });
    expect(expectError(res, 400, "validation_failed")).toEqual(["header.idempotency-key"]);
  });
});

describe("after all the invalid requests", () => {
  it("none answered 500; none started a workflow, while a valid one on the same queue is counted", async () => {
    expect(seen.length).toBe(bodyCases.length + 3 + 4);
    expect(seen.filter((s) => s.status >= 500)).toEqual([]);

    // A key of exactly 255 characters is the longest accepted.
    const id = await startCheckout(stack.url, validCheckout(), "k".repeat(255));
    const workflowId = `checkout-${id}`;
    // Every checkout on the queue (the event relay and the archiving schedule run whatever the requests do).
    const query = `TaskQueue = "${stack.taskQueue}" AND WorkflowType = "checkout"`;

    // Visibility is eventually consistent: wait until the valid one shows, then the count must be exactly it.
    const deadline = Date.now() + 20_000;
    let ids: string[] = [];
    while (Date.now() < deadline) {
      ids = [];
      for await (const wf of stack.temporal.workflow.list({ query })) ids.push(wf.workflowId);
      if (ids.includes(workflowId)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(ids).toEqual([workflowId]);
    expect((await stack.temporal.workflow.count(query)).count).toBe(1);
    expect(seen.filter((s) => s.status < 400 || s.status >= 500)).toEqual([]);

    const done = await waitForCheckout(stack.url, id);
    expect(done.status).toBe("COMPLETED");
  });
});
