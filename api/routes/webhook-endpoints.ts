// /webhook-endpoints: subscribers register a URL and the event types they want. The URL must be
// one webhooks may go to (https, public addresses: webhooks/target.ts). The signing secret is
// shown once, at creation or rotation; every delivery is logged.
import { createRoute, z } from "@hono/zod-openapi";
import { EVENT_TYPES } from "../../workflows/definitions.ts";
import { access, callerFor } from "../auth.ts";
import { createRouter } from "../router.ts";
import { ErrorResponse, json } from "../schemas.ts";
import type { WebhookEndpointService } from "../services/webhook-endpoints.ts";

const EndpointRequest = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: "must be an http or https URL" })
      .max(2048)
      .openapi({
        example: "https://shop.example/hooks/checkout",
        description:
          "https, on a host with public addresses only (http and private addresses only where development settings allow them)",
      }),
    eventTypes: z.array(z.enum(EVENT_TYPES)).min(1, "must name at least one event type").max(EVENT_TYPES.length),
  })
  .openapi("WebhookEndpointRequest");

const Endpoint = z
  .object({ id: z.string(), url: z.string(), eventTypes: z.array(z.string()), createdAt: z.string() })
  .openapi("WebhookEndpoint");
const SECRET_DESCRIPTION =
  "Signs every delivery (Standard Webhooks: webhook-signature), whsec_<base64>. Shown only now: keep it.";
const CreatedEndpoint = Endpoint.extend({
  secret: z.string().openapi({ description: SECRET_DESCRIPTION }),
}).openapi("WebhookEndpointCreated");
const RotatedSecret = z
  .object({
    id: z.string(),
    secret: z.string().openapi({ description: SECRET_DESCRIPTION }),
    previousSecretExpiresAt: z
      .string()
      .nullable()
      .openapi({ description: "Until then deliveries carry the previous secret's signature too; null: not at all." }),
  })
  .openapi("WebhookSecretRotated");
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
  ...access("webhooks:write"),
  summary: "Subscribe a URL to event types; answers the signing secret once",
  request: { body: { required: true, ...json(EndpointRequest, "Where and what") } },
  responses: {
    201: json(CreatedEndpoint, "Subscribed"),
    400: json(ErrorResponse, "Invalid request"),
    409: json(ErrorResponse, "As many endpoints as allowed already (endpoint_limit_reached)"),
    422: json(ErrorResponse, "A URL webhooks may not go to (url_not_allowed; the field url says why)"),
  },
});
const list = createRoute({
  method: "get",
  path: "/webhook-endpoints",
  tags: ["webhook endpoints"],
  ...access("webhooks:read"),
  summary: "The subscribed endpoints (without secrets)",
  responses: { 200: json(z.object({ data: z.array(Endpoint) }), "Endpoints") },
});
const rotate = createRoute({
  method: "post",
  path: "/webhook-endpoints/{id}/rotate-secret",
  tags: ["webhook endpoints"],
  ...access("webhooks:write"),
  summary: "A new signing secret, answered once; the previous one keeps signing beside it for the grace period",
  request: { params: EndpointId },
  responses: {
    200: json(RotatedSecret, "Rotated"),
    404: json(ErrorResponse, "No such endpoint"),
    409: json(ErrorResponse, "Rotated at the same time by another request"),
  },
});
const remove = createRoute({
  method: "delete",
  path: "/webhook-endpoints/{id}",
  tags: ["webhook endpoints"],
  ...access("webhooks:write"),
  summary: "Unsubscribe: no more deliveries, pending retries stop",
  request: { params: EndpointId },
  responses: { 204: { description: "Deleted" }, 404: json(ErrorResponse, "No such endpoint") },
});
const deliveries = createRoute({
  method: "get",
  path: "/webhook-endpoints/{id}/deliveries",
  tags: ["webhook endpoints"],
  ...access("webhooks:read"),
  summary: "The delivery log: attempts, last status code, delivered at",
  request: { params: EndpointId },
  responses: {
    200: json(z.object({ data: z.array(Delivery) }), "Deliveries, newest first"),
    404: json(ErrorResponse, "No such endpoint"),
  },
});

export function webhookEndpointRoutes(endpoints: WebhookEndpointService) {
  return createRouter()
    .openapi(create, async (c) => c.json(await endpoints.create(callerFor(c).merchantId, c.req.valid("json")), 201))
    .openapi(list, async (c) => c.json({ data: await endpoints.list(callerFor(c).merchantId) }, 200))
    .openapi(rotate, async (c) => c.json(await endpoints.rotateSecret(callerFor(c).merchantId, c.req.valid("param").id), 200))
    .openapi(remove, async (c) => {
      await endpoints.remove(callerFor(c).merchantId, c.req.valid("param").id);
      return c.body(null, 204);
    })
    .openapi(deliveries, async (c) =>
      c.json({ data: await endpoints.deliveries(callerFor(c).merchantId, c.req.valid("param").id) }, 200),
    );
}
