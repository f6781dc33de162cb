// The ledger through the API and the transfer workflows on the real stack: accounts, balances and
// currencies; 200 concurrent transfers out of a balance with room for 100; the refusals (disabled
// account, same balance, unknown currency, another currency), each with nothing posted; one
// Idempotency-Key, one movement; a credit that fails after the debit, compensated; a retry.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, until } from "./support/http.ts";
import { recordHistory } from "./support/record-history.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

let keys = 0;
const key = () => `ledger-${Date.now()}-${keys++}`;

async function account(owner = "Ada Lovelace") {
  const res = await call(stack.url, "POST", "/accounts", { owner, email: "ada@example.com" });
  expect(res.status, res.text).toBe(201);
  return res.json.id as string;
}

async function balance(accountId: string, currency = "USD", overdraftLimit?: number) {
  const res = await call(stack.url, "POST", `/accounts/${accountId}/balances`, { currency, overdraftLimit });
  expect(res.status, res.text).toBe(201);
  return res.json.id as string;
}

const transfer = (body: Record<string, unknown>, idempotencyKey = key()) =>
  call(stack.url, "POST", "/transfers", { currency: "USD", ...body }, { "idempotency-key": idempotencyKey });

/** Waits until the transfer has ended (COMPLETED or FAILED) and answers it. */
const settled = (id: string, timeoutMs = 60_000) =>
  until(async () => {
    const res = await call(stack.url, "GET", `/transfers/${id}`);
    return res.json?.status === "PENDING" ? undefined : res.json;
  }, timeoutMs);

const amountOf = async (id: string) => (await call(stack.url, "GET", `/balances/${id}`)).json.amount as number;
const postingsOf = (balanceId: string) => stack.db.ledgerPosting.findMany({ where: { balanceId }, include: { entry: true } });

/** A balance holding `amount`, moved in from a funding balance that may go that far below zero. */
async function funded(amount: number, currency = "USD") {
  const source = await balance(await account("funding"), currency, amount);
  const target = await balance(await account());
  const res = await transfer({ from: source, to: target, amount, currency });
  expect(res.status, res.text).toBe(202);
  expect((await settled(res.json.id)).status).toBe("COMPLETED");
  return target;
}

describe("accounts, balances, currencies", () => {
  it("opens an account and one balance per currency; lists and shows them; nothing without a key", async () => {
    const id = await account();
    const usd = await balance(id, "USD");
    await balance(id, "JPY");
    const again = await call(stack.url, "POST", `/accounts/${id}/balances`, { currency: "USD" });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("balance_exists");
    const shown = await call(stack.url, "GET", `/accounts/${id}`);
    expect(shown.json).toMatchObject({ id, owner: "Ada Lovelace", email: "ada@example.com", status: "ACTIVE" });
    expect(shown.json.balances.map((b: { currency: string }) => b.currency)).toEqual(["USD", "JPY"]);
    expect((await call(stack.url, "GET", `/balances/${usd}`)).json).toMatchObject({
      amount: 0,
      currency: "USD",
      status: "ACTIVE",
    });
    const list = await call(stack.url, "GET", "/accounts?limit=100");
    expect(list.json.data.map((a: { id: string }) => a.id)).toContain(id);
    const other = await call(stack.url, "GET", `/accounts/${id}`, undefined, { authorization: "" });
    expect(other.status).toBe(401);
  });

  it("ISO 4217 currencies are there from the start; a custom one is added once; an unknown or inactive one is refused", async () => {
    const all = (await call(stack.url, "GET", "/currencies")).json.data;
    expect(all).toContainEqual({ code: "JPY", name: "Japanese Yen", exponent: 0, active: true, custom: false });
    expect(all.length).toBeGreaterThan(140);
    const code = `T${String(Date.now()).slice(-6)}`;
    const created = await call(stack.url, "POST", "/currencies", { code, name: "Test coin", exponent: 8 });
    expect(created.status, created.text).toBe(201);
    expect((await call(stack.url, "POST", "/currencies", { code, name: "Again", exponent: 2 })).status).toBe(409);
    const id = await account();
    await balance(id, code);
    const unknown = await call(stack.url, "POST", `/accounts/${id}/balances`, { currency: "ZZZ" });
    expect(unknown.status).toBe(422);
    expect(unknown.json.error.code).toBe("unknown_currency");
    expect((await call(stack.url, "POST", `/currencies/${code}/disable`)).json.active).toBe(false);
    const inactive = await call(stack.url, "POST", `/accounts/${await account()}/balances`, { currency: code });
    expect(inactive.json.error.code).toBe("currency_inactive");
  });
});

describe("transfers", () => {
  it("moves money: debit, then credit, each an activity of its workflow; the statement shows it; transfer.completed is written", async () => {
    const from = await funded(1000);
    const to = await balance(await account());
    const res = await transfer({ from, to, amount: 250, metadata: { ref: "A-1" } });
    expect(res.status, res.text).toBe(202);
    const done = await settled(res.json.id);
    expect(done).toMatchObject({ status: "COMPLETED", amount: 250, from, to, metadata: { ref: "A-1" }, attempt: 1 });
    expect([await amountOf(from), await amountOf(to)]).toEqual([750, 250]);
    const statement = await call(stack.url, "GET", `/balances/${from}/postings`);
    expect(statement.json.data[0]).toMatchObject({ amount: -250, kind: "transfer.debit", transferId: res.json.id });
    const history = await stack.temporal.workflow.getHandle(`transfer-${res.json.id}`).fetchHistory();
    const activities = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter(Boolean);
    expect(activities).toEqual(["debitTransfer", "creditTransfer"]);
    await recordHistory(stack.temporal, `transfer-${res.json.id}`, "transfer-completed.json");
    const events = await stack.db.event.findMany({ where: { checkoutId: res.json.id } });
    expect(events.map((e) => e.type)).toEqual(["transfer.completed"]);
    expect(events[0].merchantId).toBe(stack.merchantId);
    // Its history outlives Temporal's retention: the archiving schedule copies the closed run.
    const archived = await until(
      async () => (await stack.db.historyArchive.findFirst({ where: { workflowId: `transfer-${res.json.id}` } })) ?? undefined,
    );
    expect(archived).toMatchObject({ workflowType: "transfer", status: "COMPLETED" });
    expect(archived.history).toContain(`"activityType":{"name":"creditTransfer"}`);
  });

  it("transfer.completed reaches a subscriber through the outbox's relay, as checkout events do", async () => {
    const received: Array<{ type: string; data: { transfer: { id: string; status: string } } }> = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        received.push(JSON.parse(body));
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
      const endpoint = await call(stack.url, "POST", "/webhook-endpoints", { url, eventTypes: ["transfer.completed"] });
      expect(endpoint.status, endpoint.text).toBe(201);
      const from = await funded(50);
      const to = await balance(await account());
      const res = await transfer({ from, to, amount: 5 });
      await settled(res.json.id);
      const delivered = await until(() => received.find((e) => e.data.transfer.id === res.json.id), 30_000);
      expect(delivered).toMatchObject({
        type: "transfer.completed",
        data: { transfer: { status: "COMPLETED", amount: 5, from, to } },
      });
      await call(stack.url, "DELETE", `/webhook-endpoints/${endpoint.json.id}`);
    } finally {
      server.close();
    }
  });

  it("200 concurrent transfers out of a balance with room for 100: exactly 100 succeed, it ends at zero, never below", async () => {
    const from = await funded(100);
    const to = await balance(await account());
    const answers = await Promise.all(Array.from({ length: 200 }, () => transfer({ from, to, amount: 1 })));
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(202));
    const ends = await Promise.all(answers.map((a) => settled(a.json.id, 180_000)));
    const count = (status: string) => ends.filter((t) => t.status === status).length;
    expect([count("COMPLETED"), count("FAILED")]).toEqual([100, 100]);
    expect(ends.filter((t) => t.status === "FAILED").every((t) => t.failureCode === "insufficient_funds" && !t.reversed)).toBe(
      true,
    );
    expect([await amountOf(from), await amountOf(to)]).toEqual([0, 100]);
    // Never below: replaying the source's postings in order, the running sum stays at or above zero.
    const postings = (await postingsOf(from)).sort(
      (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id),
    );
    let running = 0n;
    for (const p of postings) {
      running += p.amount;
      expect(running >= 0n).toBe(true);
    }
    expect(postings.filter((p) => p.amount < 0n)).toHaveLength(100);
  }, 300_000);

  it("the same Idempotency-Key twice: one transfer, one movement; with another body: 422", async () => {
    const from = await funded(100);
    const to = await balance(await account());
    const idempotencyKey = key();
    const [a, b] = await Promise.all([
      transfer({ from, to, amount: 10 }, idempotencyKey),
      transfer({ from, to, amount: 10 }, idempotencyKey),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.json.id).toBe(b.json.id);
    await settled(a.json.id);
    const again = await transfer({ from, to, amount: 10 }, idempotencyKey);
    expect(again.json).toMatchObject({ id: a.json.id, status: "COMPLETED" });
    const other = await transfer({ from, to, amount: 11 }, idempotencyKey);
    expect(other.status).toBe(422);
    expect(other.json.error.code).toBe("idempotency_key_reused");
    expect(await amountOf(to)).toBe(10);
    expect((await postingsOf(from)).filter((p) => p.amount < 0n)).toHaveLength(1);
  });

  it("refuses with a clear 4xx, nothing posted: a disabled account or balance, the same balance, an unknown currency, another currency", async () => {
    const from = await funded(100);
    const toAccount = await account();
    const to = await balance(toAccount);
    const eur = await balance(await account(), "EUR");
    const before = await stack.db.ledgerPosting.count();
    const refusals: Array<[Record<string, unknown>, number, string, string?]> = [
      [{ from, to: from, amount: 1 }, 422, "same_balance", "to"],
      [{ from, to, amount: 1, currency: "ZZZ" }, 422, "unknown_currency", "currency"],
      [{ from, to: eur, amount: 1 }, 422, "currency_mismatch", "to"],
      [{ from, to: "bal_nope", amount: 1 }, 404, "not_found", "to"],
    ];
    for (const [body, status, code, field] of refusals) {
      const res = await transfer(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.json.error.code).toBe(code);
      if (field) expect(res.json.error.fields.map((f: { field: string }) => f.field)).toContain(field);
    }
    await call(stack.url, "POST", `/accounts/${toAccount}/disable`);
    const disabledAccount = await transfer({ from, to, amount: 1 });
    expect([disabledAccount.status, disabledAccount.json.error.code]).toEqual([409, "account_disabled"]);
    await call(stack.url, "POST", `/accounts/${toAccount}/activate`);
    await call(stack.url, "POST", `/balances/${from}/disable`);
    const disabledBalance = await transfer({ from, to, amount: 1 });
    expect([disabledBalance.status, disabledBalance.json.error.code]).toEqual([409, "balance_disabled"]);
    expect(await stack.db.ledgerPosting.count()).toBe(before);
    expect(await stack.db.transfer.count({ where: { fromBalanceId: from, toBalanceId: { not: from } } })).toBe(0);
  });

  it("a credit refused after the debit is compensated: the debit reversed, transfer.failed; retried, it completes as attempt 2", async () => {
    const from = await funded(100);
    const toAccount = await account();
    const to = await balance(toAccount);
    await stack.stopWorker();
    const res = await transfer({ from, to, amount: 40 });
    expect(res.status, res.text).toBe(202);
    // Accepted while the destination was active; disabled before the workflow's credit.
    await call(stack.url, "POST", `/balances/${to}/disable`);
    await stack.startWorker();
    const failed = await settled(res.json.id);
    expect(failed).toMatchObject({ status: "FAILED", failureCode: "balance_disabled", reversed: true });
    expect([await amountOf(from), await amountOf(to)]).toEqual([100, 0]);
    const kinds = (await postingsOf(from)).map((p) => p.entry.kind).sort();
    expect(kinds).toEqual(["transfer.credit", "transfer.debit", "transfer.reversal"]); // the funding credit, then this one's debit and reversal
    const history = await stack.temporal.workflow.getHandle(`transfer-${res.json.id}`).fetchHistory();
    expect((history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean)).toEqual(
      ["debitTransfer", "creditTransfer", "compensateTransfer"],
    );
    expect((await stack.db.event.findMany({ where: { checkoutId: res.json.id } })).map((e) => e.type)).toEqual([
      "transfer.failed",
    ]);
    // The run ends (failed, so that it stands out) once the compensation has recorded FAILED.
    await stack.temporal.workflow
      .getHandle(`transfer-${res.json.id}`)
      .result()
      .catch(() => {});
    await recordHistory(stack.temporal, `transfer-${res.json.id}`, "transfer-compensated.json");
    const listed = await call(stack.url, "GET", `/transfers?status=FAILED&balance=${to}`);
    expect(listed.json.data.map((t: { id: string }) => t.id)).toEqual([res.json.id]);

    await call(stack.url, "POST", `/balances/${to}/activate`);
    const retried = await call(stack.url, "POST", `/transfers/${res.json.id}/retry`);
    expect(retried.status, retried.text).toBe(202);
    expect(await settled(res.json.id)).toMatchObject({ status: "COMPLETED", attempt: 2, reversed: false });
    expect([await amountOf(from), await amountOf(to)]).toEqual([60, 40]);
    const notFailed = await call(stack.url, "POST", `/transfers/${res.json.id}/retry`);
    expect(notFailed.json.error.code).toBe("transfer_not_failed");
  }, 120_000);
});
