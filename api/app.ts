// The Hono app: what every request passes first (api/limits/: security headers, CORS, body size,
// rate limits), one router per resource, one error handler, the OpenAPI document.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { type ApiLimits, loadConfig } from "../config.ts";
import { requestLog } from "../observability/request-log.ts";
import { httpTracing } from "../observability/tracing.ts";
import { poolOf } from "../prisma/client.ts";
import type { SandboxLedger } from "../sandbox/ledger.ts";
import { authenticate } from "./auth.ts";
import { errorBody, onError } from "./errors.ts";
import { bodySizeLimit } from "./limits/body-size.ts";
import { corsFor, securityHeaders } from "./limits/headers.ts";
import { rateLimit } from "./limits/rate-limit.ts";
import { waitingRequests } from "./limits/waiting.ts";
import type { OriginOptions } from "./origin.ts";
import { accountRoutes } from "./routes/accounts.ts";
import { auditRoutes } from "./routes/audit.ts";
import { balanceRoutes } from "./routes/balances.ts";
import { checkoutRoutes } from "./routes/checkouts.ts";
import { currencyRoutes } from "./routes/currencies.ts";
import { docsRoutes } from "./routes/docs.ts";
import { healthRoutes } from "./routes/health.ts";
import { listRoutes } from "./routes/lists.ts";
import { orderLifecycleRoutes } from "./routes/order-lifecycle.ts";
import { orderRoutes } from "./routes/orders.ts";
import { refundRoutes } from "./routes/refunds.ts";
import { reportRoutes } from "./routes/reports.ts";
import { sandboxRoutes } from "./routes/sandbox.ts";
import { type StoreSettings, storeRoutes } from "./routes/store.ts";
import { transferRoutes } from "./routes/transfers.ts";
import { webhookEndpointRoutes } from "./routes/webhook-endpoints.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { createServices, type ServiceDeps } from "./services/index.ts";

/** `gateways`: the configured providers; a checkout for any other is refused, their webhooks are verified. */
export interface AppDeps extends ServiceDeps {
  /** Which proxies' X-Forwarded-For and country header are believed (see api/origin.ts). */
  origin?: OriginOptions;
  /** Present only while the sandbox provider is enabled: its routes exist only then. */
  sandbox?: SandboxLedger;
  /** Body sizes, rate limits, waiting requests, CORS origins; config.ts's defaults for what is absent. */
  limits?: Partial<ApiLimits>;
  /** Counts and times each request (observability/metrics.ts), when the API's metrics are served. */
  metrics?: MiddlewareHandler;
  /** Present only when given a publishable key for it (npm start, a test stack): the /store page exists only then. */
  store?: StoreSettings;
}

export function createApp(deps: AppDeps) {
  const limits = { ...loadConfig({}).api, ...deps.limits };
  const services = createServices({ ...deps, maxSignalsPerCheckout: limits.maxSignalsPerCheckout });
  const app = new OpenAPIHono();
  app.onError(onError);
  app.notFound((c) => c.json(errorBody("not_found", `No route ${c.req.method} ${c.req.path}.`), 404));
  // First of all, so that every request is traced (when tracing is on), logged and counted, whatever answers it.
  const tracing = httpTracing();
  if (tracing) app.use("*", tracing);
  app.use("*", requestLog());
  if (deps.metrics) app.use("*", deps.metrics);
  // Before the key is checked: a 401 carries the security headers too, and a browser's CORS
  // preflight (which carries no key) is answered.
  app.use("*", securityHeaders());
  const cors = corsFor(limits.corsOrigins);
  if (cors) app.use("*", cors);
  app.use("*", bodySizeLimit(limits));
  app.use("*", authenticate(deps.db));
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "A secret key (sk_…) from your server, or a publishable key (pk_…) where a route takes one.",
  });
  // After it: a request with a key counts against that key, one without against its address. The
  // counters are in the database (a client made by createDb); none without one (unit tests).
  const pool = poolOf(deps.db);
  if (pool) app.use("*", rateLimit(pool, limits.rateLimit, deps.origin ?? { trustedProxies: [] }));

  app
    .route("/", checkoutRoutes(services.checkouts, deps.gateways, deps.origin, waitingRequests(limits.maxWaitingRequests)))
    .route("/", refundRoutes(services.refunds))
    .route("/", auditRoutes(services.audits))
    .route("/", webhookRoutes(services.providerWebhooks))
    .route("/", webhookEndpointRoutes(services.webhookEndpoints))
    .route("/", orderRoutes(services.orders))
    .route("/", listRoutes({ ...services, db: deps.db }))
    .route("/", orderLifecycleRoutes(services.orderLifecycle))
    .route("/", reportRoutes(services.reports))
    .route("/", accountRoutes(services.ledger))
    .route("/", balanceRoutes(services.ledger))
    .route("/", currencyRoutes(services.ledger))
    .route("/", transferRoutes(services.transfers))
    .route("/", healthRoutes(services.health))
    .route("/", docsRoutes());
  if (deps.sandbox) app.route("/", sandboxRoutes(deps.sandbox));
  if (deps.store) app.route("/", storeRoutes(deps.store));

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
