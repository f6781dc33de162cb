// A provider's webhook, once its route has the raw body: the signature is checked over it; a
// bad or stale one is refused (4xx) and nothing is signalled. A duplicate event id is ignored
// (each adapter derives the id from what the provider signed, so a replay under another unsigned
// id is still a duplicate); an event about a payment we do not know is logged and acknowledged.
// Otherwise the checkout's workflow is signalled, and it asks the provider for the truth itself,
// up to maxSignalsPerCheckout events per checkout: past that they are recorded, logged and
// acknowledged, and the workflow is not woken again (each signal costs it a provider lookup and
// history).
import type { Client } from "@temporalio/client";
import { WorkflowNotFoundError } from "@temporalio/common";
import { log } from "../../observability/logger.ts";
import { noteCheckout } from "../../observability/request-log.ts";
import { type Db, Prisma } from "../../prisma/client.ts";
import type { GatewayRegistry } from "../../providers/registry.ts";
import { GatewayUnavailableError, type WebhookEvent, WebhookVerificationError } from "../../providers/types.ts";
import { checkoutWorkflowId, paymentEventSignal } from "../../workflows/definitions.ts";
import { ApiError } from "../errors.ts";

export interface WebhookReceipt {
  received: true;
  matched?: boolean;
  duplicate?: boolean;
  /** The checkout has had maxSignalsPerCheckout events already: this one was not signalled. */
  ignored?: boolean;
}

export interface ProviderWebhookSettings {
  /** Events signalled to one checkout at most (default 100). */
  maxSignalsPerCheckout?: number;
}

export function providerWebhookService(
  gateways: GatewayRegistry,
  db: Db,
  temporal: Client,
  { maxSignalsPerCheckout = 100 }: ProviderWebhookSettings = {},
) {
  async function verify(provider: string, rawBody: string, headers: Record<string, string>): Promise<WebhookEvent> {
    if (!gateways.has(provider)) throw new ApiError(404, "not_found", `No configured provider "${provider}".`);
    try {
      const event = await gateways.get(provider).verifyWebhook({ rawBody, headers });
      if (!event.id) throw new WebhookVerificationError("the event has no id");
      return event;
    } catch (err) {
      if (err instanceof SyntaxError)
        throw new ApiError(400, "malformed_event", "The webhook body is not the JSON the provider sends.");
      if (err instanceof WebhookVerificationError)
        throw new ApiError(400, "invalid_signature", `Webhook refused: ${err.message}.`);
      // Verifying needed the provider (PayPal's API, a Mercado Pago lookup): let it redeliver. Its
      // error (an address, the provider's own answer) goes to the log, not to whoever posted.
      if (err instanceof GatewayUnavailableError) {
        log.warn(`webhook ${provider}: verifying needed the provider, which did not answer: ${err.message}`, { provider });
        throw new ApiError(
          503,
          "provider_unavailable",
          `Verifying the event needs ${provider}, which is not answering; redeliver later.`,
        );
      }
      throw err;
    }
  }

  /** Records the event once (false: a duplicate delivery). */
  async function recordOnce(provider: string, event: WebhookEvent): Promise<boolean> {
    try {
      await db.webhookEvent.create({ data: { provider, eventId: event.id, kind: event.kind, checkoutId: event.checkoutId } });
      return true;
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") return false;
      throw err;
    }
  }

  async function receive(provider: string, rawBody: string, headers: Record<string, string>): Promise<WebhookReceipt> {
    const event = await verify(provider, rawBody, headers);
    if (event.checkoutId) noteCheckout(event.checkoutId);
    if (!(await recordOnce(provider, event))) return { received: true, duplicate: true };

    if (!event.checkoutId) {
      log.warn(`webhook ${provider} ${event.id} (${event.providerType}) is about no checkout we know; acknowledged`, {
        provider,
      });
      return { received: true, matched: false };
    }
    // Counted after recording, this event included: of events recorded at once, no more than the
    // cap ever see a count within it.
    const events = await db.webhookEvent.count({ where: { checkoutId: event.checkoutId } });
    if (events > maxSignalsPerCheckout) {
      log.warn(
        `webhook ${provider} ${event.id} for checkout ${event.checkoutId}: ${events} events, more than the ${maxSignalsPerCheckout} ` +
          "a checkout takes (WEBHOOK_SIGNALS_PER_CHECKOUT); recorded and acknowledged, not signalled",
      );
      return { received: true, matched: true, ignored: true };
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
        log.error(
          `webhook ${provider} ${event.id}: payment ${event.reference} succeeded for ended checkout ${event.checkoutId}; refund it`,
        );
      }
      // Unknown or already finished checkout: nothing to wake, but the provider must not retry forever.
      log.warn(`webhook ${provider} ${event.id} for checkout ${event.checkoutId}: no running checkout; acknowledged`);
      return { received: true, matched: false };
    }
    return { received: true, matched: true };
  }

  return { receive };
}

export type ProviderWebhookService = ReturnType<typeof providerWebhookService>;
