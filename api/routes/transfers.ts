// /transfers: move money between two of your balances, durably, once per Idempotency-Key.
import { createRoute, z } from "@hono/zod-openapi";
import { access, callerFor } from "../auth.ts";
import {
  LedgerId,
  LedgerIdParam,
  ledgerPageParameters,
  TRANSFER_STATUSES,
  TransferRequest,
  TransferView,
} from "../ledger-schemas.ts";
import { ListOf, listBody } from "../pagination.ts";
import { createRouter } from "../router.ts";
import { ErrorResponse, idempotencyKey, json } from "../schemas.ts";
import type { TransferService } from "../services/transfers.ts";

const createTransfer = createRoute({
  method: "post",
  path: "/transfers",
  summary: "Transfer between two of your balances in one currency",
  ...access("ledger:write"),
  request: {
    headers: z.object({ "idempotency-key": idempotencyKey("is required: a retried transfer request must not move money twice") }),
    body: { required: true, ...json(TransferRequest, "From, to, how much") },
  },
  responses: {
    202: json(TransferView, "Accepted: PENDING until its workflow has moved it (or the transfer as it is, for the same key)"),
    404: json(ErrorResponse, "`from` or `to` is not a balance of yours"),
    409: json(ErrorResponse, "A disabled account (`account_disabled`) or balance (`balance_disabled`)"),
    422: json(
      ErrorResponse,
      "The same balance twice (`same_balance`), a currency unknown, inactive or not the balances' (`currency_mismatch`), or the key used for another body",
    ),
  },
});

const listTransfers = createRoute({
  method: "get",
  path: "/transfers",
  summary: "Your transfers, newest first (status=FAILED: those to look at and retry)",
  ...access("ledger:read"),
  request: {
    query: z.strictObject({
      ...ledgerPageParameters,
      status: z.enum(TRANSFER_STATUSES).optional(),
      balance: LedgerId("Only transfers from or to this balance.").optional(),
    }),
  },
  responses: {
    200: json(ListOf(TransferView, "TransferList"), "A page of transfers"),
    404: json(ErrorResponse, "A cursor that is not one of these transfers"),
  },
});

const getTransfer = createRoute({
  method: "get",
  path: "/transfers/{id}",
  summary: "A transfer",
  ...access("ledger:read"),
  request: { params: LedgerIdParam },
  responses: { 200: json(TransferView, "The transfer"), 404: json(ErrorResponse, "No such transfer") },
});

const retryTransfer = createRoute({
  method: "post",
  path: "/transfers/{id}/retry",
  summary: "Retry a failed transfer: a new run of its workflow, as its next attempt",
  ...access("ledger:write"),
  request: { params: LedgerIdParam },
  responses: {
    202: json(TransferView, "PENDING again"),
    404: json(ErrorResponse, "No such transfer"),
    409: json(ErrorResponse, "The transfer did not fail (`transfer_not_failed`)"),
  },
});

export function transferRoutes(transfers: TransferService) {
  const merchant = (c: Parameters<typeof callerFor>[0]) => callerFor(c).merchantId;
  return createRouter()
    .openapi(createTransfer, async (c) =>
      c.json(await transfers.create(merchant(c), c.req.valid("json"), c.req.valid("header")["idempotency-key"]), 202),
    )
    .openapi(listTransfers, async (c) => {
      const { data, hasMore } = await transfers.list(merchant(c), c.req.valid("query"));
      return c.json(listBody("/transfers", data, hasMore), 200);
    })
    .openapi(getTransfer, async (c) => c.json(await transfers.get(merchant(c), c.req.valid("param").id), 200))
    .openapi(retryTransfer, async (c) => c.json(await transfers.retry(merchant(c), c.req.valid("param").id), 202));
}
