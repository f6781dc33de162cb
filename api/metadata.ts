// Metadata, Stripe's way: string keys to string values that a merchant sets when it starts a
// checkout, kept on the checkout and its order, returned wherever they are shown, and searchable
// by exact match in the lists (`metadata[key]=value`). Not for secrets: they travel in events.
import { z } from "@hono/zod-openapi";

export const METADATA_MAX_KEYS = 50;
export const METADATA_KEY_MAX = 40;
export const METADATA_VALUE_MAX = 500;
/** `metadata[key]=value` filters one list request takes: enough to narrow, few enough to stay a short URL. */
export const METADATA_MAX_FILTERS = 10;

/** A key: 1 to 40 characters, no square brackets (the lists' `metadata[key]`), no control characters. */
const KEY_PATTERN = `^[^\\[\\]\\u0000-\\u001f\\u007f-\\u009f]{1,${METADATA_KEY_MAX}}$`;
const KEY = new RegExp(KEY_PATTERN, "u");

/** For the OpenAPI document: what a key and a value may be, and how many. */
const documented = {
  maxProperties: METADATA_MAX_KEYS,
  propertyNames: { type: "string" as const, pattern: KEY_PATTERN },
  additionalProperties: { type: "string" as const, maxLength: METADATA_VALUE_MAX },
};

export const Metadata = z
  .record(
    z.string().regex(KEY, `must be 1 to ${METADATA_KEY_MAX} characters, without [ ] or control characters`),
    z.string().max(METADATA_VALUE_MAX),
  )
  .refine((m) => Object.keys(m).length <= METADATA_MAX_KEYS, `may hold at most ${METADATA_MAX_KEYS} keys`)
  .openapi("Metadata", {
    ...documented,
    description: `Up to ${METADATA_MAX_KEYS} keys of at most ${METADATA_KEY_MAX} characters, each a string of at most ${METADATA_VALUE_MAX}. Not for secrets.`,
    example: { order_ref: "A-1001" },
  });
export type Metadata = z.infer<typeof Metadata>;

/** What a row's JSONB column holds, as the views answer it (a row from before metadata: {}). */
export function metadataOf(value: unknown): Metadata {
  if (!value || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

const FILTER = /^metadata\[(.*)\]$/s;

/** The key of a list's `metadata[key]` query parameter; undefined for any other parameter. */
export const filterKeyOf = (parameter: string) => FILTER.exec(parameter)?.[1];

/** Why a `metadata[key]=value` filter is refused, or undefined when it is a good one. */
export function filterProblem(key: string, value: unknown): string | undefined {
  if (!KEY.test(key))
    return `names a key that cannot be: keys are 1 to ${METADATA_KEY_MAX} characters, without [ ] or control characters`;
  if (typeof value !== "string") return "must be given once";
  if (value.length > METADATA_VALUE_MAX) return `must be at most ${METADATA_VALUE_MAX} characters`;
  return undefined;
}

/** The `metadata[key]=value` filters of a list's query, each an exact match. */
export function metadataFilters(query: Record<string, unknown>): Array<[key: string, value: string]> {
  return Object.entries(query).flatMap(([parameter, value]) => {
    const key = filterKeyOf(parameter);
    return key !== undefined && typeof value === "string" ? [[key, value] as [string, string]] : [];
  });
}

/** For a Prisma JSON column: every filter matches exactly. */
export const metadataWhere = (filters: Array<[string, string]>) =>
  filters.map(([key, value]) => ({ metadata: { path: [key], equals: value } }));

/** The OpenAPI parameter of the lists' metadata filter (the query schema takes it as extra keys). */
export const metadataFilterParameter = {
  name: "metadata",
  in: "query" as const,
  required: false,
  style: "deepObject" as const,
  explode: true,
  description: `\`metadata[key]=value\`: only objects whose metadata has that key with exactly that value (up to ${METADATA_MAX_FILTERS}: all of them).`,
  schema: { type: "object" as const, ...documented, maxProperties: METADATA_MAX_FILTERS },
};
