// Why the ledger refuses a movement: a business rule, not a fault. The API answers each with a
// 4xx of its code; the transfer workflow ends FAILED with it (no retry can make it pass).
export type LedgerRefusalCode =
  | "insufficient_funds"
  | "balance_limit"
  | "account_disabled"
  | "balance_disabled"
  | "currency_inactive"
  | "unknown_currency"
  | "currency_mismatch"
  | "unbalanced_entry"
  | "invalid_amount";

export class LedgerRefusal extends Error {
  override name = "LedgerRefusal";
  constructor(
    readonly code: LedgerRefusalCode,
    message: string,
  ) {
    super(message);
  }
}
