// Events out: recorded once, delivered to each subscriber that asked for the type (signed the
// Standard Webhooks way, sent only to addresses the SSRF guard allows, retried for up to a day by
// the activity's policy) and, when a broker is configured, published there. They run in their own
// workflow (workflows/events.ts), which hands the subscribers out in pages, one batch workflow
// per page, so that no number of endpoints stops an event, and a slow or failing subscriber never
// delays or fails a checkout.
import { createHash } from "node:crypto";
import { ApplicationFailure, Context, log } from "@temporalio/activity";
import type { Prisma as PrismaTypes } from "../generated/prisma/client.ts";
import { DEFAULT_MERCHANT_ID } from "../merchants/merchants.ts";
import type { Db } from "../prisma/client.ts";
import { NetworkError, postTo } from "../webhooks/http.ts";
import { signingSecrets } from "../webhooks/secrets.ts";
import { signatureHeaders } from "../webhooks/signing.ts";
import { checkTarget, type TargetPolicy, TargetRefused } from "../webhooks/target.ts";
import type { CheckoutEvent, EventType } from "../workflows/types.ts";

/** Publishes events to a message broker; the event id is the message id, for de-duplication. */
export interface EventPublisher {
  publish(event: CheckoutEvent): Promise<void>;
  close(): Promise<void>;
}

export interface RecordEventInput {
  /** The publishing workflow's ID: with the type, it makes the event id (stable across retries and resets). */
  sourceWorkflowId: string;
  type: EventType;
  checkoutId: string;
  data: Record<string, unknown>;
}

/** What deliveries need: the key that opens the endpoints' secrets, who may be sent to, the page size. */
export interface DeliverySettings {
  secretKey: Buffer;
  targets: TargetPolicy;
  /** Endpoints per page of an event's fan-out (WEBHOOK_FANOUT_BATCH_SIZE). */
  batchSize: number;
}

export interface SubscriberPage {
  endpointIds: string[];
  /** The cursor of the next page (the last id of this one); null when this was the last page. */
  next: string | null;
}

const DELIVERY_TIMEOUT_MS = 10_000;
/** Every network failure reads the same in the delivery log: it must not tell a closed port from a filtered one. */
const UNREACHABLE = "the endpoint could not be reached";

export function eventId(sourceWorkflowId: string, type: string): string {
  return `evt_${createHash("sha256").update(`${sourceWorkflowId}:${type}`).digest("hex").slice(0, 24)}`;
}

export function deliveryId(eventIdValue: string, endpointId: string): string {
  return `dlv_${createHash("sha256").update(`${eventIdValue}:${endpointId}`).digest("hex").slice(0, 24)}`;
}

/**
 * The endpoints an event goes to: its checkout's merchant's live ones subscribed to its type that
 * existed when it happened.
 */
export function subscribersOf(event: {
  merchantId: string;
  type: string;
  createdAt: Date;
}): PrismaTypes.WebhookEndpointWhereInput {
  return { merchantId: event.merchantId, deletedAt: null, eventTypes: { has: event.type }, createdAt: { lte: event.createdAt } };
}

export function eventActivities(db: Db, settings: DeliverySettings, publisher?: EventPublisher) {
  async function store(input: RecordEventInput): Promise<CheckoutEvent> {
    const id = eventId(input.sourceWorkflowId, input.type);
    const row = await db.event.upsert({
      where: { id },
      // Dispatched by the workflow that stores it, not by the outbox relay.
      create: {
        id,
        type: input.type,
        checkoutId: input.checkoutId,
        data: input.data as PrismaTypes.InputJsonValue,
        sourceWorkflowId: input.sourceWorkflowId,
        dispatchedAt: new Date(),
      },
      update: {},
    });
    return {
      id: row.id,
      type: row.type as EventType,
      createdAt: row.createdAt.toISOString(),
      data: row.data as Record<string, unknown>,
    };
  }

  /** Whose the checkout is: only that merchant's subscribers hear of its events. */
  async function merchantOf(checkoutId: string): Promise<string> {
    const owner = await db.checkout.findUnique({ where: { id: checkoutId }, select: { merchantId: true } });
    return owner?.merchantId ?? DEFAULT_MERCHANT_ID;
  }

  return {
    /** Stores the event (once). */
    storeEvent: store,

    /**
     * One page of the event's subscribers (its checkout's merchant's), in id order after `after`,
     * each with its delivery recorded as PENDING: the delivery log shows every endpoint the event
     * is going to.
     */
    async subscriberPage({
      event,
      checkoutId,
      after,
    }: {
      event: CheckoutEvent;
      checkoutId: string;
      after: string | null;
    }): Promise<SubscriberPage> {
      // The outbox row names its merchant (a transfer's event has no checkout to ask).
      const stored = await db.event.findUnique({ where: { id: event.id }, select: { merchantId: true } });
      const merchantId = stored?.merchantId ?? (await merchantOf(checkoutId));
      const rows = await db.webhookEndpoint.findMany({
        where: {
          ...subscribersOf({ merchantId, type: event.type, createdAt: new Date(event.createdAt) }),
          ...(after ? { id: { gt: after } } : {}),
        },
        orderBy: { id: "asc" },
        take: settings.batchSize + 1,
        select: { id: true },
      });
      const endpointIds = rows.slice(0, settings.batchSize).map((r) => r.id);
      await db.webhookDelivery.createMany({
        data: endpointIds.map((endpointId) => ({ id: deliveryId(event.id, endpointId), endpointId, eventId: event.id })),
        skipDuplicates: true,
      });
      return { endpointIds, next: rows.length > settings.batchSize ? endpointIds[endpointIds.length - 1] : null };
    },

    /**
     * Runs that started before the fan-out went in batches: stores the event and names every
     * subscribed endpoint at once (such a run delivers from one workflow).
     */
    async recordEvent(input: RecordEventInput): Promise<{ event: CheckoutEvent; endpointIds: string[] }> {
      const event = await store(input);
      const merchantId = await merchantOf(input.checkoutId);
      const endpoints = await db.webhookEndpoint.findMany({
        where: subscribersOf({ merchantId, type: event.type, createdAt: new Date(event.createdAt) }),
        select: { id: true },
      });
      return { event, endpointIds: endpoints.map((e) => e.id) };
    },

    /** One attempt to deliver an event to one endpoint; the retry policy makes the next ones. */
    async deliverWebhook({ event, endpointId }: { event: CheckoutEvent; endpointId: string }): Promise<{ statusCode: number }> {
      const { attempt } = Context.current().info;
      const endpoint = await db.webhookEndpoint.findUnique({ where: { id: endpointId } });
      const delivery = await db.webhookDelivery.upsert({
        where: { endpointId_eventId: { endpointId, eventId: event.id } },
        create: { id: deliveryId(event.id, endpointId), endpointId, eventId: event.id, attempts: attempt },
        update: { attempts: attempt },
      });
      if (delivery.status === "DELIVERED") return { statusCode: delivery.lastStatusCode ?? 200 };
      const fail = async (error: string, statusCode: number | null, retry: boolean, type = "DeliveryFailed") => {
        await db.webhookDelivery.update({
          where: { id: delivery.id },
          data: { lastStatusCode: statusCode, lastError: error, ...(retry ? {} : { status: "FAILED" as const }) },
        });
        throw retry ? ApplicationFailure.retryable(error, type) : ApplicationFailure.nonRetryable(error, type);
      };
      if (!endpoint || endpoint.deletedAt) {
        return fail("endpoint deleted", delivery.lastStatusCode, false, "EndpointDeleted");
      }

      // Checked on every attempt, and the connection goes to the addresses checked now.
      let target: Awaited<ReturnType<typeof checkTarget>>;
      try {
        target = await checkTarget(endpoint.url, settings.targets);
      } catch (err) {
        if (!(err instanceof TargetRefused)) throw err;
        // A URL refused as such stays refused; what a host resolves to may change.
        return fail(`not sent: the URL ${err.reason}`, null, !err.permanent, "TargetRefused");
      }

      let secrets: string[];
      const now = new Date();
      try {
        secrets = signingSecrets(settings.secretKey, endpoint, now);
      } catch (err) {
        log.error("could not open an endpoint's signing secret", { endpointId, error: (err as Error).message });
        return fail(
          "not sent: the endpoint's signing secret could not be opened (is WEBHOOK_SECRET_KEY the one it was sealed with?)",
          null,
          true,
        );
      }
      const body = JSON.stringify({ id: event.id, type: event.type, created_at: event.createdAt, data: event.data });
      let statusCode: number;
      try {
        ({ status: statusCode } = await postTo(target, {
          headers: {
            "content-type": "application/json",
            "user-agent": "checkout-webhooks/1",
            ...signatureHeaders(event.id, now, body, secrets),
            "checkout-event-id": event.id,
            "checkout-event-type": event.type,
          },
          body,
          timeoutMs: DELIVERY_TIMEOUT_MS,
        }));
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        // The cause (refused, reset, timed out, TLS) goes to the worker's log only.
        log.info("webhook delivery attempt failed", {
          endpointId,
          eventId: event.id,
          attempt,
          cause: String((err.cause as Error)?.message),
        });
        return fail(UNREACHABLE, null, true);
      }
      if (statusCode >= 200 && statusCode < 300) {
        await db.webhookDelivery.update({
          where: { id: delivery.id },
          data: { status: "DELIVERED", lastStatusCode: statusCode, lastError: null, deliveredAt: new Date() },
        });
        return { statusCode };
      }
      const redirect = statusCode >= 300 && statusCode < 400 ? " (redirects are not followed)" : "";
      return fail(`the endpoint answered ${statusCode}${redirect}`, statusCode, true);
    },

    /** The retries of a delivery are spent: it is marked failed for good. */
    async abandonDelivery({ eventId: id, endpointId, reason }: { eventId: string; endpointId: string; reason: string }) {
      await db.webhookDelivery.updateMany({
        where: { endpointId, eventId: id, status: "PENDING" },
        data: { status: "FAILED", lastError: reason },
      });
    },

    async publishToBroker({ event }: { event: CheckoutEvent }): Promise<{ published: boolean }> {
      if (!publisher) return { published: false };
      await publisher.publish(event);
      return { published: true };
    },
  };
}
