// The long-running workflows every worker makes sure of when it starts, on its own task queue:
// the event relay (workflows/event-relay.ts). Starting one that runs already is a no-op, so any
// number of workers may start at once.
import { type Client, WorkflowIdConflictPolicy } from "@temporalio/client";
import { eventRelayWorkflowId } from "../workflows/definitions.ts";
import type { relayEvents } from "../workflows/event-relay.ts";

export async function ensureEventRelay(client: Client, taskQueue: string): Promise<void> {
  await client.workflow.start<typeof relayEvents>("relayEvents", {
    workflowId: eventRelayWorkflowId(taskQueue),
    taskQueue,
    args: [{}],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    staticSummary: "Hands the events in the outbox to the broker and to their subscribers",
  });
}
