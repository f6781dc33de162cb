// /accounts: a merchant's ledger accounts (an owner, an email), each holding one balance per
// currency; disabled, an account takes no new movement on any of its balances.
import { createRoute, z } from "@hono/zod-openapi";
import { access, callerFor } from "../auth.ts";
import {
  AccountRequest,
  AccountView,
  BalanceRequest,
  BalanceView,
  LedgerIdParam,
  ledgerPageParameters,
} from "../ledger-schemas.ts";
import { ListOf, listBody } from "../pagination.ts";
import { createRouter } from "../router.ts";
import { ErrorResponse, json } from "../schemas.ts";
import type { LedgerService } from "../services/ledger.ts";

const createAccount = createRoute({
  method: "post",
  path: "/accounts",
  summary: "Open a ledger account",
  ...access("ledger:write"),
  request: { body: { required: true, ...json(AccountRequest, "Who holds it") } },
  responses: { 201: json(AccountView, "Opened, ACTIVE, with no balance yet") },
});

const listAccounts = createRoute({
  method: "get",
  path: "/accounts",
  summary: "Your ledger accounts, newest first",
  ...access("ledger:read"),
  request: { query: z.strictObject(ledgerPageParameters) },
  responses: {
    200: json(ListOf(AccountView, "AccountList"), "A page of accounts"),
    404: json(ErrorResponse, "A cursor that is not one of your accounts"),
  },
});

const getAccount = createRoute({
  method: "get",
  path: "/accounts/{id}",
  summary: "An account with its balances",
  ...access("ledger:read"),
  request: { params: LedgerIdParam },
  responses: { 200: json(AccountView, "The account"), 404: json(ErrorResponse, "No such account") },
});

const accountStatus = (action: "activate" | "disable") =>
  createRoute({
    method: "post",
    path: `/accounts/{id}/${action}`,
    summary: action === "disable" ? "Disable an account: none of its balances takes a new movement" : "Activate an account again",
    ...access("ledger:write"),
    request: { params: LedgerIdParam },
    responses: { 200: json(AccountView, "The account as it is now"), 404: json(ErrorResponse, "No such account") },
  });

const openBalance = createRoute({
  method: "post",
  path: "/accounts/{id}/balances",
  summary: "Open the account's balance in a currency (one per currency)",
  ...access("ledger:write"),
  request: { params: LedgerIdParam, body: { required: true, ...json(BalanceRequest, "The currency, and an overdraft if any") } },
  responses: {
    201: json(BalanceView, "Opened at zero"),
    404: json(ErrorResponse, "No such account"),
    409: json(
      ErrorResponse,
      "The account has a balance in that currency (`balance_exists`), or is disabled (`account_disabled`)",
    ),
    422: json(ErrorResponse, "An unknown (`unknown_currency`) or inactive (`currency_inactive`) currency"),
  },
});

export function accountRoutes(ledger: LedgerService) {
  const merchant = (c: Parameters<typeof callerFor>[0]) => callerFor(c).merchantId;
  return createRouter()
    .openapi(createAccount, async (c) => c.json(await ledger.createAccount(merchant(c), c.req.valid("json")), 201))
    .openapi(listAccounts, async (c) => {
      const { data, hasMore } = await ledger.listAccounts(merchant(c), c.req.valid("query"));
      return c.json(listBody("/accounts", data, hasMore), 200);
    })
    .openapi(getAccount, async (c) => c.json(await ledger.getAccount(merchant(c), c.req.valid("param").id), 200))
    .openapi(accountStatus("activate"), async (c) =>
      c.json(await ledger.setAccountStatus(merchant(c), c.req.valid("param").id, "ACTIVE"), 200),
    )
    .openapi(accountStatus("disable"), async (c) =>
      c.json(await ledger.setAccountStatus(merchant(c), c.req.valid("param").id, "DISABLED"), 200),
    )
    .openapi(openBalance, async (c) =>
      c.json(await ledger.openBalance(merchant(c), c.req.valid("param").id, c.req.valid("json")), 201),
    );
}
