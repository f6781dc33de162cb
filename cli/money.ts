// Amounts are integers in minor units; the CLI shows them as `39.98 USD`.
import { minorUnitDigits } from "../money/format.ts";

/** `39.98 USD`: minor units shown with the currency's decimals. */
export function money(amount: number | null | undefined, currency: string | null | undefined): string {
  if (amount === null || amount === undefined) return "-";
  if (!currency) return String(amount);
  let digits = 2;
  try {
    digits = minorUnitDigits(currency);
  } catch {
    // not an ISO 4217 code: show minor units with two decimals
  }
  return `${(amount / 10 ** digits).toFixed(digits)} ${currency}`;
}
