// Publishing one event: record it (or take it from the outbox relay, workflows/event-relay.ts), hand its subscribers out in pages, one batch workflow per page
// (deliverEventBatch: its endpoints in parallel, each delivery retried for up to a day), and
// publish it to the broker when one is configured. Started by the checkout and refund workflows
// as an abandoned child, so nothing here can slow them down.
//
// Why pages: a workflow may have at most 2,000 activities in flight (Temporal's limit), and its
// history grows with every delivery, so an event once delivered from this one workflow reached no
// one past 2,000 subscribers. A batch has at most WEBHOOK_FANOUT_BATCH_SIZE deliveries (1,000 at
// most); batches are started and not waited for (a subscriber that takes a day of retries delays
// no other batch); and after BATCHES_PER_RUN batches this workflow continues as new, so its own
// history stays short whatever the number of endpoints.

import {
  ActivityFailure,
  continueAsNew,
  ParentClosePolicy,
  patched,
  proxyActivities,
  startChild,
  WorkflowIdReusePolicy,
  workflowInfo,
} from "@temporalio/workflow";
import type { RecordEventInput } from "../activities/events.ts";
import type { Activities } from "../activities/index.ts";
import { isAlreadyStarted } from "./already-started.ts";
import { eventBatchWorkflowId, eventWorkflowId } from "./definitions.ts";
import { deliveryActivityOptions, orderActivityOptions } from "./retry-policies.ts";
import type { CheckoutEvent, EventType } from "./types.ts";

const { recordEvent, storeEvent, subscriberPage, abandonDelivery } = proxyActivities<Activities>(orderActivityOptions);
const { deliverWebhook, publishToBroker } = proxyActivities<Activities>(deliveryActivityOptions);

/** Runs that started before it deliver to every endpoint from this workflow, as they began. */
export const FANOUT_IN_BATCHES = "fanout-in-batches";
/** Batches one run starts before it continues as new (each costs the history about a dozen events). */
const BATCHES_PER_RUN = 100;

/** Where a publication that continued as new goes on from. */
export interface FanoutProgress {
  event: CheckoutEvent;
  /** The last endpoint handed to a batch ("" for none yet: the relay's fan-outs start so). */
  after: string;
  batches: number;
  endpoints: number;
  published: boolean;
}

export interface PublishEventInput extends RecordEventInput {
  /** Carried over by continue-as-new. */
  progress?: FanoutProgress;
}

export interface PublishResult {
  eventId: string;
  published: boolean;
  /** The endpoints handed out, and the batch workflows (`<this workflow's id>-batch-<n>`) delivering to them. */
  endpoints?: number;
  batches?: number;
  /** Runs from before batching: deliveries made, and abandoned after their retries. */
  delivered?: number;
  failed?: number;
}

export async function publishEvent(input: PublishEventInput): Promise<PublishResult> {
  if (!input.progress && !patched(FANOUT_IN_BATCHES)) return publishFromHere(input);
  const event = input.progress?.event ?? (await storeEvent(input));
  const broker = input.progress ? Promise.resolve({ published: input.progress.published }) : publishToBroker({ event });
  let after: string | null = input.progress?.after ?? null;
  let batches = input.progress?.batches ?? 0;
  let endpoints = input.progress?.endpoints ?? 0;
  for (let startedHere = 1; ; startedHere++) {
    const page = await subscriberPage({ event, checkoutId: input.checkoutId, after });
    if (page.endpointIds.length > 0) {
      batches++;
      endpoints += page.endpointIds.length;
      await startBatch({ event, endpointIds: page.endpointIds }, batches);
    }
    if (!page.next) break;
    after = page.next;
    if (startedHere >= BATCHES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      // The broker's answer first: an activity still in flight would be lost with this run.
      const { published } = await broker;
      return await continueAsNew<typeof publishEvent>({ ...input, progress: { event, after, batches, endpoints, published } });
    }
  }
  const { published } = await broker;
  return { eventId: event.id, published, endpoints, batches };
}

export interface DeliveryBatch {
  event: CheckoutEvent;
  endpointIds: string[];
}

/** One page of an event's subscribers: every delivery in parallel, each with its own retries. */
export async function deliverEventBatch({ event, endpointIds }: DeliveryBatch): Promise<{ delivered: number; failed: number }> {
  const results = await Promise.all(endpointIds.map((endpointId) => deliverTo(event, endpointId)));
  const delivered = results.filter(Boolean).length;
  return { delivered, failed: results.length - delivered };
}

async function startBatch(batch: DeliveryBatch, number: number) {
  try {
    await startChild(deliverEventBatch, {
      workflowId: eventBatchWorkflowId(workflowInfo().workflowId, number),
      args: [batch],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
  } catch (err) {
    // Started before this run was reset or retried: that batch is on its way.
    if (!isAlreadyStarted(err)) throw err;
  }
}

/** A delivery and its retries; once they are spent, the delivery is marked failed. */
async function deliverTo(event: CheckoutEvent, endpointId: string): Promise<boolean> {
  try {
    await deliverWebhook({ event, endpointId });
    return true;
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    await abandonDelivery({ eventId: event.id, endpointId, reason: err.cause?.message ?? err.message });
    return false;
  }
}

/** How runs that started before FANOUT_IN_BATCHES go on: every delivery from this workflow. */
async function publishFromHere(input: RecordEventInput): Promise<PublishResult> {
  const { event, endpointIds } = await recordEvent(input);
  const deliveries = endpointIds.map((endpointId) => deliverTo(event, endpointId));
  const [results, broker] = await Promise.all([Promise.all(deliveries), publishToBroker({ event })]);
  const delivered = results.filter(Boolean).length;
  return { eventId: event.id, delivered, failed: results.length - delivered, published: broker.published };
}

/** Starts the publication of an event and returns at once; a second start (retry, reset) is a no-op. */
export async function emitEvent(sourceWorkflowId: string, type: EventType, checkoutId: string, data: Record<string, unknown>) {
  await startFanout({ workflowId: eventWorkflowId(sourceWorkflowId, type), sourceWorkflowId, type, checkoutId, data });
}

/** Starts an event's publication workflow (abandoned: it outlives whoever started it), once. */
export async function startFanout({ workflowId, ...input }: PublishEventInput & { workflowId: string }) {
  try {
    await startChild(publishEvent, {
      workflowId,
      args: [input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
  } catch (err) {
    if (!isAlreadyStarted(err)) throw err;
  }
}
