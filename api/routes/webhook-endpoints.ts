// /webhook-endpoints: subscribers register a URL and the event types they want. The signing
// secret is shown once, at creation; every delivery is logged.
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
  ...access("webhooks:write"),
  summary: "Subscribe a URL to event types; answers the signing secret once",
  request: { body: { required: true, ...json(EndpointRequest, "Where and what") } },
  responses: { 201: json(CreatedEndpoint, "Subscribed"), 400: json(ErrorResponse, "Invalid request") },
});
const list = createRoute({
  method: "get",
  path: "/webhook-endpoints",
  tags: ["webhook endpoints"],
  ...access("webhooks:read"),
  summary: "The subscribed endpoints (without secrets)",
  responses: { 200: json(z.object({ data: z.array(Endpoint) }), "Endpoints") },
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
    .openapi(remove, async (c) => {
      await endpoints.remove(callerFor(c).merchantId, c.req.valid("param").id);
      return c.body(null, 204);
    })
    .openapi(deliveries, async (c) =>
      c.json({ data: await endpoints.deliveries(callerFor(c).merchantId, c.req.valid("param").id) }, 200),
    );
}
