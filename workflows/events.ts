// Publishing one event: record it, deliver it to every subscribed endpoint (each retried for up
// to a day, in parallel), and publish it to the broker when one is configured. Started by the
// checkout and refund workflows as an abandoned child, so nothing here can slow them down.

import { ActivityFailure, ParentClosePolicy, proxyActivities, startChild, WorkflowIdReusePolicy } from "@temporalio/workflow";
import type { RecordEventInput } from "../activities/events.ts";
import type { Activities } from "../activities/index.ts";
import { isAlreadyStarted } from "./already-started.ts";
import { eventWorkflowId } from "./definitions.ts";
import { deliveryActivityOptions, orderActivityOptions } from "./retry-policies.ts";
import type { EventType } from "./types.ts";

const { recordEvent, abandonDelivery } = proxyActivities<Activities>(orderActivityOptions);
const { deliverWebhook, publishToBroker } = proxyActivities<Activities>(deliveryActivityOptions);

export interface PublishResult {
  eventId: string;
  delivered: number;
  failed: number;
  published: boolean;
}

export async function publishEvent(input: RecordEventInput): Promise<PublishResult> {
  const { event, endpointIds } = await recordEvent(input);
  const deliveries = endpointIds.map(async (endpointId) => {
    try {
      await deliverWebhook({ event, endpointId });
      return true;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      await abandonDelivery({ eventId: event.id, endpointId, reason: err.cause?.message ?? err.message });
      return false;
    }
  });
  const [results, broker] = await Promise.all([Promise.all(deliveries), publishToBroker({ event })]);
  const delivered = results.filter(Boolean).length;
  return { eventId: event.id, delivered, failed: results.length - delivered, published: broker.published };
}

/** Starts the publication of an event and returns at once; a second start (retry, reset) is a no-op. */
export async function emitEvent(sourceWorkflowId: string, type: EventType, checkoutId: string, data: Record<string, unknown>) {
  try {
    await startChild(publishEvent, {
      workflowId: eventWorkflowId(sourceWorkflowId, type),
      args: [{ sourceWorkflowId, type, checkoutId, data }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
  } catch (err) {
    if (!isAlreadyStarted(err)) throw err;
  }
}
