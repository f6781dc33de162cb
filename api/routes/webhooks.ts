// POST /webhooks/{provider}: a provider tells us about a payment. The signature is checked over
// the raw body; a bad or stale one is refused (4xx) and nothing is signalled. A duplicate event
// id is ignored; an event about a payment we do not know is logged and acknowledged. Otherwise
// the checkout's workflow is signalled, and it asks the provider for the truth itself.

import { createRoute, z } from "@hono/zod-openapi";
import type { Client } from "@temporalio/client";
import { WorkflowNotFoundError } from "@temporalio/common";
import { type Db, Prisma } from "../../prisma/client.ts";
import type { GatewayRegistry } from "../../providers/registry.ts";
import { GatewayUnavailableError, WebhookVerificationError } from "../../providers/types.ts";
import { checkoutWorkflowId, paymentEventSignal } from "../../workflows/definitions.ts";
import { ApiError } from "../errors.ts";
import { createRouter } from "../router.ts";
import { ErrorResponse, json } from "../schemas.ts";

const Received = z
  .object({ received: z.boolean(), matched: z.boolean().optional(), duplicate: z.boolean().optional() })
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
    200: json(Received, "Accepted: matched to a checkout (signalled), a duplicate, or about no checkout we know"),
    400: json(ErrorResponse, "A missing, wrong or stale signature, or a body that is not the provider's JSON"),
    404: json(ErrorResponse, "No such provider configured here"),
    503: json(ErrorResponse, "Verifying needs the provider, which does not answer: the provider redelivers"),
  },
});

export function webhookRoutes(gateways: GatewayRegistry, db: Db, temporal: Client) {
  return createRouter().openapi(receiveWebhook, async (c) => {
    const provider = c.req.param("provider");
    if (!gateways.has(provider)) throw new ApiError(404, "not_found", `No configured provider "${provider}".`);
    const rawBody = await c.req.text();
    const headers = c.req.header(); // names in lower case

    let event: Awaited<ReturnType<ReturnType<GatewayRegistry["get"]>["verifyWebhook"]>>;
    try {
      event = await gateways.get(provider).verifyWebhook({ rawBody, headers });
      if (!event.id) throw new WebhookVerificationError("the event has no id");
    } catch (err) {
      if (err instanceof SyntaxError)
        throw new ApiError(400, "malformed_event", "The webhook body is not the JSON the provider sends.");
      if (err instanceof WebhookVerificationError) {
        throw new ApiError(400, "invalid_signature", `Webhook refused: ${err.message}.`);
      }
      // Verifying needed the provider (PayPal's API, a Mercado Pago lookup): let it redeliver.
      if (err instanceof GatewayUnavailableError) throw new ApiError(503, "provider_unavailable", err.message);
      throw err;
    }

    try {
      await db.webhookEvent.create({ data: { provider, eventId: event.id, kind: event.kind, checkoutId: event.checkoutId } });
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") {
        return c.json({ received: true, duplicate: true }, 200);
      }
      throw err;
    }

    if (!event.checkoutId) {
      console.warn(`webhook ${provider} ${event.id} (${event.providerType}) is about no checkout we know; acknowledged`);
      return c.json({ received: true, matched: false }, 200);
    }
    try {
      await temporal.workflow.getHandle(checkoutWorkflowId(event.checkoutId)).signal(paymentEventSignal, {
        provider,
        eventId: event.id,
        kind: event.kind,
        reference: event.reference,
      });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) {
        // Not delivered: forget the event, so that the provider's redelivery is not a "duplicate".
        await db.webhookEvent.delete({ where: { provider_eventId: { provider, eventId: event.id } } }).catch(() => {});
        throw err;
      }
      if (event.kind === "payment.succeeded") {
        // Money arrived for a checkout that has ended (expired, cancelled): someone must refund it.
        console.error(
          `webhook ${provider} ${event.id}: payment ${event.reference} succeeded for ended checkout ${event.checkoutId}; refund it`,
        );
      }
      // Unknown or already finished checkout: nothing to wake, but the provider must not retry forever.
      console.warn(`webhook ${provider} ${event.id} for checkout ${event.checkoutId}: no running checkout; acknowledged`);
      return c.json({ received: true, matched: false }, 200);
    }
    return c.json({ received: true, matched: true }, 200);
  });
}
