// The active currencies of ISO 4217 and their minor units: the unit every amount in this service
// is counted in. Taken from List One of the maintenance agency (SIX), as published 2026-01-01:
// https://www.six-group.com/dam/download/financial-information/data-center/iso-currrency/lists/list-one.xml
//
// Currencies only: List One also carries fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW),
// precious metals (XAU, XAG, XPD, XPT), units of account (XDR, XSU, XUA, XAD, the bond market units
// XBA–XBD) and the testing and no-currency codes (XTS, XXX); nobody is charged in those. Withdrawn
// codes are absent too: HRK (euro, 2023), CUC (2021), ZWL (replaced by ZWG, 2024), SLL (replaced by
// SLE), ANG (replaced by XCG on 2025-03-31), BGN (Bulgaria joined the euro on 2026-01-01).

/** Currencies whose amounts have no minor unit: 500 JPY is 500. */
const WHOLE_UNITS = [
  ...["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"],
];

/** Currencies counted in thousandths: 1.234 KWD is 1234. */
const THOUSANDTHS = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

/**
 * Currencies counted in hundredths. This includes several whose coins are long gone or that card
 * networks and CLDR show without decimals (COP, HUF, IDR, IRR, LBP, MGA, MRU, TWD, ...): ISO 4217
 * still gives them two minor-unit digits, and providers that differ say so in their own rules.
 */
const HUNDREDTHS = [
  ...["AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BMD", "BND", "BOB", "BRL"],
  ...["BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP"],
  ...["DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL"],
  ...["HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP", "LKR"],
  ...["LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN"],
  ...["NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB"],
  ...["SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB"],
  ...["TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "UYU", "UZS", "VED", "VES", "WST", "XCD", "XCG"],
  ...["YER", "ZAR", "ZMW", "ZWG"],
];

/** Every active ISO 4217 currency code, upper case, with its number of minor-unit digits. */
export const ISO_4217: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries([
    ...WHOLE_UNITS.map((code) => [code, 0] as const),
    ...HUNDREDTHS.map((code) => [code, 2] as const),
    ...THOUSANDTHS.map((code) => [code, 3] as const),
  ]),
);

/** Whether `code` is an active ISO 4217 currency (upper case, as amounts carry it). */
export function isIsoCurrency(code: string): boolean {
  return Object.hasOwn(ISO_4217, code);
}

/** The number of minor-unit digits ISO 4217 gives the currency (USD 2, JPY 0, KWD 3). */
export function isoExponent(code: string): number {
  if (!isIsoCurrency(code)) throw new RangeError(`"${code}" is not an active ISO 4217 currency code`);
  return ISO_4217[code];
}
