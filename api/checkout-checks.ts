// What POST /checkouts refuses before any workflow starts (422, naming the field): a provider
// that is not configured here, a total above the maximum any amount may have, and a currency or
// amount that the chosen provider, or a fallback, cannot take exactly (providers/currency-rules.ts).
// A checkout that passes these can be charged as asked by every provider it may reach.
import { MAX_AMOUNT, orderTotalWithinLimit } from "../money/amounts.ts";
import { checkAmount } from "../providers/currency-rules.ts";
import { unavailableReason } from "../providers/index.ts";
import type { GatewayRegistry } from "../providers/registry.ts";
import { ApiError, type FieldError } from "./errors.ts";
import type { CheckoutRequest } from "./schemas.ts";

export function refuseUnpayable(body: CheckoutRequest, gateways: GatewayRegistry): void {
  const providers: Array<[field: string, provider: string]> = [
    ["payment.provider", body.payment.provider],
    ...(body.payment.fallbackProviders ?? []).map((p, i): [string, string] => [`payment.fallbackProviders.${i}`, p]),
  ];

  const unconfigured = providers.flatMap(([field, provider]) => {
    const reason = unavailableReason(provider, gateways);
    return reason ? [{ field, reason }] : [];
  });
  if (unconfigured.length) {
    throw new ApiError(
      422,
      "provider_not_configured",
      "A payment provider of this checkout is not configured here.",
      unconfigured,
    );
  }

  const total = orderTotalWithinLimit(body.items);
  if (total === undefined) {
    throw new ApiError(422, "amount_too_large", `The order total is above the maximum of ${MAX_AMOUNT} minor units.`, [
      { field: "items", reason: `the order total must not exceed ${MAX_AMOUNT} minor units of ${body.currency}` },
    ]);
  }

  const refused: Array<FieldError & { kind: "currency" | "amount" }> = [];
  for (const [field, provider] of providers) {
    const check = checkAmount(provider, body.currency, total);
    if (!check.ok) {
      refused.push({
        kind: check.field,
        field: check.field === "currency" ? "currency" : "items",
        reason: `${field}: ${check.reason}`,
      });
    }
  }
  if (refused.length) {
    const currency = refused.some((r) => r.kind === "currency");
    throw new ApiError(
      422,
      currency ? "currency_not_supported" : "amount_not_supported",
      currency
        ? `A payment provider of this checkout does not take ${body.currency}.`
        : "A payment provider of this checkout cannot take this amount as it is.",
      refused.map(({ field, reason }) => ({ field, reason })),
    );
  }
}
