// The event publisher's fan-out with stubbed activities, on the run's Temporal server: more
// pages of subscribers than one run starts batches for, so the publisher continues as new, and
// every endpoint still gets its one delivery, each batch in a workflow of its own.
import { randomBytes } from "node:crypto";
import { ApplicationFailure } from "@temporalio/common";
import { DefaultLogger, NativeConnection, Runtime, Worker } from "@temporalio/worker";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { SubscriberPage } from "../../activities/events.ts";
import { connectClient, dataConverter, type TemporalClient } from "../../wiring.ts";
import { eventBatchWorkflowId, eventWorkflowId } from "../../workflows/definitions.ts";
import type { PublishResult, publishEvent } from "../../workflows/events.ts";
import type { CheckoutEvent } from "../../workflows/types.ts";
import { runCodec } from "../support/stack.ts";

const ENDPOINTS = 105; // one per page: 100 batches in the first run, 5 in the run it continues as
const ids = Array.from({ length: ENDPOINTS }, (_, i) => `we_${String(i).padStart(4, "0")}`);

let temporal: TemporalClient;
let connection: NativeConnection;
beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger("ERROR") });
  temporal = await connectClient({ address: inject("temporalAddress"), namespace: "default", codec: runCodec() });
  connection = await NativeConnection.connect({ address: inject("temporalAddress") });
});
afterAll(async () => {
  await connection?.close();
  await temporal?.close();
});

it("hands every subscriber to a batch, continuing as new past a run's batches, and each is delivered once", async () => {
  const delivered: string[] = [];
  const abandoned: string[] = [];
  let published = 0;
  let event: CheckoutEvent | undefined;
  const activities = {
    storeEvent: async (input: { type: CheckoutEvent["type"] }) => {
      event = { id: `evt_${randomBytes(4).toString("hex")}`, type: input.type, createdAt: new Date().toISOString(), data: {} };
      return event;
    },
    subscriberPage: async ({ after }: { after: string | null }): Promise<SubscriberPage> => {
      const start = after ? ids.indexOf(after) + 1 : 0;
      const page = ids.slice(start, start + 1);
      return { endpointIds: page, next: start + 1 < ids.length ? page[0] : null };
    },
    deliverWebhook: async ({ endpointId }: { endpointId: string }) => {
      if (endpointId === ids[7]) throw ApplicationFailure.nonRetryable("endpoint deleted", "EndpointDeleted");
      delivered.push(endpointId);
      return { statusCode: 200 };
    },
    abandonDelivery: async ({ endpointId }: { endpointId: string }) => {
      abandoned.push(endpointId);
    },
    publishToBroker: async () => {
      published++;
      return { published: true };
    },
  };
  const taskQueue = `fanout-${randomBytes(4).toString("hex")}`;
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: { codePath: inject("workflowBundlePath") },
    dataConverter: dataConverter(runCodec()),
    activities,
  });
  const sourceWorkflowId = `checkout-chk_${randomBytes(16).toString("hex")}`;
  const workflowId = eventWorkflowId(sourceWorkflowId, "payment.succeeded");
  await worker.runUntil(async () => {
    const handle = await temporal.client.workflow.start<typeof publishEvent>("publishEvent", {
      args: [{ sourceWorkflowId, type: "payment.succeeded", checkoutId: "chk_1", data: {} }],
      taskQueue,
      workflowId,
    });
    const result: PublishResult = await handle.result();
    expect(result).toEqual({ eventId: event!.id, published: true, endpoints: ENDPOINTS, batches: ENDPOINTS });
    const first = await temporal.client.workflow.getHandle(workflowId, handle.firstExecutionRunId).describe();
    expect(first.status.name).toBe("CONTINUED_AS_NEW");

    let sum = { delivered: 0, failed: 0 };
    for (let n = 1; n <= ENDPOINTS; n++) {
      const batch = await temporal.client.workflow.getHandle(eventBatchWorkflowId(workflowId, n)).result();
      sum = { delivered: sum.delivered + batch.delivered, failed: sum.failed + batch.failed };
    }
    expect(sum).toEqual({ delivered: ENDPOINTS - 1, failed: 1 });
  });
  expect([...delivered].sort()).toEqual(ids.filter((id) => id !== ids[7]));
  expect(abandoned).toEqual([ids[7]]);
  expect(published).toBe(1);
}, 180_000);
