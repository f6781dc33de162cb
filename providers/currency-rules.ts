// What each payment provider takes, currency by currency, and the exact conversions between our
// amounts (integers in ISO 4217 minor units, everywhere in this service) and the provider's.
//
// Providers disagree with ISO 4217 and with each other: Stripe counts ISK and UGX in hundredths
// though ISO gives them none, and MGA in whole ariary though ISO gives it two decimals; PayPal
// takes HUF and TWD in whole units only; three-decimal currencies must end in 0 at Stripe and
// Razorpay. An amount that cannot be sent as it is must be refused, never rounded: the customer
// would pay another amount than the order says. checkAmount is for the API, to refuse a checkout
// (422, with the reason) before any workflow starts; the adapters convert with toProviderUnits /
// toProviderDecimal and so throw a CurrencyRuleError should anything get past it.
//
// Arithmetic is on bigint: 999,999,999,999,999 ISK is 99,999,999,999,999,900 Stripe units, past
// what a double holds exactly, before the limit check says no.
import { MAX_AMOUNT } from "../money/amounts.ts";
import { parseDecimalString, toDecimalString } from "../money/decimal.ts";
import { formatAmount } from "../money/format.ts";
import { ISO_4217, isIsoCurrency, isoExponent } from "../money/iso4217.ts";
import { GatewayRequestError } from "./types.ts";

export type ProviderName = "sandbox" | "stripe" | "razorpay" | "paypal" | "mercadopago";

/** How one provider takes amounts. Unlisted currencies in the by-currency fields take the default. */
export interface ProviderCurrencyRules {
  /** Where the rules come from. */
  readonly source: string;
  /** The currencies the provider charges in: a list, or every ISO 4217 currency but some. */
  readonly currencies: readonly string[] | { readonly everyIsoCurrencyBut: readonly string[] };
  /** Digits after the decimal point in the provider's amounts: ISO 4217's, or a fixed number. */
  readonly decimals: "iso" | number;
  readonly decimalsFor?: Readonly<Record<string, number>>;
  /** Provider amounts must be a multiple of this many of the provider's units (default 1). */
  readonly multipleOf?: Readonly<Record<string, number>>;
  /** The largest amount in the provider's units (Stripe counts digits), by default and by currency. */
  readonly maxUnits?: number;
  readonly maxUnitsFor?: Readonly<Record<string, number>>;
  /** The largest amount as a decimal in major units, whatever the currency (PayPal's 9999999.99). */
  readonly maxValue?: string;
}

const THREE_DECIMALS_AT_STRIPE = ["BHD", "JOD", "KWD", "OMR", "TND"];

/** Stripe's zero-decimal list but UGX, which its special cases count in hundredths (see below). */
const ZERO_DECIMALS_AT_STRIPE = [
  ...["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "VND", "VUV", "XAF", "XOF", "XPF"],
];

/**
 * Stripe's presentment currencies that are active ISO 4217 codes. Stripe's list still names the
 * withdrawn ANG, BGN and STD; it does not name XCG and STN, their successors, so those are refused
 * here until Stripe lists them (an inference: Stripe may take them already).
 */
const STRIPE_CURRENCIES = [
  ...["USD", "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BHD", "BIF", "BMD"],
  ...["BND", "BOB", "BRL", "BSD", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CVE", "CZK"],
  ...["DJF", "DKK", "DOP", "DZD", "EGP", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GIP", "GMD", "GNF", "GTQ", "GYD"],
  ...["HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KRW"],
  ...["KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MUR"],
  ...["MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP"],
  ...["PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SEK", "SGD", "SHP", "SLE", "SOS"],
  ...["SRD", "SZL", "THB", "TJS", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "UYU", "UZS", "VND", "VUV"],
  ...["WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW"],
];

const each = (codes: readonly string[], value: number) => Object.fromEntries(codes.map((code) => [code, value]));
const threeDecimalIsoCurrencies = Object.keys(ISO_4217).filter((code) => ISO_4217[code] === 3);

/** The rules, side by side; the table the conversions below read and nothing else. */
export const CURRENCY_RULES: Readonly<Record<ProviderName, ProviderCurrencyRules>> = {
  // Our own sandbox service (api/routes/sandbox.ts) keeps amounts exactly as we do.
  sandbox: {
    source: "api/routes/sandbox.ts: ISO 4217 minor units, every ISO currency",
    currencies: { everyIsoCurrencyBut: [] },
    decimals: "iso",
  },

  stripe: {
    source:
      "https://docs.stripe.com/currencies (presentment currencies, #zero-decimal, #three-decimal, #special-cases, " +
      "#minimum-and-maximum-charge-amounts); https://support.stripe.com/questions/deprecation-of-fractional-isk-charges-and-refunds",
    currencies: STRIPE_CURRENCIES,
    // "All API requests expect amounts in the currency's smallest unit": two decimals but for the
    // zero- and three-decimal lists. Stripe's own list, not ISO's: MGA is zero-decimal at Stripe.
    decimals: 2,
    decimalsFor: { ...each(ZERO_DECIMALS_AT_STRIPE, 0), ...each(THREE_DECIMALS_AT_STRIPE, 3) },
    multipleOf: {
      // Three-decimal currencies: "the least-significant (last) digit [must] be 0".
      ...each(THREE_DECIMALS_AT_STRIPE, 10),
      // Special cases: ISK and UGX are sent with two decimals for backwards compatibility and
      // "the amount value must be evenly divisible by 100" (else 400
      // invalid_charge_amount_no_decimal_compatible). UGX is also on Stripe's zero-decimal list;
      // the special case, and the error merchants report for UGX amounts not divisible by 100,
      // say otherwise, and sending whole shillings would charge a hundredth of the price. (Whole
      // krónur and shillings, ×100, always are: the rule matters for reading amounts back.)
      ISK: 100,
      UGX: 100,
    },
    // "Up to twelve digits for IDR ..., and up to eight digits for all other currencies". HUF and
    // TWD need nothing: Stripe charges them with two decimals (only payouts are whole units).
    maxUnits: 99_999_999,
    maxUnitsFor: { IDR: 999_999_999_999 },
  },

  razorpay: {
    source:
      "https://razorpay.com/docs/payments/international-payments/#supported-currencies; " +
      "https://razorpay.com/docs/api/orders/create/ (amount in the currency subunit)",
    // Razorpay takes 100+ currencies in their ISO subunits; it refuses the sanctioned ones. Taking
    // every other ISO currency is an inference: an account may have fewer enabled.
    currencies: { everyIsoCurrencyBut: ["KPW", "IRR", "SYP", "CUP", "VES", "VED"] },
    decimals: "iso",
    // "For three decimal currencies ... the last decimal must be 0" (295.991 KWD cannot be
    // charged). Razorpay names KWD, BHD and OMR; applying it to every three-decimal ISO currency
    // (IQD, JOD, LYD, TND too) is an inference. No fixed public maximum: limits are per account.
    multipleOf: each(threeDecimalIsoCurrencies, 10),
  },

  paypal: {
    source:
      "https://developer.paypal.com/reference/currency-codes/; " +
      "https://developer.paypal.com/docs/api/orders/v2/#error-MAX_VALUE_EXCEEDED",
    currencies: [
      ...["AUD", "BRL", "CAD", "CNY", "CZK", "DKK", "EUR", "HKD", "HUF", "ILS", "JPY", "MYR", "MXN", "TWD", "NZD", "NOK"],
      ...["PHP", "PLN", "GBP", "SGD", "SEK", "CHF", "THB", "USD"],
    ],
    // `value` is a decimal string; HUF, JPY and TWD "do not support decimals".
    decimals: 2,
    decimalsFor: { HUF: 0, JPY: 0, TWD: 0 },
    // MAX_VALUE_EXCEEDED: "Should be less than or equal to 9999999.99". That it holds for every
    // currency alike (9,999,999 JPY, HUF, TWD) is an inference from the message.
    maxValue: "9999999.99",
  },

  mercadopago: {
    source:
      "https://www.mercadopago.com.br/developers/en/reference/payments/_payments/post (transaction_amount); " +
      "https://www.mercadopago.com.br/developers/en/docs/checkout-api/additional-content/sites-and-currencies",
    // One currency per site; a payment is in its account's site currency (the API takes none).
    currencies: ["ARS", "BRL", "CLP", "COP", "MXN", "PEN", "UYU"],
    // transaction_amount is a decimal in major units; CLP and COP take whole units only. No public
    // maximum; MAX_AMOUNT keeps the decimal within the 15 digits a JSON number carries exactly.
    decimals: 2,
    decimalsFor: { CLP: 0, COP: 0 },
  },
};

/** An amount or currency a provider cannot take as it is: the request must not be sent. */
export class CurrencyRuleError extends GatewayRequestError {
  override name = "CurrencyRuleError";
  constructor(
    readonly field: "currency" | "amount",
    reason: string,
  ) {
    super(reason);
  }
}

export type AmountCheck = { ok: true; units: number } | { ok: false; field: "currency" | "amount"; reason: string };

/**
 * Whether `provider` can take `minorUnits` (ISO 4217 minor units) of `currency` exactly, and as
 * how many of its own units. The reason of a refusal is a sentence for the API's 422: it names the
 * provider and the limit. Throws on a provider that has no rules (not a currency problem).
 */
export function checkAmount(provider: string, currency: string, minorUnits: number): AmountCheck {
  const rule = ruleFor(provider, currency);
  if ("refusal" in rule) return { ok: false, field: "currency", reason: rule.refusal };
  const invalid = invalidAmount(currency, minorUnits);
  if (invalid) return { ok: false, field: "amount", reason: invalid };
  const iso = BigInt(minorUnits);
  if (iso % rule.isoStep !== 0n) {
    return {
      ok: false,
      field: "amount",
      reason: `${provider} takes ${currency} only in multiples of ${formatAmount(rule.isoStep, currency)}: ${formatAmount(iso, currency)} would need rounding`,
    };
  }
  const units = unitsOf(rule, iso);
  if (units > rule.maxUnits) {
    return {
      ok: false,
      field: "amount",
      reason: `${provider} charges at most ${formatAmount(largestIsoAmount(rule), currency)}`,
    };
  }
  return { ok: true, units: Number(units) };
}

/** The amount in the provider's units; throws CurrencyRuleError where checkAmount refuses. */
export function toProviderUnits(provider: string, currency: string, minorUnits: number): number {
  const check = checkAmount(provider, currency, minorUnits);
  if (!check.ok) throw new CurrencyRuleError(check.field, check.reason);
  return check.units;
}

/** The exact inverse of toProviderUnits: throws CurrencyRuleError for units it cannot have made. */
export function fromProviderUnits(provider: string, currency: string, units: number): number {
  const rule = ruleFor(provider, currency);
  if ("refusal" in rule) throw new CurrencyRuleError("currency", rule.refusal);
  if (!Number.isSafeInteger(units) || units <= 0) {
    throw new CurrencyRuleError("amount", `${units} is not a positive whole number of ${provider} units of ${currency}`);
  }
  const iso = isoOf(rule, BigInt(units));
  if (iso === undefined) {
    throw new CurrencyRuleError("amount", `${units} ${provider} units of ${currency} are not a whole number of ISO minor units`);
  }
  // Above 2^53 Number(iso) is inexact, but then it is above MAX_AMOUNT either way, and refused.
  const check = checkAmount(provider, currency, Number(iso));
  if (!check.ok) throw new CurrencyRuleError(check.field, check.reason);
  return Number(iso);
}

/** Major units as the provider's decimal, with exactly its decimals: "39.98", "5000" (HUF at PayPal). */
export function toProviderDecimal(provider: string, currency: string, minorUnits: number): string {
  return toDecimalString(toProviderUnits(provider, currency, minorUnits), providerExponent(provider, currency));
}

/** The ISO minor units a provider's decimal stands for ("39.9" and "39.90" alike); throws CurrencyRuleError. */
export function fromProviderDecimal(provider: string, currency: string, value: string): number {
  const units = parseDecimalString(value, providerExponent(provider, currency));
  if (units === undefined || units > SAFE) {
    throw new CurrencyRuleError("amount", `"${value}" is not an amount of ${currency} ${provider} can have sent`);
  }
  return fromProviderUnits(provider, currency, Number(units));
}

/** The currencies the provider charges in, sorted. */
export function supportedCurrencies(provider: string): string[] {
  const { currencies } = rulesOf(provider);
  if (!("everyIsoCurrencyBut" in currencies)) return [...currencies].sort();
  return Object.keys(ISO_4217)
    .filter((code) => !currencies.everyIsoCurrencyBut.includes(code))
    .sort();
}

/** Digits after the decimal point in the provider's amounts of this currency; throws CurrencyRuleError when it takes none. */
export function providerExponent(provider: string, currency: string): number {
  const rule = ruleFor(provider, currency);
  if ("refusal" in rule) throw new CurrencyRuleError("currency", rule.refusal);
  return rule.exponent;
}

// --- the table, resolved for one currency ---------------------------------------------------

interface ResolvedRule {
  isoExponent: number;
  exponent: number;
  /** Provider units must be a multiple of this. */
  multipleOf: bigint;
  /** The smallest ISO amount the provider can take, of which every amount it takes is a multiple. */
  isoStep: bigint;
  maxUnits: bigint;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function rulesOf(provider: string): ProviderCurrencyRules {
  if (!Object.hasOwn(CURRENCY_RULES, provider)) throw new Error(`no currency rules for the provider "${provider}"`);
  return CURRENCY_RULES[provider as ProviderName];
}

function ruleFor(provider: string, currency: string): ResolvedRule | { refusal: string } {
  const rules = rulesOf(provider);
  if (!isIsoCurrency(currency)) return { refusal: `${JSON.stringify(currency)} is not an active ISO 4217 currency code` };
  const { currencies } = rules;
  const takes =
    "everyIsoCurrencyBut" in currencies ? !currencies.everyIsoCurrencyBut.includes(currency) : currencies.includes(currency);
  if (!takes) {
    // A short list helps the client pick another currency; Stripe's 130 would drown the sentence.
    const taken = supportedCurrencies(provider);
    const list = taken.length <= 30 ? `; it takes ${taken.join(", ")}` : "";
    return { refusal: `${provider} does not take ${currency}${list}` };
  }
  const iso = isoExponent(currency);
  const exponent = rules.decimalsFor?.[currency] ?? (rules.decimals === "iso" ? iso : rules.decimals);
  const multipleOf = BigInt(rules.multipleOf?.[currency] ?? 1);
  // Never more than a safe integer of provider units: they travel as JSON numbers.
  let maxUnits = BigInt(rules.maxUnitsFor?.[currency] ?? rules.maxUnits ?? Number.MAX_SAFE_INTEGER);
  if (rules.maxValue !== undefined) {
    // The largest whole number of provider units not above the value (9999999.99 → 9999999 JPY).
    const [whole, fraction = ""] = rules.maxValue.split(".");
    const fromValue = BigInt(whole + fraction.padEnd(exponent, "0").slice(0, exponent));
    if (fromValue < maxUnits) maxUnits = fromValue;
  }
  if (maxUnits > SAFE) maxUnits = SAFE;
  return { isoExponent: iso, exponent, multipleOf, isoStep: isoStepOf(iso, exponent, multipleOf), maxUnits };
}

/** The ISO amount that is one multipleOf of provider units, rounded up to a whole ISO minor unit. */
function isoStepOf(isoExponent: number, exponent: number, multipleOf: bigint): bigint {
  if (exponent <= isoExponent) return 10n ** BigInt(isoExponent - exponent) * multipleOf;
  // The provider counts finer than ISO: n ISO minor units are n·10^k provider units, a multiple of
  // multipleOf exactly when n is a multiple of multipleOf / gcd(multipleOf, 10^k).
  const factor = 10n ** BigInt(exponent - isoExponent);
  return multipleOf / gcd(multipleOf, factor);
}

function unitsOf(rule: ResolvedRule, iso: bigint): bigint {
  return rule.exponent >= rule.isoExponent
    ? iso * 10n ** BigInt(rule.exponent - rule.isoExponent)
    : iso / 10n ** BigInt(rule.isoExponent - rule.exponent);
}

/** The ISO amount of `units`, or undefined when they fall between two ISO minor units. */
function isoOf(rule: ResolvedRule, units: bigint): bigint | undefined {
  if (rule.exponent <= rule.isoExponent) return units * 10n ** BigInt(rule.isoExponent - rule.exponent);
  const factor = 10n ** BigInt(rule.exponent - rule.isoExponent);
  return units % factor === 0n ? units / factor : undefined;
}

/** The largest ISO amount the provider takes: its maximum, down to a whole step, and within MAX_AMOUNT. */
function largestIsoAmount(rule: ResolvedRule): bigint {
  const fromUnits =
    rule.exponent >= rule.isoExponent
      ? rule.maxUnits / 10n ** BigInt(rule.exponent - rule.isoExponent)
      : rule.maxUnits * 10n ** BigInt(rule.isoExponent - rule.exponent);
  const largest = fromUnits < BigInt(MAX_AMOUNT) ? fromUnits : BigInt(MAX_AMOUNT);
  return largest - (largest % rule.isoStep);
}

/** Why `minorUnits` is no amount at all (whichever the provider), or undefined. */
function invalidAmount(currency: string, minorUnits: number): string | undefined {
  if (!Number.isInteger(minorUnits)) return `an amount is a whole number of ${currency} minor units, not ${minorUnits}`;
  if (minorUnits <= 0) return `an amount must be positive, not ${minorUnits} ${currency} minor units`;
  if (minorUnits > MAX_AMOUNT) return `an amount is at most ${formatAmount(MAX_AMOUNT, currency)}`;
  return undefined;
}

function gcd(a: bigint, b: bigint): bigint {
  return b === 0n ? a : gcd(b, a % b);
}
