// Amounts are integers in minor units; only presentation turns them into "$39.98".

/** Where ISO 4217 gives a currency other minor units than CLDR (and so Intl) displays. */
const ISO_4217_MINOR_UNITS: Record<string, number> = {
  AFN: 2,
  ALL: 2,
  COP: 2,
  HUF: 2,
  IDR: 2,
  IQD: 3,
  IRR: 2,
  KPW: 2,
  LAK: 2,
  LBP: 2,
  MGA: 2,
  MMK: 2,
  PKR: 2,
  SLL: 2,
  SOS: 2,
  SYP: 2,
  YER: 2,
};

/** How many minor units a currency has (USD 2, JPY 0, BHD 3), as ISO 4217 defines it. */
export function minorUnitDigits(currency: string): number {
  if (Object.hasOwn(ISO_4217_MINOR_UNITS, currency)) return ISO_4217_MINOR_UNITS[currency];
  return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

export function formatMoney(amount: number, currency: string, locale = "en-US"): string {
  const digits = minorUnitDigits(currency);
  return new Intl.NumberFormat(locale, {
    style: "currency",
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(amount / 10 ** digits);
}
