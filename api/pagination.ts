// Cursor pagination, Stripe's way, for every list: newest first, ordered by (createdAt, id) so
// that rows created in the same millisecond keep one order; `limit` (10, at most 100),
// `starting_after=<id>` for the next (older) page, `ending_before=<id>` for the previous (newer)
// one; the answer says `has_more`. A cursor is an object's id, looked up within the caller's
// scope: an id the caller cannot see is refused, as an unknown one.
import { z } from "@hono/zod-openapi";
import { ApiError } from "./errors.ts";

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 100;

const cursor = (description: string) => z.string().min(1).max(100).optional().openapi({ description });

/** The query parameters every list takes for its pages. */
export const pageParameters = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_LIMIT)
    .optional()
    .openapi({
      type: "integer",
      minimum: 1,
      maximum: MAX_LIMIT,
      description: `How many objects, 1 to ${MAX_LIMIT} (${DEFAULT_LIMIT} when absent).`,
    }),
  starting_after: cursor("An object's id: the page of those created before it (the next page)."),
  ending_before: cursor("An object's id: the page of those created after it (the previous page)."),
};

export interface PageRequest {
  limit?: number;
  starting_after?: string;
  ending_before?: string;
}

/** Where a row stands in a list's order. */
export interface Keyset {
  createdAt: Date;
  id: string;
}

type Comparison = { lt: Date } | { gt: Date };
/** Rows strictly beyond a cursor in (createdAt, id) order: a Prisma `where` for any model with both. */
export type KeysetWhere = {
  OR: [{ createdAt: Comparison }, { createdAt: Date; id: { lt: string } | { gt: string } }];
};
export type KeysetOrder = [{ createdAt: "asc" | "desc" }, { id: "asc" | "desc" }];

export interface PageSource<Row> {
  /** Where the cursor object stands, if the caller may see it (same merchant, same customer). */
  find(id: string): Promise<Keyset | null>;
  /** The rows the list's filters keep, beyond `after` (when given), in `orderBy`, at most `take`. */
  rows(args: { after?: KeysetWhere; orderBy: KeysetOrder; take: number }): Promise<Row[]>;
}

function beyond(at: Keyset, older: boolean): KeysetWhere {
  return older
    ? { OR: [{ createdAt: { lt: at.createdAt } }, { createdAt: at.createdAt, id: { lt: at.id } }] }
    : { OR: [{ createdAt: { gt: at.createdAt } }, { createdAt: at.createdAt, id: { gt: at.id } }] };
}

/** One page, newest first, and whether more lie beyond it in the direction asked. */
export async function paginate<Row>(page: PageRequest, source: PageSource<Row>): Promise<{ rows: Row[]; hasMore: boolean }> {
  const limit = page.limit ?? DEFAULT_LIMIT;
  const parameter = page.ending_before !== undefined ? "ending_before" : "starting_after";
  const id = page[parameter];
  const at = id === undefined ? undefined : await source.find(id);
  if (id !== undefined && !at) {
    throw new ApiError(404, "not_found", `No object with id "${id}" in this list.`, [
      { field: `query.${parameter}`, reason: "is not the id of an object in this list" },
    ]);
  }
  // The previous page is read oldest first from the cursor, then turned around.
  const newer = parameter === "ending_before";
  const rows = await source.rows({
    after: at ? beyond(at, !newer) : undefined,
    orderBy: newer ? [{ createdAt: "asc" }, { id: "asc" }] : [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
  });
  const hasMore = rows.length > limit;
  const kept = rows.slice(0, limit);
  return { rows: newer ? kept.reverse() : kept, hasMore };
}

/** A list's answer: Stripe's envelope. `url` is the list's path, for the next request. */
export const listBody = <T>(url: string, data: T[], hasMore: boolean) => ({
  object: "list" as const,
  url,
  has_more: hasMore,
  data,
});

/** The OpenAPI schema of a list of `item`. */
export const ListOf = <T extends z.ZodType>(item: T, name: string) =>
  z
    .object({
      object: z.literal("list"),
      url: z.string().openapi({ description: "The list's path." }),
      has_more: z
        .boolean()
        .openapi({ description: "Whether more objects lie beyond this page (older ones; with ending_before, newer ones)." }),
      data: z.array(item).openapi({ description: "Newest first." }),
    })
    .openapi(name);
