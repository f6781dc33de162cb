// The lists, Stripe's way, on the real stack: GET /orders, /payments, /checkouts and
// /customers/{id}/orders page through every object once, newest first, with has_more right; they
// hold only the caller's merchant's objects, and with a publishable key and a client secret only
// that customer's; the filters keep what they say; metadata set at creation comes back everywhere
// and is searched by exact match; bad parameters are refused naming the parameter.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCOPES } from "../api/caller.ts";
import { createApiKey } from "../merchants/api-keys.ts";
import { createMerchant } from "../merchants/merchants.ts";
import { call, until, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let stack: TestStack;
let other: { secret: string; publishable: string; orderId: string };
const as = (key: string) => ({ authorization: `Bearer ${key}` });

/** The 25 checkouts of this file: two customers, some declined, metadata on each. */
interface Made {
  checkoutId: string;
  orderId: string;
  clientSecret: string;
  customer: string;
  declined: boolean;
  index: number;
}
const made: Made[] = [];
const CUSTOMER_A = "cus_list_a";
const CUSTOMER_B = "cus_list_b";
const COUNT = 25;

async function checkout(index: number): Promise<Made> {
  const customer = index % 5 < 3 ? CUSTOMER_A : CUSTOMER_B; // 15 and 10
  const declined = index % 4 === 0; // 7 of them
  const res = await call(
    stack.url,
    "POST",
    "/checkouts",
    validCheckout(declined ? "tok_decline" : "tok_approve", {
      customer: { id: customer, email: "ada@example.com" },
      metadata: { batch: "lists", n: String(index), parity: index % 2 ? "odd" : "even" },
    }),
  );
  expect(res.status, res.text).toBe(202);
  const done = await waitForCheckout(stack.url, res.json.id);
  expect(done.status).toBe(declined ? "FAILED" : "COMPLETED");
  return { checkoutId: res.json.id, orderId: done.order.id, clientSecret: res.json.clientSecret, customer, declined, index };
}

/** Every page of a list, following starting_after from the last object of each. */
async function allPages(path: string, headers: Record<string, string> = {}, limit = 10) {
  const pages: Array<{ ids: string[]; hasMore: boolean; body: any }> = [];
  let after: string | undefined;
  for (;;) {
    const sep = path.includes("?") ? "&" : "?";
    const res = await call(
      stack.url,
      "GET",
      `${path}${sep}limit=${limit}${after ? `&starting_after=${after}` : ""}`,
      undefined,
      headers,
    );
    expect(res.status, res.text).toBe(200);
    expect(res.json.object).toBe("list");
    const ids = res.json.data.map((o: { id: string }) => o.id);
    pages.push({ ids, hasMore: res.json.has_more, body: res.json });
    if (!res.json.has_more) return pages;
    after = ids.at(-1);
    if (pages.length > 100) throw new Error(`${path}: no end of pages`);
  }
}

const get = (path: string, headers: Record<string, string> = {}) => call(stack.url, "GET", path, undefined, headers);

beforeAll(async () => {
  stack = await startTestStack();
  // Five at a time: concurrent starts also make rows created in the same millisecond (ties).
  for (let start = 0; start < COUNT; start += 5) {
    made.push(...(await Promise.all([0, 1, 2, 3, 4].map((i) => checkout(start + i)))));
  }
  const merchant = await createMerchant(stack.db, "another shop");
  const secret = (await createApiKey(stack.db, { merchantId: merchant.id, type: "secret", scopes: SCOPES })).key;
  const publishable = (await createApiKey(stack.db, { merchantId: merchant.id, type: "publishable", scopes: [] })).key;
  // The other merchant's own order, of a customer with the same id as one of ours.
  const theirs = await call(
    stack.url,
    "POST",
    "/checkouts",
    validCheckout("tok_approve", { customer: { id: CUSTOMER_A, email: "bo@example.com" } }),
    as(secret),
  );
  expect(theirs.status).toBe(202);
  const orderId = await until(async () => {
    const res = await call(stack.url, "GET", `/checkouts/${theirs.json.id}`, undefined, as(secret));
    return res.json?.status === "COMPLETED" ? (res.json.order.id as string) : undefined;
  });
  other = { secret, publishable, orderId };
}, 240_000);

afterAll(() => stack?.stop());

/** The database's order of this merchant's orders: (createdAt desc, id desc). */
async function expectedOrderIds(): Promise<string[]> {
  const rows = await stack.db.order.findMany({
    where: { merchantId: stack.merchantId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { id: true },
  });
  return rows.map((r) => r.id);
}

describe("pagination", () => {
  it("25 orders in pages of 10: each exactly once, newest first, has_more true, true, false", async () => {
    const pages = await allPages("/orders");
    expect(pages.map((p) => p.ids.length)).toEqual([10, 10, 5]);
    expect(pages.map((p) => p.hasMore)).toEqual([true, true, false]);
    const ids = pages.flatMap((p) => p.ids);
    expect(new Set(ids).size).toBe(COUNT);
    expect([...ids].sort()).toEqual(made.map((m) => m.orderId).sort());
    expect(ids).toEqual(await expectedOrderIds());
    expect(pages[0].body.url).toBe("/orders");
    // The default page is 10.
    const first = await get("/orders");
    expect(first.json.data.map((o: { id: string }) => o.id)).toEqual(pages[0].ids);
  });

  it("ending_before gives the page before, in the same order", async () => {
    const pages = await allPages("/orders");
    const previous = await get(`/orders?limit=10&ending_before=${pages[2].ids[0]}`);
    expect(previous.status).toBe(200);
    expect(previous.json.data.map((o: { id: string }) => o.id)).toEqual(pages[1].ids);
    expect(previous.json.has_more).toBe(true);
    const newest = await get(`/orders?limit=10&ending_before=${pages[1].ids[0]}`);
    expect(newest.json.data.map((o: { id: string }) => o.id)).toEqual(pages[0].ids);
    expect(newest.json.has_more).toBe(false);
  });

  it("payments and checkouts page the same way, every one once", async () => {
    const payments = await allPages("/payments", {}, 7);
    expect(payments.map((p) => p.hasMore)).toEqual([true, true, true, false]);
    const paymentRows = payments.flatMap((p) => p.body.data);
    expect(new Set(paymentRows.map((p: { checkoutId: string }) => p.checkoutId))).toEqual(new Set(made.map((m) => m.checkoutId)));
    expect(paymentRows).toHaveLength(COUNT);

    const checkouts = await allPages("/checkouts");
    expect(checkouts.map((p) => p.hasMore)).toEqual([true, true, false]);
    const checkoutIds = checkouts.flatMap((p) => p.ids);
    expect([...checkoutIds].sort()).toEqual(made.map((m) => m.checkoutId).sort());
    // Each in the view GET /checkouts/{id} gives: the whole checkout, with its order and metadata.
    const one = checkouts[0].body.data[0];
    const alone = (await get(`/checkouts/${one.id}`)).json;
    expect(one).toEqual(alone);
    const newestRows = await stack.db.checkout.findMany({
      where: { merchantId: stack.merchantId },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: 10,
    });
    expect(checkouts[0].ids).toEqual(newestRows.map((r) => r.id));
  });
});

describe("scoping", () => {
  it("another merchant's lists hold none of ours, and our ids are no cursor there", async () => {
    for (const path of ["/orders", "/payments", "/checkouts", `/orders?customer=${CUSTOMER_A}`]) {
      const res = await get(path, as(other.secret));
      expect(res.status, path).toBe(200);
      const text = JSON.stringify(res.json);
      for (const m of made) expect(text, path).not.toContain(m.checkoutId);
      expect(res.json.data.length, path).toBeLessThanOrEqual(1);
    }
    const theirs = await get("/orders", as(other.secret));
    expect(theirs.json.data.map((o: { id: string }) => o.id)).toEqual([other.orderId]);
    // Ours do not see theirs either, though their customer has our customer's id.
    const ours = await allPages(`/customers/${CUSTOMER_A}/orders`);
    expect(ours.flatMap((p) => p.ids)).not.toContain(other.orderId);
    const cursor = await get(`/orders?starting_after=${made[0].orderId}`, as(other.secret));
    expect(cursor.status).toBe(404);
    expect(cursor.json.error.fields).toEqual([{ field: "query.starting_after", reason: expect.any(String) }]);
  });

  it("a customer's browser (publishable key and a client secret) lists only that customer's", async () => {
    const b = made.find((m) => m.customer === CUSTOMER_B)!;
    const pk = as(stack.publishableKey);
    const mine = made.filter((m) => m.customer === CUSTOMER_B);
    const query = `customer=${CUSTOMER_B}&client_secret=${b.clientSecret}`;
    const orders = await allPages(`/orders?${query}`, pk);
    expect(orders.flatMap((p) => p.ids).sort()).toEqual(mine.map((m) => m.orderId).sort());
    expect(orders.flatMap((p) => p.body.data).every((o: { customerId: string }) => o.customerId === CUSTOMER_B)).toBe(true);
    const byPath = await allPages(`/customers/${CUSTOMER_B}/orders?client_secret=${b.clientSecret}`, pk);
    expect(byPath.flatMap((p) => p.ids)).toEqual(orders.flatMap((p) => p.ids));
    const payments = await allPages(`/payments?${query}`, pk);
    expect(
      payments
        .flatMap((p) => p.body.data)
        .map((p: { checkoutId: string }) => p.checkoutId)
        .sort(),
    ).toEqual(mine.map((m) => m.checkoutId).sort());
    // Checkouts in the browser's view: status and action only, as GET /checkouts/{id}?client_secret= answers.
    const checkouts = await allPages(`/checkouts?${query}`, pk);
    const views = checkouts.flatMap((p) => p.body.data);
    expect(views.map((v: { id: string }) => v.id).sort()).toEqual(mine.map((m) => m.checkoutId).sort());
    for (const view of views) expect(Object.keys(view).sort()).toEqual(["failureReason", "id", "orderId", "payment", "status"]);

    // Another customer with this secret, a wrong secret, another merchant's key: nothing.
    const a = made.find((m) => m.customer === CUSTOMER_A)!;
    expect((await get(`/orders?customer=${CUSTOMER_A}&client_secret=${b.clientSecret}`, pk)).status).toBe(404);
    expect((await get(`/customers/${CUSTOMER_A}/orders?client_secret=${b.clientSecret}`, pk)).status).toBe(404);
    expect((await get(`/orders?customer=${CUSTOMER_B}&client_secret=${b.clientSecret}x`, pk)).status).toBe(404);
    expect((await get(`/orders?customer=${CUSTOMER_A}&client_secret=${a.clientSecret}`, as(other.publishable))).status).toBe(404);
    // Without a client secret a publishable key lists nothing; without naming the customer neither.
    const bare = await get("/orders", pk);
    expect(bare.status).toBe(403);
    expect(bare.json.error.code).toBe("client_secret_required");
    const unnamed = await get(`/orders?client_secret=${b.clientSecret}`, pk);
    expect(unnamed.status).toBe(400);
    expect(unnamed.json.error.fields).toEqual([{ field: "query.customer", reason: "is required with a publishable key" }]);
    // A cursor of another customer's is no cursor for this one.
    expect((await get(`/orders?${query}&starting_after=${a.orderId}`, pk)).status).toBe(404);
  });

  it("a customer the merchant never saw: 404", async () => {
    const res = await get("/customers/cus_nobody/orders");
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("not_found");
  });
});

describe("filters", () => {
  const ids = (res: { json: any }) => res.json.data.map((o: { id: string }) => o.id).sort();
  const orderIdsOf = (keep: (m: Made) => boolean) =>
    made
      .filter(keep)
      .map((m) => m.orderId)
      .sort();

  it("status and customer", async () => {
    expect(ids(await get("/orders?limit=100&status=PAYMENT_FAILED"))).toEqual(orderIdsOf((m) => m.declined));
    expect(ids(await get("/orders?limit=100&status=PAID"))).toEqual(orderIdsOf((m) => !m.declined));
    expect(ids(await get(`/orders?limit=100&customer=${CUSTOMER_A}`))).toEqual(orderIdsOf((m) => m.customer === CUSTOMER_A));
    expect(ids(await get(`/customers/${CUSTOMER_A}/orders?limit=100&status=PAYMENT_FAILED`))).toEqual(
      orderIdsOf((m) => m.customer === CUSTOMER_A && m.declined),
    );
    const failed = await get("/payments?limit=100&status=FAILED");
    expect(failed.json.data.map((p: { checkoutId: string }) => p.checkoutId).sort()).toEqual(
      made
        .filter((m) => m.declined)
        .map((m) => m.checkoutId)
        .sort(),
    );
    const theirCheckouts = await get(`/checkouts?limit=100&customer=${CUSTOMER_B}`);
    expect(theirCheckouts.json.data).toHaveLength(made.filter((m) => m.customer === CUSTOMER_B).length);
  });

  it("a created range, inclusive at both ends", async () => {
    const rows = await stack.db.order.findMany({
      where: { merchantId: stack.merchantId },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    });
    const [from, to] = [rows[5].createdAt, rows[15].createdAt];
    const inside = rows.filter((r) => r.createdAt >= from && r.createdAt <= to).map((r) => r.id);
    const res = await get(`/orders?limit=100&created[gte]=${from.toISOString()}&created[lte]=${to.toISOString()}`);
    expect(res.status, res.text).toBe(200);
    expect(ids(res)).toEqual(inside.sort());
    expect(inside.length).toBeGreaterThanOrEqual(11);
    expect(inside.length).toBeLessThan(COUNT);
    // The bracketed names, percent-encoded, are the same parameters.
    const encoded = await get(`/orders?limit=100&created%5Bgte%5D=${encodeURIComponent(from.toISOString())}`);
    expect(ids(encoded)).toEqual(
      rows
        .filter((r) => r.createdAt >= from)
        .map((r) => r.id)
        .sort(),
    );
  });

  it("provider", async () => {
    expect((await get("/payments?limit=100&provider=sandbox")).json.data).toHaveLength(COUNT);
    expect((await get("/payments?provider=stripe")).json.data).toEqual([]);
    expect((await get("/checkouts?limit=100&provider=sandbox")).json.data).toHaveLength(COUNT);
    expect((await get("/checkouts?provider=paypal")).json.data).toEqual([]);
  });

  it("metadata: returned everywhere, searched by exact match", async () => {
    const m = made[3];
    const expected = { batch: "lists", n: "3", parity: "odd" };
    expect((await get(`/orders/${m.orderId}`)).json.metadata).toEqual(expected);
    const checkout = (await get(`/checkouts/${m.checkoutId}`)).json;
    expect(checkout.metadata).toEqual(expected);
    expect(checkout.order.metadata).toEqual(expected);
    expect(ids(await get("/orders?metadata[n]=3"))).toEqual([m.orderId]);
    expect((await get("/payments?metadata[n]=3")).json.data.map((p: any) => [p.checkoutId, p.metadata])).toEqual([
      [m.checkoutId, expected],
    ]);
    expect((await get("/checkouts?metadata[n]=3")).json.data.map((c: any) => [c.id, c.metadata])).toEqual([
      [m.checkoutId, expected],
    ]);
    // Exact: "3" is not "30" nor "3 "; several filters all hold.
    expect((await get("/orders?metadata[n]=3%20")).json.data).toEqual([]);
    expect(ids(await get("/orders?limit=100&metadata[parity]=odd&metadata[batch]=lists"))).toEqual(
      orderIdsOf((x) => x.index % 2 === 1),
    );
    expect((await get("/orders?metadata[parity]=odd&metadata[batch]=other")).json.data).toEqual([]);
    // The events carry it too.
    const event = await stack.db.event.findFirst({ where: { checkoutId: m.checkoutId, type: "checkout.completed" } });
    expect((event?.data as { metadata?: unknown } | undefined)?.metadata).toEqual(expected);
  });
});

describe("bad input: 4xx naming the parameter", () => {
  const fieldsOf = async (path: string, status = 400) => {
    const res = await get(path);
    expect(res.status, `${path}: ${res.text}`).toBe(status);
    return res.json.error.fields.map((f: { field: string }) => f.field);
  };

  it("limit, cursors, filters and unknown parameters", async () => {
    for (const limit of ["0", "101", "abc", "2.5", ""]) expect(await fieldsOf(`/orders?limit=${limit}`)).toEqual(["query.limit"]);
    expect(await fieldsOf("/orders?starting_after=ord_nope", 404)).toEqual(["query.starting_after"]);
    expect(await fieldsOf("/payments?ending_before=pay_nope", 404)).toEqual(["query.ending_before"]);
    expect(await fieldsOf("/checkouts?starting_after=chk_nope", 404)).toEqual(["query.starting_after"]);
    expect(await fieldsOf(`/orders?starting_after=${made[1].orderId}&ending_before=${made[2].orderId}`)).toEqual([
      "query.ending_before",
    ]);
    expect(await fieldsOf("/orders?status=SHIPPED_TO_MARS")).toEqual(["query.status"]);
    expect(await fieldsOf("/payments?provider=bank_of_me")).toEqual(["query.provider"]);
    expect(await fieldsOf("/orders?created[gte]=yesterday")).toEqual(["query.created[gte]"]);
    expect(await fieldsOf("/orders?customer=a%20b")).toEqual(["query.customer"]);
    expect(await fieldsOf("/orders?created_gte=2026-01-01T00:00:00Z")).toEqual(["query.created_gte"]);
    expect(await fieldsOf(`/orders?metadata[${"k".repeat(41)}]=x`)).toEqual([`query.metadata[${"k".repeat(41)}]`]);
    expect(await fieldsOf(`/orders?metadata[n]=${"v".repeat(501)}`)).toEqual(["query.metadata[n]"]);
    expect(await fieldsOf("/orders?metadata[n]=1&metadata[n]=2")).toEqual(["query.metadata[n]"]);
    const eleven = Array.from({ length: 11 }, (_, i) => `metadata[k${i}]=v`).join("&");
    expect(await fieldsOf(`/orders?${eleven}`)).toEqual(["query.metadata[k0]"]);
    // Checkouts take no status filter: their status lives in their workflows, not in these rows.
    expect(await fieldsOf("/checkouts?status=COMPLETED")).toEqual(["query.status"]);
  });

  it("metadata at creation: at most 50 keys of 40 characters, values of 500", async () => {
    const start = (metadata: unknown) => call(stack.url, "POST", "/checkouts", validCheckout("tok_approve", { metadata }));
    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]));
    const cases: Array<[unknown, string]> = [
      [tooMany, "metadata"],
      [{ ["k".repeat(41)]: "v" }, `metadata.${"k".repeat(41)}`],
      [{ "a[b]": "v" }, "metadata.a[b]"],
      [{ "": "v" }, "metadata"],
      [{ note: "v".repeat(501) }, "metadata.note"],
      [{ note: 5 }, "metadata.note"],
      [["a"], "metadata"],
    ];
    for (const [metadata, field] of cases) {
      const res = await start(metadata);
      expect(res.status, JSON.stringify(metadata).slice(0, 80)).toBe(400);
      expect(res.json.error.fields.map((f: { field: string }) => f.field)).toContain(field);
    }
    // 50 keys of 40 characters with values of 500 are taken.
    const most = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${i}`.padStart(40, "k"), "v".repeat(500)]));
    const res = await start(most);
    expect(res.status, res.text).toBe(202);
    expect((await waitForCheckout(stack.url, res.json.id)).metadata).toEqual(most);
  });
});

describe("order and visibility", () => {
  it("ties in createdAt keep one order (id, descending): each object once, whatever the page size", async () => {
    // Five orders made in the same millisecond.
    const tied = made.slice(10, 15).map((m) => m.orderId);
    const at = new Date((await stack.db.order.findUniqueOrThrow({ where: { id: tied[0] } })).createdAt);
    await stack.db.order.updateMany({ where: { id: { in: tied } }, data: { createdAt: at } });
    const expected = await expectedOrderIds();
    for (const limit of [1, 2, 3]) {
      const ids = (await allPages("/orders", {}, limit)).flatMap((p) => p.ids);
      expect(ids, `limit ${limit}`).toEqual(expected);
    }
    const inTie = expected.filter((id) => tied.includes(id));
    expect(inTie).toEqual([...tied].sort().reverse());
  });

  it("a checkout row never let through (held, or dead before its workflow) is not listed", async () => {
    const id = `chk_${"0".repeat(31)}1`;
    await stack.db.checkout.create({ data: { id, merchantId: stack.merchantId, clientSecret: `${id}_secret_x` } });
    const ids = (await allPages("/checkouts", {}, 100)).flatMap((p) => p.ids);
    expect(ids).not.toContain(id);
    expect(ids).toHaveLength(COUNT + 1); // this file's, and the one of 50 keys
  });
});
