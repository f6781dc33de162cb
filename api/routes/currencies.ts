// /currencies: what balances may hold. ISO 4217's are there from the start; custom ones (a new
// cryptocurrency) are added here. Currencies are shared by every merchant, so changing them takes
// `currencies:write`, an operator's scope: give it only to the operator's own key.
import { createRoute, z } from "@hono/zod-openapi";
import { access } from "../auth.ts";
import { CurrencyRequest, CurrencyView, LedgerIdParam } from "../ledger-schemas.ts";
import { createRouter } from "../router.ts";
import { ErrorResponse, json } from "../schemas.ts";
import type { LedgerService } from "../services/ledger.ts";

const listCurrencies = createRoute({
  method: "get",
  path: "/currencies",
  summary: "The ledger's currencies, by code",
  ...access("ledger:read"),
  responses: { 200: json(z.object({ object: z.literal("list"), data: z.array(CurrencyView) }), "Every currency") },
});

const createCurrency = createRoute({
  method: "post",
  path: "/currencies",
  summary: "Add a custom currency (an operator's scope)",
  ...access("currencies:write"),
  request: { body: { required: true, ...json(CurrencyRequest, "Its code, name and minor-unit digits") } },
  responses: {
    201: json(CurrencyView, "Added, active"),
    409: json(ErrorResponse, "A currency with this code exists (`currency_exists`)"),
  },
});

const currencyActive = (action: "activate" | "disable") =>
  createRoute({
    method: "post",
    path: `/currencies/{id}/${action}`,
    summary:
      action === "disable"
        ? "Disable a currency: no new balance or movement in it (an operator's scope)"
        : "Activate a currency again (an operator's scope)",
    ...access("currencies:write"),
    request: { params: LedgerIdParam },
    responses: { 200: json(CurrencyView, "The currency as it is now"), 404: json(ErrorResponse, "No such currency") },
  });

export function currencyRoutes(ledger: LedgerService) {
  return createRouter()
    .openapi(listCurrencies, async (c) => c.json({ object: "list" as const, data: await ledger.listCurrencies() }, 200))
    .openapi(createCurrency, async (c) => c.json(await ledger.createCurrency(c.req.valid("json")), 201))
    .openapi(currencyActive("activate"), async (c) => c.json(await ledger.setCurrencyActive(c.req.valid("param").id, true), 200))
    .openapi(currencyActive("disable"), async (c) => c.json(await ledger.setCurrencyActive(c.req.valid("param").id, false), 200));
}
