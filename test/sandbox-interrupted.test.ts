// The sandbox, as a real provider would, finishes a charge whose processing its own crash
// interrupted: a charge left PROCESSING longer than processing can take is settled by its
// scenario the next time anyone asks about it, so a retried payment that only asks still ends.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ sandboxSlowMs: 500, startWorker: false });
});
afterAll(async () => {
  await stack?.stop();
});

/** A charge row as a request that died mid-processing leaves it, last touched `ageMs` ago. */
async function interruptedCharge(token: string, ageMs: number): Promise<string> {
  const key = `checkout-chk_${randomBytes(16).toString("hex")}:payment`;
  const row = await stack.db.sandboxCharge.create({
    data: {
      id: `ch_${randomBytes(12).toString("hex")}`,
      idempotencyKey: key,
      checkoutId: key.slice("checkout-".length, -":payment".length),
      amount: 3998n,
      currency: "USD",
      token,
      status: "PROCESSING",
      requests: 1,
    },
  });
  await stack.db
    .$executeRaw`UPDATE "SandboxCharge" SET "updatedAt" = now() - ${`${ageMs} milliseconds`}::interval WHERE id = ${row.id}`;
  return key;
}
const byKey = async (key: string) => (await call(stack.url, "GET", `/sandbox/charges/by-key/${encodeURIComponent(key)}`)).json;

describe("a charge whose processing was interrupted", () => {
  it("is settled by its scenario when next asked about: approved", async () => {
    const key = await interruptedCharge("tok_slow", 60_000);
    expect(await byKey(key)).toMatchObject({ status: "SUCCEEDED" });
    expect((await stack.db.sandboxCharge.findUnique({ where: { idempotencyKey: key } }))?.status).toBe("SUCCEEDED");
  });

  it("or declined, as its token says", async () => {
    const key = await interruptedCharge("tok_decline", 60_000);
    expect(await byKey(key)).toMatchObject({ status: "DECLINED", declineCode: "card_declined" });
  });

  it("while one still within its processing time is left alone", async () => {
    const key = await interruptedCharge("tok_slow", 0);
    expect(await byKey(key)).toMatchObject({ status: "PROCESSING" });
  });
});
