// One shape for every error the API answers: {"error": {code, message, fields?}}, where each
// field names the JSON path that is wrong and why. Nothing unexpected leaks as a bare 500.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { log } from "../observability/logger.ts";
import { routeOf } from "../observability/request-log.ts";
import { ErrorResponse, json } from "./schemas.ts";
import { unavailableDependency } from "./unavailable-dependency.ts";

/** How long a client is told to wait before retrying when a dependency is down. */
const DEPENDENCY_RETRY_AFTER_SECONDS = 2;

export interface FieldError {
  field: string;
  reason: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly fields?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const notFound = (what: string, id: string) => new ApiError(404, "not_found", `No ${what} with id "${id}".`);

export function errorBody(code: string, message: string, fields?: FieldError[]) {
  return { error: { code, message, ...(fields ? { fields } : {}) } };
}

export function fieldErrors(error: ZodError, prefix?: string): FieldError[] {
  const name = (path: PropertyKey[]) => [prefix, ...path.map(String)].filter(Boolean).join(".") || "(body)";
  return error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ field: name([...issue.path, key]), reason: "is not an accepted field" }));
    }
    // A record's key that its key schema refuses: say why (zod's own message is "Invalid key in record").
    if (issue.code === "invalid_key")
      return [{ field: name(issue.path), reason: `key ${issue.issues[0]?.message ?? "is not valid"}` }];
    return [{ field: name(issue.path), reason: issue.message }];
  });
}

/** Validation failures from the route schemas, in the shared shape. */
export function validationHook(
  result: { target: string } & ({ success: true } | { success: false; error: ZodError }),
  c: Context,
) {
  if (result.success) return;
  const where = result.target === "json" ? undefined : result.target;
  const fields = fieldErrors(result.error, where === "header" ? "header" : where === "param" ? undefined : where);
  return c.json(errorBody("validation_failed", "The request is not valid; see fields.", fields), 400);
}

/** What validationHook and onError answer for input they refuse, for the OpenAPI document of every route that takes input (api/router.ts). */
export const invalidRequestResponse = json(
  ErrorResponse,
  "Invalid request (`validation_failed`, or `malformed_request` for a body that is not JSON): each wrong field is named with the reason",
);

/** What onError answers (`http_error`) for a body sent as another media type than the route takes. */
export const unsupportedMediaTypeResponse = json(
  ErrorResponse,
  "The body is not of the media type the route takes (`http_error`)",
);

export function onError(err: Error, c: Context) {
  if (err instanceof ApiError) {
    for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
    return c.json(errorBody(err.code, err.message, err.fields), err.status);
  }
  if (err instanceof HTTPException) {
    // Hono's own refusals, e.g. a body that is not JSON at all.
    const status = err.status as ContentfulStatusCode;
    if (status === 400) {
      const reason = err.message || "could not be read";
      return c.json(errorBody("malformed_request", reason, [{ field: "(body)", reason }]), 400);
    }
    return c.json(errorBody("http_error", err.message || "Request refused"), status);
  }
  const dependency = unavailableDependency(err);
  if (dependency) {
    log.warn(`${c.req.method} ${routeOf(c)}: the ${dependency} is unavailable: ${err.message.split("\n").at(-1)}`, {
      dependency,
    });
    c.header("Retry-After", String(DEPENDENCY_RETRY_AFTER_SECONDS));
    return c.json(
      { error: { code: "dependency_unavailable", message: `The ${dependency} is not answering; retry shortly.`, dependency } },
      503,
    );
  }
  log.error(`${c.req.method} ${routeOf(c)} failed: ${err.message}`, { error: err });
  return c.json(errorBody("internal_error", "Something went wrong on our side; the request may be retried."), 500);
}
