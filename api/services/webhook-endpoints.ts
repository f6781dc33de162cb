// Webhook subscriptions: a URL and the event types it wants. The signing secret is shown once,
// at creation; every delivery is logged.
import { randomBytes } from "node:crypto";
import type { Db } from "../../prisma/client.ts";
import { notFound } from "../errors.ts";

type EndpointRow = NonNullable<Awaited<ReturnType<Db["webhookEndpoint"]["findUnique"]>>>;
const view = (e: EndpointRow) => ({ id: e.id, url: e.url, eventTypes: e.eventTypes, createdAt: e.createdAt.toISOString() });

export function webhookEndpointService(db: Db) {
  async function find(merchantId: string, id: string) {
    const endpoint = await db.webhookEndpoint.findUnique({ where: { id } });
    if (!endpoint || endpoint.deletedAt || endpoint.merchantId !== merchantId) throw notFound("webhook endpoint", id);
    return endpoint;
  }

  async function create(merchantId: string, request: { url: string; eventTypes: string[] }) {
    const endpoint = await db.webhookEndpoint.create({
      data: {
        id: `we_${randomBytes(12).toString("hex")}`,
        merchantId,
        url: request.url,
        eventTypes: [...new Set(request.eventTypes)],
        secret: `whsec_${randomBytes(24).toString("base64url")}`,
      },
    });
    return { ...view(endpoint), secret: endpoint.secret };
  }

  async function list(merchantId: string) {
    const rows = await db.webhookEndpoint.findMany({ where: { merchantId, deletedAt: null }, orderBy: { createdAt: "asc" } });
    return rows.map(view);
  }

  /** Unsubscribes: no more deliveries, pending retries stop. */
  async function remove(merchantId: string, id: string) {
    const endpoint = await find(merchantId, id);
    await db.webhookEndpoint.update({ where: { id: endpoint.id }, data: { deletedAt: new Date() } });
  }

  /** The delivery log, newest first. */
  async function deliveries(merchantId: string, id: string) {
    const endpoint = await find(merchantId, id);
    const rows = await db.webhookDelivery.findMany({
      where: { endpointId: endpoint.id },
      include: { event: { select: { type: true } } },
      orderBy: { createdAt: "desc" },
      take: 200,
    });
    return rows.map((d) => ({
      id: d.id,
      eventId: d.eventId,
      eventType: d.event.type,
      status: d.status,
      attempts: d.attempts,
      lastStatusCode: d.lastStatusCode,
      lastError: d.lastError,
      deliveredAt: d.deliveredAt?.toISOString() ?? null,
      createdAt: d.createdAt.toISOString(),
    }));
  }

  return { create, list, remove, deliveries };
}

export type WebhookEndpointService = ReturnType<typeof webhookEndpointService>;
