// `checkout ledger verify` on a database of its own: consistent after real transfers (exit 0);
// a posting edited behind the ledger's back (an UPDATE in SQL) is found and named (exit 1); so is a
// balance edited alone. `transfers list|show` and `balances show` read the same rows.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { ledgerActivities } from "../activities/ledger.ts";
import { newAccountId, newBalanceId } from "../ledger/ids.ts";
import { createDb, type Db } from "../prisma/client.ts";
import { applyMigrations } from "../prisma/migrations.ts";
import { cli } from "./support/cli-process.ts";
import { createScratchDatabase, dropDatabase } from "./support/databases.ts";

let databaseUrl: string;
let db: Db;
const balances: string[] = [];
const transferId = "tr_verify_1";

beforeAll(async () => {
  databaseUrl = await createScratchDatabase(inject("adminDatabaseUrl"), `checkout_ledger_${randomBytes(4).toString("hex")}`);
  await applyMigrations(databaseUrl);
  db = createDb(databaseUrl);
  await db.merchant.create({ data: { id: "mch_verify", name: "verify" } });
  for (const overdraftLimit of [1000n, 0n]) {
    const account = await db.ledgerAccount.create({ data: { id: newAccountId(), merchantId: "mch_verify", owner: "o" } });
    const balance = await db.ledgerBalance.create({
      data: { id: newBalanceId(), accountId: account.id, merchantId: "mch_verify", currency: "USD", overdraftLimit },
    });
    balances.push(balance.id);
  }
  await db.transfer.create({
    data: {
      id: transferId,
      merchantId: "mch_verify",
      fromBalanceId: balances[0],
      toBalanceId: balances[1],
      amount: 300n,
      currency: "USD",
      idempotencyKey: "k",
      requestHash: "-",
    },
  });
  const steps = ledgerActivities(db);
  const step = { transferId, workflowId: `transfer-${transferId}`, attempt: 1 };
  await steps.debitTransfer(step);
  await steps.creditTransfer(step);
}, 120_000);

afterAll(async () => {
  await db?.$disconnect();
  if (databaseUrl) await dropDatabase(inject("adminDatabaseUrl"), databaseUrl);
});

const run = (...args: string[]) => cli(args, { DATABASE_URL: databaseUrl });

it("finds a consistent ledger consistent, and shows its transfers and balances", async () => {
  const ok = await run("ledger", "verify");
  expect(ok.code, ok.stderr).toBe(0);
  expect(ok.stdout).toContain("The ledger is consistent");
  const list = await run("transfers", "list", "--status", "COMPLETED");
  expect(list.stdout).toContain(transferId);
  const show = await run("transfers", "show", transferId);
  expect(show.stdout).toContain("transfer.debit");
  expect(show.stdout).toContain("transfer.credit");
  const balance = await run("balances", "show", balances[1]);
  expect(balance.stdout).toContain("postings sum to 300");
}, 120_000);

it("names a posting edited behind the ledger's back, and exits 1", async () => {
  const posting = await db.ledgerPosting.findFirstOrThrow({ where: { balanceId: balances[1] } });
  await db.$executeRaw`UPDATE "LedgerPosting" SET "amount" = 301 WHERE "id" = ${posting.id}`;
  const tampered = await run("ledger", "verify");
  expect(tampered.code).toBe(1);
  expect(tampered.stderr).toContain(`entry ${posting.entryId}`);
  expect(tampered.stderr).toContain("sum to 1, not 0");
  await db.$executeRaw`UPDATE "LedgerPosting" SET "amount" = 300 WHERE "id" = ${posting.id}`;
  expect((await run("ledger", "verify")).code).toBe(0);

  await db.$executeRaw`UPDATE "LedgerBalance" SET "amount" = "amount" + 5 WHERE "id" = ${balances[0]}`;
  const balance = await run("ledger", "verify", "--json");
  expect(balance.code).toBe(1);
  expect(balance.stderr).toContain(`balance ${balances[0]} holds -295, its postings sum to -300`);
}, 120_000);
