// One JSON line per API request: method, route pattern (never the raw path or query: a client
// secret may be in it), status, duration, and the checkout it was about. Whatever the request logs
// on the way carries the same fields (observability/logger.ts's context).
import { trace } from "@opentelemetry/api";
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { addLogFields, checkoutIdIn, log, withLogFields } from "./logger.ts";

export function requestLog(): MiddlewareHandler {
  return (c, next) => {
    const checkoutId = checkoutIdIn(c.req.path);
    return withLogFields({}, async () => {
      if (checkoutId) noteCheckout(checkoutId);
      const started = performance.now();
      try {
        await next();
      } finally {
        const status = c.res.status;
        log[status >= 500 ? "error" : "info"]("request", {
          method: c.req.method,
          route: routeOf(c),
          status,
          durationMs: Math.round(performance.now() - started),
        });
      }
    });
  };
}

/**
 * The pattern of the route the request matched (`/checkouts/:id`), even when a middleware
 * answered first (a 401, a 429); `*` for a path that matches no route.
 */
export function routeOf(c: Parameters<MiddlewareHandler>[0]): string {
  const route = routePath(c, -1);
  return route === "/*" || route === "" ? "*" : route;
}

/** Names the checkout a request is about, once known (POST /checkouts makes its id): in its logs and on its span. */
export function noteCheckout(checkoutId: string): void {
  addLogFields({ checkoutId });
  trace.getActiveSpan()?.setAttribute("checkout.id", checkoutId);
}
