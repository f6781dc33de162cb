// A worker killed between a transfer's debit and its credit: the standalone worker process is
// SIGKILLed while its credit waits (the test holds the destination balance's row lock, so the
// credit cannot commit); a replacement worker retries the credit under the same key and the
// transfer completes, with exactly one debit, one credit and no reversal.
import pg from "pg";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { call, until } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";
import { spawnWorkerProcess, type WorkerProcess } from "./support/worker-process.ts";

let stack: TestStack;
let child: WorkerProcess | undefined;
const locker = new pg.Client({ connectionString: inject("databaseUrl") });

beforeAll(async () => {
  stack = await startTestStack({ startWorker: false });
  await locker.connect();
});
afterAll(async () => {
  child?.kill();
  await locker.end().catch(() => {});
  await stack?.stop();
});

const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await call(stack.url, "POST", path, body, headers);
  expect(res.status, res.text).toBeLessThan(300);
  return res.json;
};
const settled = (id: string, timeoutMs = 60_000) =>
  until(async () => {
    const res = await call(stack.url, "GET", `/transfers/${id}`);
    return res.json?.status === "PENDING" ? undefined : res.json;
  }, timeoutMs);

it("a worker killed between debit and credit: the transfer completes, one debit, one credit", async () => {
  child = await spawnWorkerProcess(stack.env);
  const balance = async (currency: string, overdraftLimit = 0) =>
    (await post(`/accounts/${(await post("/accounts", { owner: "o" })).id}/balances`, { currency, overdraftLimit })).id as string;
  const funding = await balance("GBP", 500);
  const from = await balance("GBP");
  const to = await balance("GBP");
  const fund = await post("/transfers", { from: funding, to: from, amount: 500, currency: "GBP" }, { "idempotency-key": "fund" });
  expect((await settled(fund.id)).status).toBe("COMPLETED");

  // The credit will wait on this lock, after the debit has committed.
  await locker.query("BEGIN");
  await locker.query(`SELECT 1 FROM "LedgerBalance" WHERE "id" = $1 FOR UPDATE`, [to]);
  const transfer = await post("/transfers", { from, to, amount: 200, currency: "GBP" }, { "idempotency-key": "crash" });
  const debitKey = `transfer-${transfer.id}:1:debit`;
  await until(() => stack.db.ledgerEntry.findUnique({ where: { idempotencyKey: debitKey } }).then((e) => e ?? undefined));
  // The credit is running and blocked on the lock (its transaction waits in PostgreSQL).
  await until(async () => {
    const waiting = await locker.query(
      `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'`,
    );
    return waiting.rowCount ? true : undefined;
  });
  const exited = new Promise((resolve) => child?.process.once("exit", (_code, signal) => resolve(signal)));
  child.kill();
  expect(await exited).toBe("SIGKILL");
  await locker.query("ROLLBACK");
  expect((await call(stack.url, "GET", `/transfers/${transfer.id}`)).json.status).toBe("PENDING");

  await stack.startWorker();
  const done = await settled(transfer.id);
  expect(done).toMatchObject({ status: "COMPLETED", reversed: false });
  const entries = await stack.db.ledgerEntry.findMany({ where: { transferId: transfer.id } });
  expect(entries.map((e) => e.kind).sort()).toEqual(["transfer.credit", "transfer.debit"]);
  const amount = async (id: string) => (await call(stack.url, "GET", `/balances/${id}`)).json.amount;
  expect([await amount(from), await amount(to)]).toEqual([300, 200]);
  // The credit ran more than once (the killed worker's attempt, then the replacement's), posted once.
  const history = await stack.temporal.workflow.getHandle(`transfer-${transfer.id}`).fetchHistory();
  const started = history.events
    ?.filter((e) => e.activityTaskStartedEventAttributes)
    .map((e) => e.activityTaskStartedEventAttributes?.attempt);
  expect(Math.max(...(started ?? []).map(Number))).toBeGreaterThanOrEqual(2);
}, 120_000);
