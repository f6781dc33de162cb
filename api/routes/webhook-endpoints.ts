// /webhook-endpoints: subscribers register a URL and the event types they want. The signing
// secret is shown once, at creation; every delivery is logged.
import { randomBytes } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";
import type { Db } from "../../prisma/client.ts";
import { EVENT_TYPES } from "../../workflows/definitions.ts";
import { notFound } from "../errors.ts";
import { createRouter } from "../router.ts";
import { ErrorResponse, json } from "../schemas.ts";

const EndpointRequest = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: "must be an http or https URL" })
      .max(2048)
      .openapi({ example: "https://shop.example/hooks/checkout" }),
    eventTypes: z.array(z.enum(EVENT_TYPES)).min(1, "must name at least one event type").max(EVENT_TYPES.length),
  })
  .openapi("WebhookEndpointRequest");

const Endpoint = z
  .object({ id: z.string(), url: z.string(), eventTypes: z.array(z.string()), createdAt: z.string() })
  .openapi("WebhookEndpoint");
const CreatedEndpoint = Endpoint.extend({
  secret: z.string().openapi({ description: "Signs every delivery (Checkout-Signature). Shown only now: keep it." }),
}).openapi("WebhookEndpointCreated");
const Delivery = z
  .object({
    id: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    status: z.enum(["PENDING", "DELIVERED", "FAILED"]),
    attempts: z.int(),
    lastStatusCode: z.int().nullable(),
    lastError: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("WebhookDelivery");
const EndpointId = z.object({ id: z.string().min(1).max(100) });

const create = createRoute({
  method: "post",
  path: "/webhook-endpoints",
  tags: ["webhook endpoints"],
  summary: "Subscribe a URL to event types; answers the signing secret once",
  request: { body: { required: true, ...json(EndpointRequest, "Where and what") } },
  responses: { 201: json(CreatedEndpoint, "Subscribed"), 400: json(ErrorResponse, "Invalid request") },
});
const list = createRoute({
  method: "get",
  path: "/webhook-endpoints",
  tags: ["webhook endpoints"],
  summary: "The subscribed endpoints (without secrets)",
  responses: { 200: json(z.object({ data: z.array(Endpoint) }), "Endpoints") },
});
const remove = createRoute({
  method: "delete",
  path: "/webhook-endpoints/{id}",
  tags: ["webhook endpoints"],
  summary: "Unsubscribe: no more deliveries, pending retries stop",
  request: { params: EndpointId },
  responses: { 204: { description: "Deleted" }, 404: json(ErrorResponse, "No such endpoint") },
});
const deliveries = createRoute({
  method: "get",
  path: "/webhook-endpoints/{id}/deliveries",
  tags: ["webhook endpoints"],
  summary: "The delivery log: attempts, last status code, delivered at",
  request: { params: EndpointId },
  responses: {
    200: json(z.object({ data: z.array(Delivery) }), "Deliveries, newest first"),
    404: json(ErrorResponse, "No such endpoint"),
  },
});

type EndpointRow = NonNullable<Awaited<ReturnType<Db["webhookEndpoint"]["findUnique"]>>>;
const view = (e: EndpointRow) => ({ id: e.id, url: e.url, eventTypes: e.eventTypes, createdAt: e.createdAt.toISOString() });

export function webhookEndpointRoutes(db: Db) {
  async function find(id: string) {
    const endpoint = await db.webhookEndpoint.findUnique({ where: { id } });
    if (!endpoint || endpoint.deletedAt) throw notFound("webhook endpoint", id);
    return endpoint;
  }
  return createRouter()
    .openapi(create, async (c) => {
      const body = c.req.valid("json");
      const endpoint = await db.webhookEndpoint.create({
        data: {
          id: `we_${randomBytes(12).toString("hex")}`,
          url: body.url,
          eventTypes: [...new Set(body.eventTypes)],
          secret: `whsec_${randomBytes(24).toString("base64url")}`,
        },
      });
      return c.json({ ...view(endpoint), secret: endpoint.secret }, 201);
    })
    .openapi(list, async (c) => {
      const rows = await db.webhookEndpoint.findMany({ where: { deletedAt: null }, orderBy: { createdAt: "asc" } });
      return c.json({ data: rows.map(view) }, 200);
    })
    .openapi(remove, async (c) => {
      const endpoint = await find(c.req.valid("param").id);
      await db.webhookEndpoint.update({ where: { id: endpoint.id }, data: { deletedAt: new Date() } });
      return c.body(null, 204);
    })
    .openapi(deliveries, async (c) => {
      const endpoint = await find(c.req.valid("param").id);
      const rows = await db.webhookDelivery.findMany({
        where: { endpointId: endpoint.id },
        include: { event: { select: { type: true } } },
        orderBy: { createdAt: "desc" },
        take: 200,
      });
      return c.json(
        {
          data: rows.map((d) => ({
            id: d.id,
            eventId: d.eventId,
            eventType: d.event.type,
            status: d.status,
            attempts: d.attempts,
            lastStatusCode: d.lastStatusCode,
            lastError: d.lastError,
            deliveredAt: d.deliveredAt?.toISOString() ?? null,
            createdAt: d.createdAt.toISOString(),
          })),
        },
        200,
      );
    });
}
