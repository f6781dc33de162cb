// Accounts, balances and currencies: a merchant's accounts and their balances (one per currency),
// their statements, and the currencies they may hold. Every lookup is scoped to the caller's
// merchant: another merchant's account or balance is answered as one that does not exist.
import type { z } from "@hono/zod-openapi";
import { newAccountId, newBalanceId } from "../../ledger/ids.ts";
import { fromDb } from "../../money/amounts.ts";
import { type Db, Prisma } from "../../prisma/client.ts";
import { ApiError, notFound } from "../errors.ts";
import type { AccountRequest, BalanceRequest, CurrencyRequest } from "../ledger-schemas.ts";
import { type PageRequest, paginate } from "../pagination.ts";

type BalanceRow = Prisma.LedgerBalanceGetPayload<object>;
type AccountRow = Prisma.LedgerAccountGetPayload<{ include: { balances: true } }>;

export const balanceView = (b: BalanceRow) => ({
  id: b.id,
  object: "balance" as const,
  accountId: b.accountId,
  currency: b.currency,
  amount: fromDb(b.amount),
  overdraftLimit: fromDb(b.overdraftLimit ?? 0n),
  status: b.status,
  createdAt: b.createdAt.toISOString(),
});

export const accountView = (a: AccountRow) => ({
  id: a.id,
  object: "account" as const,
  owner: a.owner,
  email: a.email,
  status: a.status,
  balances: [...a.balances].sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime()).map(balanceView),
  createdAt: a.createdAt.toISOString(),
});

const currencyView = (c: { code: string; name: string; exponent: number; active: boolean; custom: boolean }) => ({
  code: c.code,
  name: c.name,
  exponent: c.exponent,
  active: c.active,
  custom: c.custom,
});

const isUniqueViolation = (err: unknown) => err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002";

/** A currency a balance or a movement may use: 422 naming `field` for one unknown or inactive. */
export async function usableCurrency(db: Db, code: string, field = "currency") {
  const currency = await db.ledgerCurrency.findUnique({ where: { code } });
  if (!currency) {
    throw new ApiError(422, "unknown_currency", `No currency ${code}: add it with POST /currencies first.`, [
      { field, reason: "is not a known currency" },
    ]);
  }
  if (!currency.active) {
    throw new ApiError(422, "currency_inactive", `The currency ${code} is not active.`, [{ field, reason: "is not active" }]);
  }
  return currency;
}

export function ledgerService(db: Db) {
  async function account(merchantId: string, id: string) {
    const row = await db.ledgerAccount.findFirst({ where: { id, merchantId }, include: { balances: true } });
    if (!row) throw notFound("account", id);
    return row;
  }

  async function balance(merchantId: string, id: string) {
    const row = await db.ledgerBalance.findFirst({ where: { id, merchantId } });
    if (!row) throw notFound("balance", id);
    return row;
  }

  return {
    async createAccount(merchantId: string, request: z.infer<typeof AccountRequest>) {
      const row = await db.ledgerAccount.create({
        data: { id: newAccountId(), merchantId, owner: request.owner, email: request.email ?? null },
        include: { balances: true },
      });
      return accountView(row);
    },

    getAccount: async (merchantId: string, id: string) => accountView(await account(merchantId, id)),

    async listAccounts(merchantId: string, page: PageRequest) {
      const { rows, hasMore } = await paginate(page, {
        find: (id) => db.ledgerAccount.findFirst({ where: { id, merchantId }, select: { id: true, createdAt: true } }),
        rows: ({ after, orderBy, take }) =>
          db.ledgerAccount.findMany({ where: { merchantId, ...after }, orderBy, take, include: { balances: true } }),
      });
      return { data: rows.map(accountView), hasMore };
    },

    async setAccountStatus(merchantId: string, id: string, status: "ACTIVE" | "DISABLED") {
      await account(merchantId, id);
      return accountView(await db.ledgerAccount.update({ where: { id }, data: { status }, include: { balances: true } }));
    },

    async openBalance(merchantId: string, accountId: string, request: z.infer<typeof BalanceRequest>) {
      const owner = await account(merchantId, accountId);
      if (owner.status !== "ACTIVE") throw new ApiError(409, "account_disabled", `Account ${accountId} is disabled.`);
      await usableCurrency(db, request.currency);
      try {
        const row = await db.ledgerBalance.create({
          data: {
            id: newBalanceId(),
            accountId,
            merchantId,
            currency: request.currency,
            overdraftLimit: BigInt(request.overdraftLimit ?? 0),
          },
        });
        return balanceView(row);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        throw new ApiError(409, "balance_exists", `Account ${accountId} already has a ${request.currency} balance.`, [
          { field: "currency", reason: "already has a balance in this account" },
        ]);
      }
    },

    getBalance: async (merchantId: string, id: string) => balanceView(await balance(merchantId, id)),

    async setBalanceStatus(merchantId: string, id: string, status: "ACTIVE" | "DISABLED") {
      await balance(merchantId, id);
      return balanceView(await db.ledgerBalance.update({ where: { id }, data: { status } }));
    },

    /** A balance's statement: its postings, newest first, with the entry each belongs to. */
    async statement(merchantId: string, balanceId: string, page: PageRequest) {
      await balance(merchantId, balanceId);
      const { rows, hasMore } = await paginate(page, {
        find: (id) => db.ledgerPosting.findFirst({ where: { id, balanceId }, select: { id: true, createdAt: true } }),
        rows: ({ after, orderBy, take }) =>
          db.ledgerPosting.findMany({ where: { balanceId, ...after }, orderBy, take, include: { entry: true } }),
      });
      return {
        data: rows.map((p) => ({
          id: p.id,
          entryId: p.entryId,
          kind: p.entry.kind,
          transferId: p.entry.transferId,
          amount: fromDb(p.amount),
          currency: p.currency,
          createdAt: p.createdAt.toISOString(),
        })),
        hasMore,
      };
    },

    async listCurrencies() {
      const rows = await db.ledgerCurrency.findMany({ orderBy: { code: "asc" } });
      return rows.map(currencyView);
    },

    async createCurrency(request: z.infer<typeof CurrencyRequest>) {
      try {
        return currencyView(await db.ledgerCurrency.create({ data: { ...request, custom: true } }));
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        throw new ApiError(409, "currency_exists", `The currency ${request.code} exists already.`, [
          { field: "code", reason: "exists already" },
        ]);
      }
    },

    async setCurrencyActive(code: string, active: boolean) {
      const row = await db.ledgerCurrency.findUnique({ where: { code } });
      if (!row) throw notFound("currency", code);
      return currencyView(await db.ledgerCurrency.update({ where: { code }, data: { active } }));
    },
  };
}

export type LedgerService = ReturnType<typeof ledgerService>;
