// The Hono app: one router per resource, one error handler, the OpenAPI document.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Client } from "@temporalio/client";
import type { Db } from "../prisma/client.ts";
import type { GatewayRegistry } from "../providers/registry.ts";
import type { SandboxLedger } from "../sandbox/ledger.ts";
import { createCheckoutService } from "./checkout-service.ts";
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

export interface AppDeps {
  temporal: Client;
  db: Db;
  taskQueue: string;
  paymentRetryWindowSeconds: number;
  refundRetryWindowSeconds: number;
  paymentActionTimeoutSeconds: number;
  returnUrl?: string;
  /** Ask the customer's risk workflow before each new checkout (RISK_MAX_FAILED_PAYMENTS > 0). */
  riskChecks: boolean;
  /** The configured providers: a checkout for any other is refused; their webhooks are verified. */
  gateways: GatewayRegistry;
  /** Which proxies' X-Forwarded-For and country header are believed (see api/origin.ts). */
  origin?: OriginOptions;
  /** Present only while the sandbox provider is enabled: its routes exist only then. */
  sandbox?: SandboxLedger;
}

export function createApp(deps: AppDeps) {
  const service = createCheckoutService(deps);
  const app = new OpenAPIHono();
  app.onError(onError);
  app.notFound((c) => c.json(errorBody("not_found", `No route ${c.req.method} ${c.req.path}.`), 404));

  app
    .route("/", checkoutRoutes(service, deps.gateways, deps.origin))
    .route("/", refundRoutes(service))
    .route("/", auditRoutes(deps.temporal, deps.db))
    .route("/", webhookRoutes(deps.gateways, deps.db, deps.temporal))
    .route("/", webhookEndpointRoutes(deps.db))
    .route("/", orderRoutes(service))
    .route("/", reportRoutes(deps.db))
    .route("/", healthRoutes(deps.temporal, deps.db))
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
