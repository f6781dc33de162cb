// The query of every list: its pages (api/pagination.ts), the filters it takes (created range,
// customer, and per list status and provider), `metadata[key]=value` exact matches, and, for a
// browser with a publishable key, the client secret that names its customer. Anything else is
// refused, naming the parameter (a typo must not silently list everything).
import { z } from "@hono/zod-openapi";
import { filterKeyOf, filterProblem, METADATA_MAX_FILTERS, metadataFilterParameter, metadataFilters } from "./metadata.ts";
import { type PageRequest, pageParameters } from "./pagination.ts";

const instant = (description: string) =>
  z.iso
    .datetime({ offset: true, error: "must be an ISO 8601 date-time with a zone, like 2026-01-01T00:00:00Z" })
    .optional()
    .openapi({ description, example: "2026-01-01T00:00:00Z" });

/** The merchant's own customer id (Customer.externalId), as POST /checkouts takes it. */
export const CustomerId = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/, "may hold only letters, digits and _ . : -");

const clientSecret = z.string().min(1).max(200).optional().openapi({
  description:
    "With a publishable key (required then): the client secret of one of the customer's checkouts; the list holds only that customer's objects.",
});

/**
 * Node answers this, empty, before the API reads anything: the request line and headers are over
 * its 16 KiB. Ten filters of 500 characters can be longer than that, in characters that take
 * four bytes each (twelve percent-encoded).
 */
const urlTooLong = { description: "The URL is longer than the server takes (16 KiB with the headers)" };

/** Both cursors at once: which page would that be? */
const BOTH_CURSORS = "must not be given with starting_after";

export interface ListFilters extends PageRequest {
  customer?: string;
  client_secret?: string;
  status?: string;
  provider?: string;
  createdFrom?: Date;
  createdTo?: Date;
  metadata: Array<[string, string]>;
}

/**
 * A list's query schema, and its OpenAPI parameters beyond the schema's own (the metadata
 * filter, whose parameter names are the merchant's keys). `customer: false` for a list whose
 * path names the customer.
 */
export function listQuery<S extends z.ZodType<string> | undefined, P extends z.ZodType<string> | undefined>(options: {
  status?: S;
  provider?: P;
  customer?: boolean;
}) {
  const shape = {
    ...pageParameters,
    "created[gte]": instant("Only objects created at or after this instant."),
    "created[lte]": instant("Only objects created at or before this instant."),
    ...(options.customer === false
      ? {}
      : { customer: CustomerId.optional().openapi({ description: "Only this customer's (your own customer id)." }) }),
    ...(options.status ? { status: options.status.optional() } : {}),
    ...(options.provider ? { provider: options.provider.optional() } : {}),
    client_secret: clientSecret,
  };
  const schema = z
    .object(shape)
    .catchall(z.unknown())
    .superRefine((query, ctx) => {
      for (const [parameter, value] of Object.entries(query)) {
        if (parameter in shape) continue;
        const key = filterKeyOf(parameter);
        const problem = key === undefined ? "is not an accepted parameter" : filterProblem(key, value);
        if (problem) ctx.addIssue({ code: "custom", path: [parameter], message: problem });
      }
      const filters = Object.keys(query).filter((parameter) => filterKeyOf(parameter) !== undefined);
      if (filters.length > METADATA_MAX_FILTERS) {
        ctx.addIssue({ code: "custom", path: [filters[0]], message: `at most ${METADATA_MAX_FILTERS} metadata filters at once` });
      }
      if (query.starting_after !== undefined && query.ending_before !== undefined) {
        ctx.addIssue({ code: "custom", path: ["ending_before"], message: BOTH_CURSORS });
      }
    });
  return { schema, parameters: [metadataFilterParameter], responses: { 431: urlTooLong } };
}

/** The filters of a query that listQuery's schema took. */
export function listFilters(query: Record<string, unknown>): ListFilters {
  const text = (name: string) => (typeof query[name] === "string" ? (query[name] as string) : undefined);
  const instantOf = (name: string) => {
    const value = text(name);
    return value === undefined ? undefined : new Date(value);
  };
  return {
    limit: typeof query.limit === "number" ? query.limit : undefined,
    starting_after: text("starting_after"),
    ending_before: text("ending_before"),
    customer: text("customer"),
    client_secret: text("client_secret"),
    status: text("status"),
    provider: text("provider"),
    createdFrom: instantOf("created[gte]"),
    createdTo: instantOf("created[lte]"),
    metadata: metadataFilters(query),
  };
}

/** The Prisma filter of a created range (undefined: no range). */
export const createdWithin = (f: Pick<ListFilters, "createdFrom" | "createdTo">) =>
  f.createdFrom || f.createdTo
    ? { ...(f.createdFrom ? { gte: f.createdFrom } : {}), ...(f.createdTo ? { lte: f.createdTo } : {}) }
    : undefined;
