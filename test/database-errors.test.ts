// Which database errors a retry can fix, told apart on errors from the real PostgreSQL through the
// real Prisma client: a refused write fails the activity at once (non-retryable), a database that
// cannot be reached is retried.
import { randomBytes } from "node:crypto";
import { ApplicationFailure } from "@temporalio/common";
import { afterAll, describe, expect, inject, it } from "vitest";
import { failFastOnRejectedWrites } from "../activities/rejected-writes.ts";
import { freePort } from "../infra/free-port.ts";
import { DEFAULT_MERCHANT_ID } from "../merchants/merchants.ts";
import { createDb } from "../prisma/client.ts";
import { isDatabaseUnavailable, isPermanentDatabaseError } from "../prisma/errors.ts";

const db = createDb(inject("databaseUrl"));
afterAll(() => db.$disconnect());

async function errorOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error("expected the database to refuse");
}

const externalId = () => `cus_dberr_${randomBytes(4).toString("hex")}`;

describe("database errors", () => {
  it("a unique violation and a value out of range are permanent", async () => {
    const id = externalId();
    await db.customer.create({ data: { merchantId: DEFAULT_MERCHANT_ID, externalId: id, email: "a@example.com" } });
    const duplicate = await errorOf(() =>
      db.customer.create({ data: { merchantId: DEFAULT_MERCHANT_ID, externalId: id, email: "b@example.com" } }),
    );
    expect(isPermanentDatabaseError(duplicate)).toBe(true);
    expect(isDatabaseUnavailable(duplicate)).toBe(false);

    const customer = await db.customer.findUniqueOrThrow({
      where: { merchantId_externalId: { merchantId: DEFAULT_MERCHANT_ID, externalId: id } },
    });
    const order = await db.order.create({
      data: {
        checkoutId: `chk_${randomBytes(8).toString("hex")}`,
        merchantId: DEFAULT_MERCHANT_ID,
        customerId: customer.id,
        recipient: "a@example.com",
        currency: "USD",
        totalAmount: 1n,
      },
    });
    // quantity is a 32-bit column: three billion does not fit (SQLSTATE 22003).
    const outOfRange = await errorOf(() =>
      db.orderItem.create({
        data: { orderId: order.id, position: 0, sku: "x", name: "x", quantity: 3_000_000_000, unitAmount: 1n, lineTotal: 1n },
      }),
    );
    expect(isPermanentDatabaseError(outOfRange)).toBe(true);
  });

  it("a database that cannot be reached is not: the activity's retries are for it", async () => {
    const unreachable = createDb(`postgresql://postgres@127.0.0.1:${await freePort()}/nowhere`);
    try {
      const err = await errorOf(() => unreachable.customer.findFirst());
      expect(isPermanentDatabaseError(err)).toBe(false);
      expect(isDatabaseUnavailable(err)).toBe(true);
      // And the wrapper lets it through as it is, for the retry policy.
      const wrapped = await errorOf(failFastOnRejectedWrites(() => unreachable.customer.findFirst()));
      expect(wrapped).not.toBeInstanceOf(ApplicationFailure);
      expect(wrapped).toBeInstanceOf((err as Error).constructor);
    } finally {
      await unreachable.$disconnect();
    }
  });

  it("the wrapper turns a refused write into a non-retryable DatabaseRejected with a short message", async () => {
    const id = externalId();
    await db.customer.create({ data: { merchantId: DEFAULT_MERCHANT_ID, externalId: id, email: "a@example.com" } });
    const err = await errorOf(
      failFastOnRejectedWrites(() =>
        db.customer.create({ data: { merchantId: DEFAULT_MERCHANT_ID, externalId: id, email: "b@example.com" } }),
      ),
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: "DatabaseRejected", nonRetryable: true });
    expect((err as Error).message).toMatch(/^the database refused the write on Customer \(P2002/);
    expect((err as Error).message).not.toContain("\n");
  });
});
