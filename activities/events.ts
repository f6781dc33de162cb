// Events out: recorded once, delivered to each subscriber that asked for the type (signed, retried
// for up to a day by the activity's policy) and, when a broker is configured, published there.
// They run in their own workflow (workflows/events.ts), so a slow or failing subscriber never
// delays or fails a checkout.
import { createHash } from "node:crypto";
import { ApplicationFailure, Context } from "@temporalio/activity";
import type { Prisma as PrismaTypes } from "../generated/prisma/client.ts";
import { DEFAULT_MERCHANT_ID } from "../merchants/merchants.ts";
import type { Db } from "../prisma/client.ts";
import type { CheckoutEvent, EventType } from "../workflows/types.ts";
import { signPayload } from "./signature.ts";

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

const DELIVERY_TIMEOUT_MS = 10_000;

export function eventId(sourceWorkflowId: string, type: string): string {
  return `evt_${createHash("sha256").update(`${sourceWorkflowId}:${type}`).digest("hex").slice(0, 24)}`;
}

export function eventActivities(db: Db, publisher?: EventPublisher) {
  return {
    /** Stores the event (once) and names the endpoints subscribed to its type. */
    async recordEvent(input: RecordEventInput): Promise<{ event: CheckoutEvent; endpointIds: string[] }> {
      const id = eventId(input.sourceWorkflowId, input.type);
      const row = await db.event.upsert({
        where: { id },
        create: { id, type: input.type, checkoutId: input.checkoutId, data: input.data as PrismaTypes.InputJsonValue },
        update: {},
      });
      // Only the checkout's own merchant's subscribers hear of it.
      const owner = await db.checkout.findUnique({ where: { id: input.checkoutId }, select: { merchantId: true } });
      const merchantId = owner?.merchantId ?? DEFAULT_MERCHANT_ID;
      const endpoints = await db.webhookEndpoint.findMany({
        where: { merchantId, deletedAt: null, eventTypes: { has: input.type }, createdAt: { lte: row.createdAt } },
        select: { id: true },
      });
      const event: CheckoutEvent = {
        id: row.id,
        type: row.type as EventType,
        createdAt: row.createdAt.toISOString(),
        data: row.data as Record<string, unknown>,
      };
      return { event, endpointIds: endpoints.map((e) => e.id) };
    },

    /** One attempt to deliver an event to one endpoint; the retry policy makes the next ones. */
    async deliverWebhook({ event, endpointId }: { event: CheckoutEvent; endpointId: string }): Promise<{ statusCode: number }> {
      const { attempt } = Context.current().info;
      const endpoint = await db.webhookEndpoint.findUnique({ where: { id: endpointId } });
      const deliveryId = `dlv_${createHash("sha256").update(`${event.id}:${endpointId}`).digest("hex").slice(0, 24)}`;
      const delivery = await db.webhookDelivery.upsert({
        where: { endpointId_eventId: { endpointId, eventId: event.id } },
        create: { id: deliveryId, endpointId, eventId: event.id, attempts: attempt },
        update: { attempts: attempt },
      });
      if (delivery.status === "DELIVERED") return { statusCode: delivery.lastStatusCode ?? 200 };
      if (!endpoint || endpoint.deletedAt) {
        await db.webhookDelivery.update({
          where: { id: delivery.id },
          data: { status: "FAILED", lastError: "endpoint deleted" },
        });
        throw ApplicationFailure.nonRetryable(`endpoint ${endpointId} was deleted`, "EndpointDeleted");
      }

      const body = JSON.stringify({ id: event.id, type: event.type, created_at: event.createdAt, data: event.data });
      let statusCode: number | undefined;
      let error: string;
      try {
        const res = await fetch(endpoint.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": "checkout-webhooks/1",
            "checkout-event-id": event.id,
            "checkout-event-type": event.type,
            "checkout-signature": signPayload(body, endpoint.secret),
          },
          body,
          redirect: "manual",
          signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
        });
        statusCode = res.status;
        await res.body?.cancel();
        if (res.ok) {
          await db.webhookDelivery.update({
            where: { id: delivery.id },
            data: { status: "DELIVERED", lastStatusCode: statusCode, lastError: null, deliveredAt: new Date() },
          });
          return { statusCode };
        }
        error = `the endpoint answered ${statusCode}`;
      } catch (err) {
        error = `the endpoint could not be reached: ${(err as Error).message}`;
      }
      await db.webhookDelivery.update({
        where: { id: delivery.id },
        data: { lastStatusCode: statusCode ?? null, lastError: error },
      });
      throw ApplicationFailure.retryable(error, "DeliveryFailed");
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
