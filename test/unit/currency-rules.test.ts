// providers/currency-rules.ts, property-based: for every ISO 4217 currency at every provider, an
// amount converts to the provider's units and back exactly, or is refused; never rounded.
//
// The expectations are restated here from each provider's documentation, in ISO terms and
// independently of the rules table (`documented` below): which decimals the provider counts in,
// the smallest ISO amount it can take (every amount it takes is a multiple of it) and its largest
// amount in major units. A slip in the table disagrees with them.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AmountTooLargeError, lineTotal, MAX_AMOUNT, orderTotal, orderTotalWithinLimit } from "../../money/amounts.ts";
import { ISO_4217, isIsoCurrency, isoExponent } from "../../money/iso4217.ts";
import {
  CURRENCY_RULES,
  CurrencyRuleError,
  checkAmount,
  fromProviderDecimal,
  fromProviderUnits,
  providerExponent,
  supportedCurrencies,
  toProviderDecimal,
  toProviderUnits,
} from "../../providers/currency-rules.ts";
import { providerDefinitions } from "../../providers/index.ts";
import { GatewayRequestError } from "../../providers/types.ts";

const PROVIDERS = ["sandbox", "stripe", "razorpay", "paypal", "mercadopago"] as const;
type Provider = (typeof PROVIDERS)[number];
const ISO_CURRENCIES = Object.keys(ISO_4217);

interface Documented {
  /** Digits after the decimal point in the provider's amounts. */
  decimals: number;
  /** The smallest ISO amount (minor units) the provider can take exactly. */
  step: bigint;
  /** The largest amount, as a decimal in major units. */
  max?: string;
}

const has = (list: string, code: string) => list.split(" ").includes(code);

/** What the provider's documentation says about this (supported) currency. */
function documented(provider: Provider, currency: string): Documented {
  const iso = isoExponent(currency);
  switch (provider) {
    case "sandbox":
      return { decimals: iso, step: 1n };
    case "stripe": {
      // docs.stripe.com/currencies: zero-decimal list (MGA on it, ISO gives it 2), three-decimal
      // list (last digit 0), special cases ISK and UGX (two decimals, divisible by 100: whole
      // units), twelve digits for IDR and eight for the rest.
      const decimals = has("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF VND VUV XAF XOF XPF", currency)
        ? 0
        : has("BHD JOD KWD OMR TND", currency)
          ? 3
          : 2;
      const step = currency === "MGA" ? 100n : decimals === 3 ? 10n : 1n;
      const digits = currency === "IDR" ? 12 : 8;
      const maxUnits = "9".repeat(digits);
      const max = decimals === 0 ? maxUnits : `${maxUnits.slice(0, -decimals)}.${maxUnits.slice(-decimals)}`;
      return { decimals, step, max };
    }
    case "razorpay":
      // ISO subunits; three-decimal currencies end in 0; no public maximum.
      return { decimals: iso, step: iso === 3 ? 10n : 1n };
    case "paypal":
      // HUF, JPY, TWD without decimals (HUF and TWD have two in ISO: whole units only); 9999999.99 at most.
      return has("HUF JPY TWD", currency)
        ? { decimals: 0, step: 10n ** BigInt(iso), max: "9999999.99" }
        : { decimals: 2, step: 1n, max: "9999999.99" };
    case "mercadopago":
      // Whole pesos in Chile and Colombia (COP has two ISO decimals).
      return has("CLP COP", currency) ? { decimals: 0, step: 10n ** BigInt(iso) } : { decimals: 2, step: 1n };
  }
}

/** The largest ISO amount not above a decimal in major units: floor(max × 10^exponent). */
function isoCeiling(max: string, exponent: number): bigint {
  const [whole, fraction = ""] = max.split(".");
  return BigInt(whole + fraction.padEnd(exponent, "0").slice(0, exponent));
}

function expectedToTake(provider: Provider, currency: string, amount: number): boolean {
  if (!Number.isInteger(amount) || amount <= 0 || amount > MAX_AMOUNT) return false;
  const doc = documented(provider, currency);
  const iso = BigInt(amount);
  return iso % doc.step === 0n && (doc.max === undefined || iso <= isoCeiling(doc.max, isoExponent(currency)));
}

/** Amounts around every boundary that matters: small, multiples of 10 and 100, near each limit, invalid. */
const amounts = fc.oneof(
  fc.integer({ min: 1, max: 10_000 }),
  fc.integer({ min: 1, max: MAX_AMOUNT }),
  fc.integer({ min: 1, max: 10 ** 9 }).map((n) => n * 10),
  fc.integer({ min: 1, max: 10 ** 8 }).map((n) => n * 100),
  fc.integer({ min: -2_000, max: 2_000 }).map((d) => 1_000_000_000 + d), // PayPal's 9,999,999.99
  fc.integer({ min: -2_000, max: 2_000 }).map((d) => 100_000_000 + d), // Stripe's eight digits
  fc.integer({ min: -2_000, max: 2_000 }).map((d) => 10_000_000_000 + d), // MGA, ISK at Stripe
  fc.integer({ min: -2_000, max: 2_000 }).map((d) => 1_000_000_000_000 + d), // IDR at Stripe
  fc.integer({ min: -2_000, max: 0 }).map((d) => MAX_AMOUNT + 1 + d),
  fc.constantFrom(0, -1, -100, MAX_AMOUNT, MAX_AMOUNT + 1, Number.MAX_SAFE_INTEGER, 2 ** 53, 1e20, 12.5, 0.1, Number.NaN),
);

describe.each(PROVIDERS)("%s", (provider) => {
  it("takes an amount exactly when its documentation says so, and then converts it exactly both ways", () => {
    for (const currency of ISO_CURRENCIES) {
      const supported = supportedCurrencies(provider).includes(currency);
      fc.assert(
        fc.property(amounts, (amount) => {
          const check = checkAmount(provider, currency, amount);
          if (!supported) {
            expect(check).toMatchObject({ ok: false, field: "currency", reason: expect.stringContaining(provider) });
            expect(() => toProviderUnits(provider, currency, amount)).toThrow(CurrencyRuleError);
            return;
          }
          expect(check.ok).toBe(expectedToTake(provider, currency, amount));
          if (!check.ok) {
            expect(check.field).toBe("amount");
            expect(() => toProviderUnits(provider, currency, amount)).toThrow(CurrencyRuleError);
            expect(() => toProviderDecimal(provider, currency, amount)).toThrow(CurrencyRuleError);
            return;
          }
          const doc = documented(provider, currency);
          const iso = isoExponent(currency);
          // units / 10^decimals and amount / 10^iso are the same number of major units, exactly.
          expect(BigInt(check.units) * 10n ** BigInt(iso)).toBe(BigInt(amount) * 10n ** BigInt(doc.decimals));
          expect(toProviderUnits(provider, currency, amount)).toBe(check.units);
          expect(fromProviderUnits(provider, currency, check.units)).toBe(amount);

          const decimal = toProviderDecimal(provider, currency, amount);
          expect(decimal).toMatch(doc.decimals === 0 ? /^\d+$/ : new RegExp(`^\\d+\\.\\d{${doc.decimals}}$`));
          expect(BigInt(decimal.replace(".", ""))).toBe(BigInt(check.units));
          expect(fromProviderDecimal(provider, currency, decimal)).toBe(amount);
        }),
        { numRuns: 60 },
      );
    }
  });

  it("reads back only units it could have sent, as the amount it would have sent them for", () => {
    const currencies = supportedCurrencies(provider);
    fc.assert(
      fc.property(
        fc.constantFrom(...currencies),
        fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.double()),
        (currency, units) => {
          let amount: number;
          try {
            amount = fromProviderUnits(provider, currency, units);
          } catch (err) {
            expect(err).toBeInstanceOf(CurrencyRuleError);
            return;
          }
          expect(toProviderUnits(provider, currency, amount)).toBe(units);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("reads back a decimal as the exact amount, or refuses it", () => {
    const currencies = supportedCurrencies(provider);
    const decimals = fc
      .tuple(fc.bigInt({ min: 0n, max: 10n ** 16n }), fc.integer({ min: 0, max: 4 }), fc.boolean())
      .map(([digits, places, trailingZero]) => {
        const text = digits.toString().padStart(places + 1, "0");
        const value = places === 0 ? text : `${text.slice(0, -places)}.${text.slice(-places)}`;
        return trailingZero && places > 0 ? `${value}0` : value;
      });
    fc.assert(
      fc.property(fc.constantFrom(...currencies), decimals, (currency, value) => {
        let amount: number;
        try {
          amount = fromProviderDecimal(provider, currency, value);
        } catch (err) {
          expect(err).toBeInstanceOf(CurrencyRuleError);
          return;
        }
        // The same number as what we would send for that amount (which has exactly the provider's decimals).
        const exponent = providerExponent(provider, currency);
        const sent = toProviderDecimal(provider, currency, amount);
        const scaled = (text: string) => {
          const [whole, fraction = ""] = text.split(".");
          return BigInt(whole + fraction.padEnd(8, "0"));
        };
        expect(scaled(sent)).toBe(scaled(value));
        expect(sent.split(".")[1]?.length ?? 0).toBe(exponent);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("supported currencies", () => {
  it("every provider with an adapter has rules", () => {
    for (const provider of ["sandbox", ...providerDefinitions.map((d) => d.provider)]) {
      expect(Object.keys(CURRENCY_RULES)).toContain(provider);
    }
  });

  it("are active ISO 4217 currencies only", () => {
    for (const provider of PROVIDERS) for (const code of supportedCurrencies(provider)) expect(isIsoCurrency(code)).toBe(true);
  });

  it("are what each provider documents", () => {
    expect(supportedCurrencies("sandbox")).toEqual([...ISO_CURRENCIES].sort());
    expect(supportedCurrencies("paypal")).toEqual(
      "AUD BRL CAD CHF CNY CZK DKK EUR GBP HKD HUF ILS JPY MXN MYR NOK NZD PHP PLN SEK SGD THB TWD USD".split(" "),
    );
    expect(supportedCurrencies("mercadopago")).toEqual(["ARS", "BRL", "CLP", "COP", "MXN", "PEN", "UYU"]);
    expect(supportedCurrencies("razorpay")).toEqual(ISO_CURRENCIES.filter((c) => !has("KPW IRR SYP CUP VES VED", c)).sort());
    const stripe = supportedCurrencies("stripe");
    for (const code of "USD EUR JPY ISK MGA UGX HUF TWD IDR BHD JOD KWD OMR TND SLE".split(" ")) expect(stripe).toContain(code);
    for (const code of "IQD LYD KPW IRR CUP SYP VES".split(" ")) expect(stripe).not.toContain(code);
  });
});

describe("special cases", () => {
  it.each([
    ["stripe", "ISK", 5_000, 500_000], // 5,000 ISK: two decimals at Stripe
    ["stripe", "UGX", 5_000, 500_000],
    ["stripe", "MGA", 10_000, 100], // 100.00 MGA: whole ariary at Stripe
    ["stripe", "KWD", 1_230, 1_230],
    ["razorpay", "KWD", 1_230, 1_230],
    ["stripe", "JPY", 5_000, 5_000],
    ["paypal", "JPY", 5_000, 5_000],
    ["paypal", "HUF", 500_000, 5_000],
    ["stripe", "HUF", 500_050, 500_050],
    ["stripe", "IDR", 300_000_000_000, 300_000_000_000], // IDR 3,000,000,000.00: twelve digits
    ["stripe", "USD", 99_999_999, 99_999_999],
    ["mercadopago", "CLP", 5_000, 5_000],
    ["mercadopago", "COP", 500_000, 5_000],
    ["sandbox", "KWD", 1_234, 1_234],
  ])("%s takes %s %i as %i of its units", (provider, currency, amount, units) => {
    expect(checkAmount(provider, currency, amount)).toEqual({ ok: true, units });
  });

  it.each([
    ["paypal", "HUF", 500_000, "5000"],
    ["paypal", "USD", 3_998, "39.98"],
    ["paypal", "JPY", 1_500, "1500"],
    ["paypal", "TWD", 12_300, "123"],
    ["mercadopago", "BRL", 1_990, "19.90"],
    ["mercadopago", "COP", 500_000, "5000"],
    ["stripe", "ISK", 5_000, "5000.00"],
  ])("%s writes %s %i as %s", (provider, currency, amount, decimal) => {
    expect(toProviderDecimal(provider, currency, amount)).toBe(decimal);
    expect(fromProviderDecimal(provider, currency, decimal)).toBe(amount);
  });

  it.each([
    ["stripe", "MGA", 150, "amount", "stripe takes MGA only in multiples of 1.00 MGA: 1.50 MGA would need rounding"],
    ["stripe", "KWD", 1_234, "amount", "stripe takes KWD only in multiples of 0.010 KWD: 1.234 KWD would need rounding"],
    ["razorpay", "KWD", 1_234, "amount", "razorpay takes KWD only in multiples of 0.010 KWD: 1.234 KWD would need rounding"],
    ["paypal", "HUF", 500_050, "amount", "paypal takes HUF only in multiples of 1.00 HUF: 5,000.50 HUF would need rounding"],
    [
      "mercadopago",
      "COP",
      500_050,
      "amount",
      "mercadopago takes COP only in multiples of 1.00 COP: 5,000.50 COP would need rounding",
    ],
    ["stripe", "USD", 100_000_000, "amount", "stripe charges at most 999,999.99 USD"],
    ["stripe", "IDR", 1_000_000_000_000, "amount", "stripe charges at most 9,999,999,999.99 IDR"],
    ["stripe", "ISK", 100_000_000, "amount", "stripe charges at most 999,999 ISK"],
    ["stripe", "MGA", 10_000_000_000, "amount", "stripe charges at most 99,999,999.00 MGA"],
    ["stripe", "KWD", 100_000_000, "amount", "stripe charges at most 99,999.990 KWD"], // eight digits, the last one 0
    ["paypal", "USD", 1_000_000_000, "amount", "paypal charges at most 9,999,999.99 USD"],
    ["paypal", "JPY", 10_000_000, "amount", "paypal charges at most 9,999,999 JPY"],
    ["paypal", "ISK", 5_000, "currency", "paypal does not take ISK; it takes AUD, BRL, CAD, CHF"],
    ["mercadopago", "USD", 100, "currency", "mercadopago does not take USD; it takes ARS, BRL, CLP, COP, MXN, PEN, UYU"],
    ["razorpay", "IRR", 100, "currency", "razorpay does not take IRR"],
    ["stripe", "KPW", 100, "currency", "stripe does not take KPW"],
    ["sandbox", "HRK", 100, "currency", '"HRK" is not an active ISO 4217 currency code'],
    ["sandbox", "USD", 0, "amount", "an amount must be positive, not 0 USD minor units"],
    ["sandbox", "USD", 12.5, "amount", "an amount is a whole number of USD minor units, not 12.5"],
    ["sandbox", "USD", MAX_AMOUNT + 1, "amount", "an amount is at most 9,999,999,999,999.99 USD"],
  ])("%s refuses %s %d (%s): %s", (provider, currency, amount, field, reason) => {
    expect(checkAmount(provider, currency, amount)).toEqual({ ok: false, field, reason: expect.stringContaining(reason) });
    let thrown: unknown;
    try {
      toProviderUnits(provider, currency, amount);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CurrencyRuleError);
    expect(thrown).toBeInstanceOf(GatewayRequestError);
    expect(thrown).toMatchObject({ field, message: expect.stringContaining(reason) });
  });

  it("the largest amounts a provider takes are taken, one step more is not", () => {
    expect(checkAmount("stripe", "ISK", 999_999)).toEqual({ ok: true, units: 99_999_900 });
    expect(checkAmount("stripe", "MGA", 9_999_999_900)).toEqual({ ok: true, units: 99_999_999 });
    expect(checkAmount("stripe", "IDR", 999_999_999_999)).toEqual({ ok: true, units: 999_999_999_999 });
    expect(checkAmount("stripe", "KWD", 99_999_990)).toEqual({ ok: true, units: 99_999_990 });
    expect(checkAmount("stripe", "KWD", 100_000_000).ok).toBe(false);
    expect(checkAmount("paypal", "HUF", 999_999_900)).toEqual({ ok: true, units: 9_999_999 });
    expect(checkAmount("paypal", "HUF", 1_000_000_000).ok).toBe(false);
    expect(checkAmount("sandbox", "USD", MAX_AMOUNT)).toEqual({ ok: true, units: MAX_AMOUNT });
  });

  it("refuses units and decimals that are no amount it could have sent", () => {
    expect(() => fromProviderUnits("stripe", "ISK", 500_050)).toThrow(CurrencyRuleError); // not whole krónur
    expect(() => fromProviderUnits("stripe", "KWD", 1_234)).toThrow(CurrencyRuleError);
    expect(() => fromProviderUnits("stripe", "USD", 100_000_000)).toThrow(CurrencyRuleError);
    expect(fromProviderUnits("stripe", "MGA", 100)).toBe(10_000);
    expect(() => fromProviderDecimal("paypal", "HUF", "5000.5")).toThrow(CurrencyRuleError);
    expect(() => fromProviderDecimal("paypal", "USD", "-1.00")).toThrow(CurrencyRuleError);
    expect(() => fromProviderDecimal("paypal", "USD", "1e3")).toThrow(CurrencyRuleError);
    expect(fromProviderDecimal("paypal", "HUF", "5000.00")).toBe(500_000);
    expect(fromProviderDecimal("mercadopago", "BRL", "19.9")).toBe(1_990);
  });

  it("throws a plain error for a provider without rules (not a currency problem)", () => {
    expect(() => checkAmount("adyen", "USD", 100)).toThrow(/no currency rules/);
    expect(() => checkAmount("adyen", "USD", 100)).not.toThrow(CurrencyRuleError);
  });
});

describe("Mercado Pago's JSON numbers", () => {
  it("carry the decimal exactly, up to MAX_AMOUNT", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...supportedCurrencies("mercadopago")),
        fc.oneof(fc.integer({ min: 1, max: MAX_AMOUNT }), fc.integer({ min: MAX_AMOUNT - 10_000, max: MAX_AMOUNT })),
        (currency, amount) => {
          if (!checkAmount("mercadopago", currency, amount).ok) return;
          const json = JSON.stringify({ transaction_amount: Number(toProviderDecimal("mercadopago", currency, amount)) });
          const read = (JSON.parse(json) as { transaction_amount: number }).transaction_amount;
          expect(fromProviderDecimal("mercadopago", currency, String(read))).toBe(amount);
        },
      ),
      { numRuns: 5_000 },
    );
  });
});

describe("money/amounts.ts", () => {
  const quantity = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 10 ** 9 }));
  const unitAmount = fc.oneof(
    fc.integer({ min: 1, max: 100_000 }),
    fc.integer({ min: 1, max: MAX_AMOUNT }),
    fc.integer({ min: MAX_AMOUNT - 1_000, max: MAX_AMOUNT }),
  );
  const line = fc.record({ quantity, unitAmount });

  it("line totals are exact up to MAX_AMOUNT and refused above", () => {
    fc.assert(
      fc.property(line, (l) => {
        const exact = BigInt(l.quantity) * BigInt(l.unitAmount);
        if (exact > BigInt(MAX_AMOUNT)) {
          expect(() => lineTotal(l)).toThrow(AmountTooLargeError);
        } else {
          expect(BigInt(lineTotal(l))).toBe(exact);
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it("order totals are exact up to MAX_AMOUNT and refused above, however many lines", () => {
    const lines = fc.oneof(
      fc.array(line, { minLength: 1, maxLength: 20 }),
      // Many lines just under the limit between them: sums near MAX_AMOUNT, where doubles round.
      fc
        .array(fc.integer({ min: 1, max: 10 ** 6 }), { minLength: 2, maxLength: 10 })
        .map((parts) => parts.map((p) => ({ quantity: 1, unitAmount: Math.floor(MAX_AMOUNT / parts.length) - p }))),
    );
    fc.assert(
      fc.property(lines, (ls) => {
        const exact = ls.reduce((sum, l) => sum + BigInt(l.quantity) * BigInt(l.unitAmount), 0n);
        if (exact > BigInt(MAX_AMOUNT)) {
          expect(() => orderTotal(ls)).toThrow(AmountTooLargeError);
          expect(orderTotalWithinLimit(ls)).toBeUndefined();
        } else {
          expect(BigInt(orderTotal(ls))).toBe(exact);
          expect(orderTotalWithinLimit(ls)).toBe(Number(exact));
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it("a sum a double would round is still exact", () => {
    // 2^53 + 1 cannot be a double; here the lines stay within MAX_AMOUNT and must add up to the digit.
    const lines = [
      { quantity: 3, unitAmount: 333_333_333_333_333 },
      { quantity: 1, unitAmount: 0 },
    ];
    expect(orderTotal(lines)).toBe(999_999_999_999_999);
    expect(() => orderTotal([...lines, { quantity: 1, unitAmount: 1 }])).toThrow(AmountTooLargeError);
  });
});
