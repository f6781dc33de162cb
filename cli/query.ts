// Visibility queries over the checkout's search attributes (workflows/definitions.ts), built from
// the CLI's filters with every value quoted, so a customer id cannot change the query's meaning.
import { searchAttributes } from "../workflows/definitions.ts";
import type { CheckoutStatus } from "../workflows/types.ts";

export const CHECKOUT_STATUSES: readonly CheckoutStatus[] = [
  "RUNNING",
  "REQUIRES_ACTION",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "EXPIRED",
];

export interface ListFilters {
  status?: string;
  provider?: string;
  customer?: string;
  currency?: string;
  minTotal?: number;
  maxTotal?: number;
  /** A raw visibility query, ANDed with the filters. */
  query?: string;
}

export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * A string literal of the visibility query language: double quotes, with backslash and double
 * quote escaped; control characters are refused (no search attribute value holds one).
 */
export function quote(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value))
    throw new UsageError(`A filter value may not contain control characters: ${JSON.stringify(value)}`);
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The filters as conditions, in a fixed order; a raw query comes last, in parentheses. */
export function filterConditions(filters: ListFilters): string[] {
  const parts: string[] = [];
  const { CheckoutStatus, PaymentProvider, CustomerId, Currency, OrderTotal } = searchAttributes;
  if (filters.status !== undefined) parts.push(`${CheckoutStatus.name}=${quote(checkoutStatus(filters.status))}`);
  if (filters.provider !== undefined) parts.push(`${PaymentProvider.name}=${quote(filters.provider)}`);
  if (filters.customer !== undefined) parts.push(`${CustomerId.name}=${quote(filters.customer)}`);
  if (filters.currency !== undefined) parts.push(`${Currency.name}=${quote(currency(filters.currency))}`);
  if (filters.minTotal !== undefined) parts.push(`${OrderTotal.name}>=${amount(filters.minTotal, "--min-total")}`);
  if (filters.maxTotal !== undefined) parts.push(`${OrderTotal.name}<=${amount(filters.maxTotal, "--max-total")}`);
  if (filters.query?.trim()) parts.push(`(${filters.query.trim()})`);
  return parts;
}

/**
 * The query `checkout list` sends: checkout workflows only, then `extra` (already parenthesised
 * when it holds an OR), then the filters. Only checkouts carry CheckoutStatus, so with a status
 * filter the first condition changes nothing: `--status FAILED --provider sandbox` lists what
 * `temporal workflow list --query 'CheckoutStatus="FAILED" AND PaymentProvider="sandbox"'` does.
 */
export function checkoutQuery(filters: ListFilters, extra?: string): string {
  return ['WorkflowType="checkout"', ...(extra ? [extra] : []), ...filterConditions(filters)].join(" AND ");
}

export function checkoutStatus(raw: string): CheckoutStatus {
  const status = raw.trim().toUpperCase() as CheckoutStatus;
  if (!CHECKOUT_STATUSES.includes(status)) {
    throw new UsageError(`--status must be one of ${CHECKOUT_STATUSES.join(", ")}; got "${raw}"`);
  }
  return status;
}

function currency(raw: string): string {
  if (!/^[A-Za-z]{3}$/.test(raw.trim())) throw new UsageError(`--currency must be an ISO 4217 code such as USD; got "${raw}"`);
  return raw.trim().toUpperCase();
}

function amount(value: number, flag: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new UsageError(`${flag} must be a whole number of minor units (cents), 0 or more; got "${value}"`);
  }
  return value;
}

/** Parses a whole number given on the command line (minor units, limits). */
export function wholeNumber(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(raw)) throw new UsageError(`${flag} must be a whole number; got "${raw}"`);
  return Number(raw);
}
