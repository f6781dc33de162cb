// Property-based: random sequences of transfers (some replayed, some whose credit fails after the
// debit, some in concurrent batches) and account/balance disables, on a handful of balances, run
// through the transfer steps themselves (activities/ledger.ts, no Temporal) against the real
// database. After every step: each entry's postings sum to zero, each balance equals the sum of
// its postings and what a model of the rules predicts, and none is below minus its overdraft.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { ledgerActivities, type TransferStep } from "../activities/ledger.ts";
import { newAccountId, newBalanceId } from "../ledger/ids.ts";
import { createDb } from "../prisma/client.ts";

const db = createDb(inject("databaseUrl"));
const steps = ledgerActivities(db);
const merchantId = `mch_props_${randomBytes(4).toString("hex")}`;
const BALANCES = 4;
const OVERDRAFTS = [0n, 0n, 500n, 0n];
const CURRENCY = "EUR";

afterAll(() => db.$disconnect());
beforeAll(async () => {
  await db.merchant.create({ data: { id: merchantId, name: "ledger properties" } });
});

type Command =
  | { kind: "transfer"; from: number; to: number; amount: number; replay: boolean; creditFails: boolean }
  | { kind: "batch"; transfers: Array<{ from: number; to: number; amount: number }> }
  | { kind: "disableAccount" | "enableAccount" | "disableBalance" | "enableBalance"; target: number };

const index = fc.integer({ min: 0, max: BALANCES - 1 });
const amount = fc.integer({ min: 1, max: 800 });
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("transfer" as const),
      from: index,
      to: index,
      amount,
      replay: fc.boolean(),
      creditFails: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("batch" as const),
      transfers: fc.array(fc.record({ from: index, to: index, amount }), { minLength: 2, maxLength: 6 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom(
        "disableAccount" as const,
        "enableAccount" as const,
        "disableBalance" as const,
        "enableBalance" as const,
      ),
      target: index,
    }),
  },
);

interface World {
  accounts: string[];
  balances: string[];
}

/** Fresh balances: the first holds 1000 (credited from a seed balance with no floor), the rest 0. */
async function world(): Promise<World> {
  const accounts: string[] = [];
  const balances: string[] = [];
  for (let i = 0; i < BALANCES; i++) {
    const account = await db.ledgerAccount.create({ data: { id: newAccountId(), merchantId, owner: `owner ${i}` } });
    const balance = await db.ledgerBalance.create({
      data: { id: newBalanceId(), accountId: account.id, merchantId, currency: CURRENCY, overdraftLimit: OVERDRAFTS[i] },
    });
    accounts.push(account.id);
    balances.push(balance.id);
  }
  const seed = await db.ledgerAccount.create({ data: { id: newAccountId(), merchantId, owner: "seed" } });
  const seedBalance = await db.ledgerBalance.create({
    data: { id: newBalanceId(), accountId: seed.id, merchantId, currency: CURRENCY, overdraftLimit: null },
  });
  await runTransfer(seedBalance.id, balances[0], 1000, {});
  return { accounts, balances };
}

let counter = 0;
/** One transfer through its steps as the workflow runs them: debit, credit (or a failed credit), compensate on failure. */
async function runTransfer(from: string, to: string, value: number, options: { replay?: boolean; creditFails?: boolean }) {
  const id = `tr_prop_${randomBytes(8).toString("hex")}_${counter++}`;
  await db.transfer.create({
    data: {
      id,
      merchantId,
      fromBalanceId: from,
      toBalanceId: to,
      amount: BigInt(value),
      currency: CURRENCY,
      idempotencyKey: id,
      requestHash: "-",
    },
  });
  const step: TransferStep = { transferId: id, workflowId: `transfer-${id}`, attempt: 1 };
  let debited = false;
  try {
    await steps.debitTransfer(step);
    if (options.replay) await steps.debitTransfer(step); // a retried activity: no second debit
    debited = true;
    if (options.creditFails) throw new Error("the credit ran out of retries");
    const outcome = await steps.creditTransfer(step);
    if (options.replay) await steps.creditTransfer(step);
    return outcome.status;
  } catch (err) {
    const outcome = await steps.compensateTransfer({
      ...step,
      failureCode: debited ? "credit_failed" : "refused",
      failureReason: String(err),
    });
    if (options.replay) await steps.compensateTransfer({ ...step, failureCode: "x", failureReason: "x" });
    return outcome.status;
  }
}

async function checkInvariants(w: World, model?: bigint[]) {
  const rows = await db.ledgerBalance.findMany({ where: { id: { in: w.balances } }, orderBy: { id: "asc" } });
  for (const row of rows) {
    const sum = await db.ledgerPosting.aggregate({ where: { balanceId: row.id }, _sum: { amount: true } });
    expect(row.amount, `balance ${row.id} equals its postings`).toBe(sum._sum.amount ?? 0n);
    expect(row.amount >= -(row.overdraftLimit ?? 0n), `balance ${row.id} at ${row.amount} is above its floor`).toBe(true);
    if (model) expect(row.amount, `balance ${row.id} as the model says`).toBe(model[w.balances.indexOf(row.id)]);
  }
  // Every entry that touched this merchant's balances, with all its postings (the transit's too):
  // other test files post to the same system balances at the same time, in entries of their own.
  const unbalanced = await db.$queryRaw<unknown[]>`
    SELECT p."entryId" FROM "LedgerPosting" p
    WHERE p."entryId" IN (
      SELECT mine."entryId" FROM "LedgerPosting" mine JOIN "LedgerBalance" b ON b."id" = mine."balanceId"
      WHERE b."merchantId" = ${merchantId})
    GROUP BY p."entryId", p."currency" HAVING SUM(p."amount") <> 0`;
  expect(unbalanced, "every entry sums to zero").toEqual([]);
  // Money is neither made nor lost: what the balances hold is what the seed put in.
  const total = rows.reduce((s, r) => s + r.amount, 0n);
  expect(total).toBe(1000n);
}

it("random transfers and disables keep every invariant of the ledger", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 12 }), async (commands) => {
      const w = await world();
      const model = [1000n, 0n, 0n, 0n];
      const accountOn = [true, true, true, true];
      const balanceOn = [true, true, true, true];
      const usable = (i: number) => accountOn[i] && balanceOn[i];
      await checkInvariants(w, model);
      for (const c of commands) {
        if (c.kind === "transfer") {
          if (c.from === c.to) continue; // refused by the API before any step (test/ledger-api.test.ts)
          const status = await runTransfer(w.balances[c.from], w.balances[c.to], c.amount, c);
          const funded = model[c.from] - BigInt(c.amount) >= -OVERDRAFTS[c.from];
          const expected = usable(c.from) && funded && usable(c.to) && !c.creditFails ? "COMPLETED" : "FAILED";
          expect(status, JSON.stringify(c)).toBe(expected);
          if (expected === "COMPLETED") {
            model[c.from] -= BigInt(c.amount);
            model[c.to] += BigInt(c.amount);
          }
          await checkInvariants(w, model);
        } else if (c.kind === "batch") {
          await Promise.all(
            c.transfers
              .filter((t) => t.from !== t.to)
              .map((t) => runTransfer(w.balances[t.from], w.balances[t.to], t.amount, {})),
          );
          await checkInvariants(w);
          const rows = await db.ledgerBalance.findMany({ where: { id: { in: w.balances } } });
          for (const row of rows) model[w.balances.indexOf(row.id)] = row.amount;
        } else {
          const on = c.kind.startsWith("enable");
          if (c.kind.endsWith("Account")) {
            accountOn[c.target] = on;
            await db.ledgerAccount.update({ where: { id: w.accounts[c.target] }, data: { status: on ? "ACTIVE" : "DISABLED" } });
          } else {
            balanceOn[c.target] = on;
            await db.ledgerBalance.update({ where: { id: w.balances[c.target] }, data: { status: on ? "ACTIVE" : "DISABLED" } });
          }
        }
      }
      // The transit account holds nothing once every transfer has ended.
      const transit = await db.ledgerBalance.findFirst({ where: { accountId: "sys_transit", currency: CURRENCY } });
      expect(transit?.amount).toBe(0n);
    }),
    { numRuns: 25, seed: 20261201, endOnFailure: true },
  );
}, 120_000);
