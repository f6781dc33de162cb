import { describe, expect, it } from "vitest";
import { formatMoney, minorUnitDigits } from "../../money/format.ts";

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

  it("throws on something that is not a currency code", () => {
    expect(() => minorUnitDigits("US")).toThrow(RangeError);
  });
});

describe("minorUnitDigits follows ISO 4217 where Intl (CLDR) disagrees", () => {
  // ISO 4217 list one: IQD has 3 minor units; COP, HUF and IDR have 2. CLDR/ICU display them with 0.
  it.each([
    ["IQD", 3],
    ["COP", 2],
    ["HUF", 2],
    ["IDR", 2],
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
