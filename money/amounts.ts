// Amounts are integers in a currency's minor units (ISO 4217), at most MAX_AMOUNT, in every
// currency: small enough to be exact as a JavaScript number (below 2^53), in a PostgreSQL BIGINT,
// and as a decimal with 15 significant digits, which is what survives a trip through a JSON
// number at the providers that take decimals (Mercado Pago). Sums are computed exactly (bigint).

/** 999,999,999,999,999 minor units: USD 9,999,999,999,999.99, JPY 999,999,999,999,999, KWD 999,999,999,999.999. */
export const MAX_AMOUNT = 999_999_999_999_999;

export class AmountTooLargeError extends RangeError {
  override name = "AmountTooLargeError";
}

export interface PricedLine {
  quantity: number;
  unitAmount: number;
}

/** quantity × unitAmount, exactly; throws AmountTooLargeError above MAX_AMOUNT. */
export function lineTotal(line: PricedLine): number {
  return checked(BigInt(line.quantity) * BigInt(line.unitAmount));
}

/** The sum of the lines, exactly; throws AmountTooLargeError above MAX_AMOUNT. */
export function orderTotal(lines: readonly PricedLine[]): number {
  return checked(lines.reduce((sum, line) => sum + BigInt(line.quantity) * BigInt(line.unitAmount), 0n));
}

/** The order total, or undefined when it is above MAX_AMOUNT (for validation messages). */
export function orderTotalWithinLimit(lines: readonly PricedLine[]): number | undefined {
  try {
    return orderTotal(lines);
  } catch (err) {
    if (err instanceof AmountTooLargeError) return undefined;
    throw err;
  }
}

/** A BIGINT read from the database, as the number it always fits in. */
export function fromDb(value: bigint): number {
  if (value > BigInt(MAX_AMOUNT) || value < -BigInt(MAX_AMOUNT)) {
    throw new AmountTooLargeError(`the stored amount ${value} is outside ±${MAX_AMOUNT}`);
  }
  return Number(value);
}

function checked(total: bigint): number {
  if (total > BigInt(MAX_AMOUNT))
    throw new AmountTooLargeError(`${total} is above the maximum amount of ${MAX_AMOUNT} minor units`);
  return Number(total);
}
