import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDecimalString, toDecimalString } from "../../money/decimal.ts";
import { formatAmount, formatMoney, minorUnitDigits } from "../../money/format.ts";

/** Intl may separate code and amount with a no-break space; compare with plain spaces. */
const plain = (s: string) => s.replace(/\s/g, " ");

describe("minorUnitDigits", () => {
  it.each([
    ["USD", 2],
    ["EUR", 2],
    ["JPY", 0],
    ["KRW", 0],
    ["BHD", 3],
    ["KWD", 3],
  ])("%s has %i minor-unit digits", (currency, digits) => {
    expect(minorUnitDigits(currency)).toBe(digits);
  });

  it("throws on something that is not a currency code, and on withdrawn and fund codes", () => {
    for (const code of ["US", "usd", "HRK", "BGN", "ANG", "CLF", "XAU", "XTS"])
      expect(() => minorUnitDigits(code)).toThrow(RangeError);
  });
});

describe("minorUnitDigits follows ISO 4217 where Intl (CLDR) disagrees", () => {
  // ISO 4217 list one: IQD has 3 minor units; COP, HUF and IDR have 2. CLDR/ICU display them with 0.
  it.each([
    ["IQD", 3],
    ["COP", 2],
    ["HUF", 2],
    ["IDR", 2],
    ["MGA", 2],
    ["ISK", 0],
  ])("%s has %i minor-unit digits", (currency, digits) => {
    expect(minorUnitDigits(currency)).toBe(digits);
  });
});

describe("formatMoney", () => {
  it("formats cents as dollars", () => {
    expect(formatMoney(3998, "USD")).toBe("$39.98");
    expect(formatMoney(5, "USD")).toBe("$0.05");
    expect(formatMoney(0, "USD")).toBe("$0.00");
    expect(formatMoney(123456789, "USD")).toBe("$1,234,567.89");
  });

  it("formats a currency without minor units as whole amounts", () => {
    expect(formatMoney(3600, "JPY")).toBe("¥3,600");
    expect(formatMoney(1, "JPY")).toBe("¥1");
  });

  it("formats a currency with three minor-unit digits", () => {
    expect(plain(formatMoney(1234, "BHD"))).toBe("BHD 1.234");
    expect(plain(formatMoney(5, "BHD"))).toBe("BHD 0.005");
  });

  it("formats in the locale asked for", () => {
    expect(plain(formatMoney(3998, "EUR", "de-DE"))).toBe("39,98 €");
  });
});

describe("formatAmount", () => {
  it.each([
    [99_999_999, "USD", "999,999.99 USD"],
    [999_999_999_999_999, "USD", "9,999,999,999,999.99 USD"],
    [1230, "KWD", "1.230 KWD"],
    [5000, "ISK", "5,000 ISK"],
    [1n, "JPY", "1 JPY"],
  ])("%s minor units of %s → %s", (amount, currency, text) => {
    expect(formatAmount(amount, currency)).toBe(text);
  });
});

describe("decimal strings", () => {
  it.each([
    [3998, 2, "39.98"],
    [5, 2, "0.05"],
    [5000, 0, "5000"],
    [1230, 3, "1.230"],
    [-1999, 2, "-19.99"],
    [0, 2, "0.00"],
  ])("%i with %i decimals is %s", (units, decimals, text) => {
    expect(toDecimalString(units, decimals)).toBe(text);
  });

  it("reads back exactly what it writes, for any integer and any number of decimals", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.integer({ min: 0, max: 6 }), (units, decimals) => {
        expect(parseDecimalString(toDecimalString(units, decimals), decimals)).toBe(units);
      }),
    );
  });

  it.each([
    ["39.9", 2, 3990n],
    ["5000.00", 0, 5000n],
    ["0.010", 2, 1n],
  ])("reads %s with %i decimals as %s (fewer decimals, or trailing zeros: exact)", (text, decimals, units) => {
    expect(parseDecimalString(text, decimals)).toBe(units);
  });

  it.each([
    ["39.999", 2],
    ["5000.5", 0],
    ["-1.00", 2],
    ["1e3", 0],
    [" 1", 0],
    ["1.", 0],
    [".5", 2],
    ["", 2],
  ])("refuses %j with %i decimals (rounding, or not a plain decimal)", (text, decimals) => {
    expect(parseDecimalString(text, decimals)).toBeUndefined();
  });

  it("refuses amounts a double cannot hold exactly", () => {
    expect(() => toDecimalString(2 ** 53, 2)).toThrow(RangeError);
    expect(() => toDecimalString(12.5, 2)).toThrow(RangeError);
  });
});
