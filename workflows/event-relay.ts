// The event relay: one workflow per task queue (eventRelayWorkflowId), started by every worker
// at start (infra/background-workflows.ts) and running for good. Round after round it takes
// the events the checkouts' activities wrote to the outbox (activities/outbox.ts), and starts a
// fan-out workflow (publishEvent, workflows/events.ts) only for those someone subscribed to. It
// continues as new every ROUNDS_PER_RUN rounds, so its history stays short.
import { ActivityFailure, continueAsNew, log, proxyActivities, sleep, workflowInfo } from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";
import type { RelayedEvent } from "../activities/outbox.ts";
import { eventWorkflowId } from "./definitions.ts";
import { type PublishEventInput, startFanout } from "./events.ts";
import { relayActivityOptions } from "./retry-policies.ts";

const ROUNDS_PER_RUN = 200;

const { relayEvents: relayRound } = proxyActivities<Activities>(relayActivityOptions);

export async function relayEvents({ dispatched = [] }: { dispatched?: string[] } = {}): Promise<never> {
  let handled = dispatched;
  for (let round = 0; round < ROUNDS_PER_RUN && !workflowInfo().continueAsNewSuggested; round++) {
    try {
      const next = await relayRound({ dispatched: handled });
      for (const relayed of next.toFanOut) await startFanout(fanoutInput(relayed));
      handled = next.handled;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // The database or the broker stayed down for the round's whole retry time: the history
      // keeps why; the events wait in the outbox, and the relay tries again in a minute.
      log.warn("event relay round failed", { message: err.cause?.message ?? err.message });
      await sleep("1 minute");
    }
  }
  return await continueAsNew<typeof relayEvents>({ dispatched: handled });
}

/** The fan-out of an event the relay stored and published already: it starts at its first subscriber. */
function fanoutInput({
  event,
  sourceWorkflowId,
  checkoutId,
  published,
}: RelayedEvent): PublishEventInput & { workflowId: string } {
  return {
    workflowId: eventWorkflowId(sourceWorkflowId, event.type),
    sourceWorkflowId,
    type: event.type,
    checkoutId,
    data: event.data,
    progress: { event, after: "", batches: 0, endpoints: 0, published },
  };
}
