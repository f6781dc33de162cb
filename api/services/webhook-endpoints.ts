// Webhook subscriptions: a URL and the event types it wants. The URL must pass the SSRF guard
// (webhooks/target.ts); the signing secret is shown once, at creation or rotation, and kept
// sealed; a merchant has at most WEBHOOK_MAX_ENDPOINTS live endpoints; every delivery is logged.
// Every lookup is the caller's merchant's: another merchant's endpoint answers 404.
import { randomBytes } from "node:crypto";
import type { Prisma } from "../../generated/prisma/client.ts";
import type { Db } from "../../prisma/client.ts";
import { openFor, sealedForm, sealFor } from "../../webhooks/secrets.ts";
import { newSigningSecret } from "../../webhooks/signing.ts";
import { checkTarget, type TargetPolicy, TargetRefused } from "../../webhooks/target.ts";
import { ApiError, notFound } from "../errors.ts";

export interface WebhookEndpointSettings {
  /** Seals the signing secrets (WEBHOOK_SECRET_KEY). */
  secretKey: Buffer;
  /** Who may be a target (WEBHOOK_ALLOW_HTTP, WEBHOOK_ALLOW_PRIVATE_TARGETS). */
  targets: TargetPolicy;
  /** Live endpoints allowed (WEBHOOK_MAX_ENDPOINTS). */
  maxEndpoints: number;
  /** How long the previous secret still signs after a rotation (WEBHOOK_SECRET_ROTATION_GRACE_SECONDS). */
  rotationGraceSeconds: number;
}

type EndpointRow = NonNullable<Awaited<ReturnType<Db["webhookEndpoint"]["findUnique"]>>>;
const view = (e: EndpointRow) => ({ id: e.id, url: e.url, eventTypes: e.eventTypes, createdAt: e.createdAt.toISOString() });

/** pg_advisory_xact_lock(class, key) class that serializes a merchant's creations, so its cap holds under concurrent requests. */
const CREATE_LOCK = 72_443_910;

/** The live endpoints of a merchant: what it sees, and what counts towards its cap. */
function liveEndpoints(merchantId: string): Prisma.WebhookEndpointWhereInput {
  return { merchantId, deletedAt: null };
}

export function webhookEndpointService(db: Db, settings: WebhookEndpointSettings) {
  async function find(merchantId: string, id: string) {
    const endpoint = await db.webhookEndpoint.findFirst({ where: { ...liveEndpoints(merchantId), id } });
    if (!endpoint) throw notFound("webhook endpoint", id);
    return endpoint;
  }

  /**
   * The URL as it will be called (WHATWG-normalized), or 422 naming `url` with the guard's reason:
   * a URL of the right shape that this deployment will not send to.
   */
  async function allowedUrl(url: string): Promise<string> {
    try {
      return (await checkTarget(url, settings.targets)).url.href;
    } catch (err) {
      if (!(err instanceof TargetRefused)) throw err;
      throw new ApiError(422, "url_not_allowed", "Webhooks may not be sent to this URL; see fields.", [
        { field: "url", reason: err.reason },
      ]);
    }
  }

  async function create(merchantId: string, request: { url: string; eventTypes: string[] }) {
    const url = await allowedUrl(request.url);
    const id = `we_${randomBytes(12).toString("hex")}`;
    const secret = newSigningSecret();
    const endpoint = await db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CREATE_LOCK}::int, hashtext(${merchantId}))`;
      const live = await tx.webhookEndpoint.count({ where: liveEndpoints(merchantId) });
      if (live >= settings.maxEndpoints) {
        throw new ApiError(
          409,
          "endpoint_limit_reached",
          `This merchant has ${live} webhook endpoints, the most allowed (${settings.maxEndpoints}, WEBHOOK_MAX_ENDPOINTS): delete one before adding another.`,
        );
      }
      return tx.webhookEndpoint.create({
        data: {
          id,
          merchantId,
          url,
          eventTypes: [...new Set(request.eventTypes)],
          secret: sealFor(settings.secretKey, id, secret),
        },
      });
    });
    return { ...view(endpoint), secret };
  }

  async function list(merchantId: string) {
    const rows = await db.webhookEndpoint.findMany({ where: liveEndpoints(merchantId), orderBy: { createdAt: "asc" } });
    return rows.map(view);
  }

  /**
   * A new signing secret, answered once. The one it replaces keeps signing (beside the new one)
   * for the grace period, so a subscriber can switch without losing a delivery.
   */
  async function rotateSecret(merchantId: string, id: string) {
    const endpoint = await find(merchantId, id);
    const secret = newSigningSecret();
    // A secret this key cannot open (sealed under a key since replaced) signs nothing: not kept.
    const keep = settings.rotationGraceSeconds > 0 && opens(endpoint);
    const previousSecretExpiresAt = new Date(Date.now() + settings.rotationGraceSeconds * 1000);
    const { count } = await db.webhookEndpoint.updateMany({
      // Only over the secret just read: two rotations at once cannot both keep theirs.
      where: { id: endpoint.id, secret: endpoint.secret },
      data: {
        secret: sealFor(settings.secretKey, endpoint.id, secret),
        previousSecret: keep ? sealedForm(settings.secretKey, endpoint.id, endpoint.secret) : null,
        previousSecretExpiresAt: keep ? previousSecretExpiresAt : null,
      },
    });
    if (count === 0) throw new ApiError(409, "rotation_in_progress", "The secret was rotated meanwhile; rotate again if needed.");
    return {
      id: endpoint.id,
      secret,
      previousSecretExpiresAt: keep ? previousSecretExpiresAt.toISOString() : null,
    };
  }

  function opens(endpoint: EndpointRow): boolean {
    try {
      openFor(settings.secretKey, endpoint.id, endpoint.secret);
      return true;
    } catch {
      return false;
    }
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

  return { create, list, rotateSecret, remove, deliveries };
}

export type WebhookEndpointService = ReturnType<typeof webhookEndpointService>;
