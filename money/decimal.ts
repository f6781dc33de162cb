// Integer amounts as decimal strings and back, by string and bigint arithmetic only: a double
// cannot hold most decimal fractions (0.1 + 0.2), and above 2^53 not even every integer.

/** The integer `units` (counted in 10^-decimals) as a plain decimal: 3998, 2 → "39.98"; 5000, 0 → "5000". */
export function toDecimalString(units: number | bigint, decimals: number): string {
  if (typeof units === "number" && !Number.isSafeInteger(units)) throw new RangeError(`${units} is not a safe integer`);
  assertDecimals(decimals);
  const value = BigInt(units);
  const sign = value < 0n ? "-" : "";
  const digits = (value < 0n ? -value : value).toString().padStart(decimals + 1, "0");
  if (decimals === 0) return sign + digits;
  return `${sign}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

/**
 * The number of 10^-decimals units a plain non-negative decimal ("39.98", "5000", "39.9") stands
 * for; undefined when it is not one (a sign, an exponent, a stray character) or when it would need
 * rounding (more non-zero decimals than `decimals`). Trailing zeros beyond `decimals` are exact and
 * accepted: "5000.00" with 0 decimals is 5000.
 */
export function parseDecimalString(value: string, decimals: number): bigint | undefined {
  assertDecimals(decimals);
  const match = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (!match) return undefined;
  const fraction = (match[2] ?? "").replace(/0+$/, "");
  if (fraction.length > decimals) return undefined;
  return BigInt(match[1]) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
}

function assertDecimals(decimals: number): void {
  if (!Number.isInteger(decimals) || decimals < 0)
    throw new RangeError(`decimals must be a non-negative integer, got ${decimals}`);
}
