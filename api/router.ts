// Every router of the API is made here: one place for the validation hook that turns a schema's
// refusal into the shared 400 body naming each field, and for the answers that the validation
// hook and the authentication middleware give on any route, in that route's OpenAPI document.
import { OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import { accessResponses } from "./auth.ts";
import { invalidRequestResponse, unsupportedMediaTypeResponse, validationHook } from "./errors.ts";

/** The route's own responses, and what the shared parts may answer there that it does not name. */
function withSharedResponses(route: RouteConfig): RouteConfig {
  const { params, query, headers, cookies, body } = route.request ?? {};
  const takesInput = Boolean(params || query || headers || cookies || body);
  // A body the route validates (a zod schema) must come as the media type it names, else 415.
  const validatesBody = Object.values(body?.content ?? {}).some(
    (media) => media && "schema" in media && media.schema instanceof z.ZodType,
  );
  return {
    ...route,
    responses: {
      ...(takesInput ? { 400: invalidRequestResponse } : {}),
      ...accessResponses(Boolean(route.security?.length)),
      ...(validatesBody ? { 415: unsupportedMediaTypeResponse } : {}),
      ...route.responses,
    },
  };
}

export function createRouter() {
  const router = new OpenAPIHono({ defaultHook: validationHook });
  const registry = router.openAPIRegistry;
  const registerPath = registry.registerPath.bind(registry);
  // Only the document changes: what the routes do and their types stay as each route declares.
  registry.registerPath = (route) => registerPath(withSharedResponses(route));
  return router;
}
