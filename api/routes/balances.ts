// /balances/{id}: a balance, its statement (its postings, newest first), activate and disable.
import { createRoute, z } from "@hono/zod-openapi";
import { access, callerFor } from "../auth.ts";
import { BalanceView, LedgerIdParam, ledgerPageParameters, PostingView } from "../ledger-schemas.ts";
import { ListOf, listBody } from "../pagination.ts";
import { createRouter } from "../router.ts";
import { ErrorResponse, json } from "../schemas.ts";
import type { LedgerService } from "../services/ledger.ts";

const getBalance = createRoute({
  method: "get",
  path: "/balances/{id}",
  summary: "A balance",
  ...access("ledger:read"),
  request: { params: LedgerIdParam },
  responses: { 200: json(BalanceView, "The balance"), 404: json(ErrorResponse, "No such balance") },
});

const statement = createRoute({
  method: "get",
  path: "/balances/{id}/postings",
  summary: "A balance's statement: its postings, newest first",
  ...access("ledger:read"),
  request: { params: LedgerIdParam, query: z.strictObject(ledgerPageParameters) },
  responses: {
    200: json(ListOf(PostingView, "PostingList"), "A page of postings"),
    404: json(ErrorResponse, "No such balance, or a cursor that is not one of its postings"),
  },
});

const balanceStatus = (action: "activate" | "disable") =>
  createRoute({
    method: "post",
    path: `/balances/{id}/${action}`,
    summary: action === "disable" ? "Disable a balance: it takes no new movement" : "Activate a balance again",
    ...access("ledger:write"),
    request: { params: LedgerIdParam },
    responses: { 200: json(BalanceView, "The balance as it is now"), 404: json(ErrorResponse, "No such balance") },
  });

export function balanceRoutes(ledger: LedgerService) {
  const merchant = (c: Parameters<typeof callerFor>[0]) => callerFor(c).merchantId;
  return createRouter()
    .openapi(getBalance, async (c) => c.json(await ledger.getBalance(merchant(c), c.req.valid("param").id), 200))
    .openapi(statement, async (c) => {
      const { id } = c.req.valid("param");
      const { data, hasMore } = await ledger.statement(merchant(c), id, c.req.valid("query"));
      return c.json(listBody(`/balances/${id}/postings`, data, hasMore), 200);
    })
    .openapi(balanceStatus("activate"), async (c) =>
      c.json(await ledger.setBalanceStatus(merchant(c), c.req.valid("param").id, "ACTIVE"), 200),
    )
    .openapi(balanceStatus("disable"), async (c) =>
      c.json(await ledger.setBalanceStatus(merchant(c), c.req.valid("param").id, "DISABLED"), 200),
    );
}
