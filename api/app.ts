// The Hono app: one router per resource, one error handler, the OpenAPI document.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { SandboxLedger } from "../sandbox/ledger.ts";
import { authenticate } from "./auth.ts";
import { errorBody, onError } from "./errors.ts";
import type { OriginOptions } from "./origin.ts";
import { auditRoutes } from "./routes/audit.ts";
import { checkoutRoutes } from "./routes/checkouts.ts";
import { docsRoutes } from "./routes/docs.ts";
import { healthRoutes } from "./routes/health.ts";
import { orderRoutes } from "./routes/orders.ts";
import { refundRoutes } from "./routes/refunds.ts";
import { reportRoutes } from "./routes/reports.ts";
import { sandboxRoutes } from "./routes/sandbox.ts";
import { webhookEndpointRoutes } from "./routes/webhook-endpoints.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { createServices, type ServiceDeps } from "./services/index.ts";

/** `gateways`: the configured providers; a checkout for any other is refused, their webhooks are verified. */
export interface AppDeps extends ServiceDeps {
  /** Which proxies' X-Forwarded-For and country header are believed (see api/origin.ts). */
  origin?: OriginOptions;
  /** Present only while the sandbox provider is enabled: its routes exist only then. */
  sandbox?: SandboxLedger;
}

export function createApp(deps: AppDeps) {
  const services = createServices(deps);
  const app = new OpenAPIHono();
  app.onError(onError);
  app.notFound((c) => c.json(errorBody("not_found", `No route ${c.req.method} ${c.req.path}.`), 404));
  app.use("*", authenticate(deps.db));
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "A secret key (sk_…) from your server, or a publishable key (pk_…) where a route takes one.",
  });

  app
    .route("/", checkoutRoutes(services.checkouts, deps.gateways, deps.origin))
    .route("/", refundRoutes(services.refunds))
    .route("/", auditRoutes(services.audits))
    .route("/", webhookRoutes(services.providerWebhooks))
    .route("/", webhookEndpointRoutes(services.webhookEndpoints))
    .route("/", orderRoutes(services.orders))
    .route("/", reportRoutes(services.reports))
    .route("/", healthRoutes(services.health))
    .route("/", docsRoutes());
  if (deps.sandbox) app.route("/", sandboxRoutes(deps.sandbox));

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Checkout API",
      version: "0.1.0",
      description: "Durable checkouts on Temporal. Amounts are integers in minor units (cents) with ISO 4217 currency codes.",
    },
  });
  app.get("/", (c) => c.redirect("/docs"));
  return app;
}
