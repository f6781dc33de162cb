// Amounts are integers in minor units; the CLI shows them as `39.98 USD`.
import { toDecimalString } from "../money/decimal.ts";
import { isIsoCurrency, isoExponent } from "../money/iso4217.ts";

/** `39.98 USD`: minor units shown with the currency's decimals. */
export function money(amount: number | null | undefined, currency: string | null | undefined): string {
  if (amount === null || amount === undefined) return "-";
  if (!currency) return String(amount);
  // Not an ISO 4217 code (a withdrawn one in an old row, say): show minor units with two decimals.
  const digits = isIsoCurrency(currency) ? isoExponent(currency) : 2;
  return `${toDecimalString(amount, digits)} ${currency}`;
}
