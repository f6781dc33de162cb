// How large a request body may be, checked before anything parses it: by Content-Length when the
// client sends one, else (chunked) by counting the bytes as they arrive, stopping at the limit.
// Provider webhooks (POST /webhooks/{provider}) have a limit of their own: their events are larger
// than a checkout and are not ours to shorten. Past the limit: 413 in the API's error shape, the
// connection closed (so the rest of a large body is not read), and nothing started.
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { errorBody } from "../errors.ts";

export interface BodySizeLimits {
  maxBodyBytes: number;
  maxWebhookBodyBytes: number;
}

export function bodySizeLimit({ maxBodyBytes, maxWebhookBodyBytes }: BodySizeLimits): MiddlewareHandler {
  const tooLarge = (max: number) => (c: Context) => {
    c.header("Connection", "close");
    return c.json(errorBody("body_too_large", `The request body is larger than ${max} bytes.`), 413);
  };
  const api = bodyLimit({ maxSize: maxBodyBytes, onError: tooLarge(maxBodyBytes) });
  const webhooks = bodyLimit({ maxSize: maxWebhookBodyBytes, onError: tooLarge(maxWebhookBodyBytes) });
  return (c, next) => (c.req.path.startsWith("/webhooks/") ? webhooks : api)(c, next);
}
