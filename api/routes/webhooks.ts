// POST /webhooks/{provider}: a provider tells us about a payment (api/services/provider-webhooks.ts
// verifies it over the raw body and signals the checkout).
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../router.ts";
import { ErrorResponse, json } from "../schemas.ts";
import type { ProviderWebhookService } from "../services/provider-webhooks.ts";

const Received = z
  .object({
    received: z.boolean(),
    matched: z.boolean().optional(),
    duplicate: z.boolean().optional(),
    ignored: z.boolean().optional().openapi({
      description: "The checkout has had as many events as it takes (WEBHOOK_SIGNALS_PER_CHECKOUT): not signalled",
    }),
  })
  .openapi("WebhookReceived");

const receiveWebhook = createRoute({
  method: "post",
  path: "/webhooks/{provider}",
  summary: "Where a payment provider sends its webhooks (signed; configure https://<your host>/webhooks/<provider>)",
  request: {
    params: z.object({ provider: z.string().min(1).max(40).openapi({ example: "stripe" }) }),
    // A plain JSON schema, not a zod one, so that nothing parses the body before the signature
    // is checked over its exact bytes.
    body: {
      required: true,
      description: "The provider's event, exactly as it sends it",
      content: { "application/json": { schema: { type: "object" } } },
    },
  },
  responses: {
    200: json(
      Received,
      "Accepted: matched to a checkout (signalled, unless `ignored`), a duplicate, or about no checkout we know",
    ),
    400: json(ErrorResponse, "A missing, wrong or stale signature, or a body that is not the provider's JSON"),
    404: json(ErrorResponse, "No such provider configured here"),
    503: json(ErrorResponse, "Verifying needs the provider, which does not answer: the provider redelivers"),
  },
});

export function webhookRoutes(webhooks: ProviderWebhookService) {
  return createRouter().openapi(receiveWebhook, async (c) =>
    // Header names come in lower case; the body is read as text, unparsed.
    c.json(await webhooks.receive(c.req.param("provider"), await c.req.text(), c.req.header()), 200),
  );
}
