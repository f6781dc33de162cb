// Amounts are integers in minor units; only presentation turns them into "$39.98".
import { toDecimalString } from "./decimal.ts";
import { isoExponent } from "./iso4217.ts";

/**
 * How many minor units a currency has (USD 2, JPY 0, BHD 3), as ISO 4217 defines it; throws a
 * RangeError for a code that is not an active ISO 4217 currency. (CLDR, and so Intl, shows some
 * currencies with other decimals than ISO 4217 counts them in: COP, HUF, IDR, IQD, ...)
 */
export function minorUnitDigits(currency: string): number {
  return isoExponent(currency);
}

export function formatMoney(amount: number, currency: string, locale = "en-US"): string {
  const digits = minorUnitDigits(currency);
  // Intl formats a decimal string exactly, where amount / 10 ** digits would be a rounded double.
  return new Intl.NumberFormat(locale, {
    style: "currency",
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(toDecimalString(amount, digits) as `${number}`);
}

/** "999,999.99 USD": the amount with its currency code, grouped, in every locale alike (for messages). */
export function formatAmount(amount: number | bigint, currency: string): string {
  const digits = minorUnitDigits(currency);
  return `${groupedDecimal(digits).format(toDecimalString(amount, digits) as `${number}`)} ${currency}`;
}

/** One formatter per number of decimals: building an Intl.NumberFormat costs far more than using one. */
const groupedDecimals = new Map<number, Intl.NumberFormat>();
function groupedDecimal(digits: number): Intl.NumberFormat {
  let format = groupedDecimals.get(digits);
  if (!format) {
    format = new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
    groupedDecimals.set(digits, format);
  }
  return format;
}
