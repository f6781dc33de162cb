// The services the routes call, one per resource, built once from the app's dependencies: the
// routes parse and answer HTTP; what happens in Temporal and the database happens here.
import type { Client } from "@temporalio/client";
import type { Db } from "../../prisma/client.ts";
import type { GatewayRegistry } from "../../providers/registry.ts";
import { auditService } from "./audits.ts";
import { checkoutListService } from "./checkout-list.ts";
import { checkoutRuns } from "./checkout-runs.ts";
import { type CheckoutSettings, checkoutService } from "./checkouts.ts";
import { healthService } from "./health.ts";
import { ledgerService } from "./ledger.ts";
import { orderLifecycleService } from "./order-lifecycle.ts";
import { orderService } from "./orders.ts";
import { paymentService } from "./payments.ts";
import { providerWebhookService } from "./provider-webhooks.ts";
import { type RefundSettings, refundService } from "./refunds.ts";
import { reportService } from "./reports.ts";
import { transferService } from "./transfers.ts";
import { type WebhookEndpointSettings, webhookEndpointService } from "./webhook-endpoints.ts";

export interface ServiceDeps extends CheckoutSettings, RefundSettings {
  temporal: Client;
  db: Db;
  gateways: GatewayRegistry;
  /** Provider webhooks signalled to one checkout; later ones are acknowledged, not signalled. */
  maxSignalsPerCheckout?: number;
  /** Subscriptions: the SSRF guard's policy, the secrets' key, the cap, the rotation's grace period. */
  webhooks: WebhookEndpointSettings;
}

export function createServices(deps: ServiceDeps) {
  const { temporal, db } = deps;
  const runs = checkoutRuns(temporal, db);
  const checkouts = checkoutService(temporal, db, runs, deps);
  return {
    checkouts,
    checkoutList: checkoutListService(db, checkouts),
    orderLifecycle: orderLifecycleService(temporal, db, runs, checkouts, deps.gateways, deps),
    refunds: refundService(temporal, db, runs, deps),
    orders: orderService(db),
    payments: paymentService(db),
    audits: auditService(temporal, db, runs),
    providerWebhooks: providerWebhookService(deps.gateways, db, temporal, { maxSignalsPerCheckout: deps.maxSignalsPerCheckout }),
    webhookEndpoints: webhookEndpointService(db, deps.webhooks),
    reports: reportService(db),
    health: healthService(temporal, db),
    ledger: ledgerService(db),
    transfers: transferService(temporal, db, deps),
  };
}

export type Services = ReturnType<typeof createServices>;
