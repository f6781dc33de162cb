// Every router of the API is made here: one place for the validation hook that turns a schema's
// refusal into the shared 400 body naming each field.
import { OpenAPIHono } from "@hono/zod-openapi";
import { validationHook } from "./errors.ts";

export function createRouter() {
  return new OpenAPIHono({ defaultHook: validationHook });
}
