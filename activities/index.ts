// Activities are built from their dependencies, so the worker hands in real parts and tests
// may hand in others.
import type { Db } from "../prisma/client.ts";
import type { GatewayRegistry } from "../providers/registry.ts";
import type { RiskPolicy } from "../workflows/types.ts";
import { archiveActivities } from "./archive.ts";
import { type DeliverySettings, type EventPublisher, eventActivities } from "./events.ts";
import { ledgerActivities } from "./ledger.ts";
import { type Mailer, notificationActivities } from "./notifications.ts";
import { orderActivities } from "./orders.ts";
import { outboxActivities } from "./outbox.ts";
import { paymentActivities } from "./payments.ts";
import { refundActivities } from "./refunds.ts";
import { failFastOnRejectedWrites } from "./rejected-writes.ts";
import { riskActivities } from "./risk.ts";

export interface ActivityDeps {
  db: Db;
  gateways: GatewayRegistry;
  mailer: Mailer;
  /** The message broker events go to, when EVENTS_URL is set. */
  publisher?: EventPublisher;
  /** Unusual-activity thresholds (RISK_* variables). */
  riskPolicy: RiskPolicy;
  /** Outgoing webhooks: the secrets' key, who may be sent to, the fan-out's page size (WEBHOOK_* variables). */
  webhooks: DeliverySettings;
}

export function createActivities({ db, gateways, mailer, publisher, riskPolicy, webhooks }: ActivityDeps) {
  return failFastEverywhere({
    ...archiveActivities(db),
    ...riskActivities(db, riskPolicy),
    ...eventActivities(db, webhooks, publisher),
    ...outboxActivities(db, publisher),
    ...orderActivities(db),
    ...paymentActivities(db, gateways),
    ...refundActivities(db, gateways),
    ...ledgerActivities(db),
    ...notificationActivities(db, mailer),
  });
}

/** Every activity stops at once on a write the database refuses for good, instead of retrying it for ever. */
function failFastEverywhere<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, work]) => [
      name,
      failFastOnRejectedWrites(work as (...args: unknown[]) => Promise<unknown>),
    ]),
  ) as unknown as T;
}

export type Activities = ReturnType<typeof createActivities>;
