// The load: `count` workflows, `concurrency` of them in flight at once, each timed from its start
// to its result. A checkout starts with POST /checkouts (a sandbox card that is approved) and
// ends with its workflow's result; a bare workflow starts with the client's workflow.start. An
// overloaded API's 503 or 429 is retried under the same Idempotency-Key after Retry-After, as a
// client would (the time counts); a workflow that fails is counted, not timed, and the run goes on.
import { randomBytes } from "node:crypto";
import type { Client } from "@temporalio/client";
import { checkoutWorkflowId } from "../workflows/definitions.ts";
import type { bareCheckout } from "./bare-workflow.ts";

export interface Timed {
  workflowId: string;
  /** From the start (the POST, or workflow.start) to the workflow's result. */
  latencyMs: number;
  /** How long POST /checkouts took to answer, its last attempt (checkouts only). */
  postMs?: number;
  /** POSTs answered 503 or 429, or not at all, before the one that was taken. */
  retries?: number;
  /** Why the workflow did not complete; such a run is left out of the latencies and the throughput. */
  failure?: string;
}

export interface LoadResult {
  timed: Timed[];
  /** From the first start to the last result. */
  seconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const POST_ATTEMPTS = 5;

export async function runLoad(count: number, concurrency: number, one: (i: number) => Promise<Timed>): Promise<LoadResult> {
  const timed: Timed[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) timed.push(await one(next++));
    }),
  );
  return { timed, seconds: (performance.now() - started) / 1000 };
}

/** One sandbox checkout through the API, from its POST to its workflow's result. */
export function checkoutThroughApi(apiUrl: string, apiKey: string, client: Client) {
  const run = randomBytes(4).toString("hex");
  return async (i: number): Promise<Timed> => {
    const t0 = performance.now();
    const body = JSON.stringify({
      customer: { id: `cus_bench_${i % 20}`, email: "bench@example.com" },
      items: [{ sku: "tee", name: "T-shirt", quantity: 2, unitAmount: 1999 }],
      currency: "USD",
      payment: { provider: "sandbox", token: "tok_approve" },
    });
    const headers = {
      "content-type": "application/json",
      "idempotency-key": `bench-${run}-${i}`,
      authorization: `Bearer ${apiKey}`,
    };
    for (let attempt = 1; ; attempt++) {
      const posted = performance.now();
      const res = await fetch(`${apiUrl}/checkouts`, { method: "POST", headers, body }).catch(() => undefined);
      if (res?.status === 202) {
        const { id } = (await res.json()) as { id: string };
        const postMs = performance.now() - posted;
        const workflowId = checkoutWorkflowId(id);
        const failure = await client.workflow
          .getHandle(workflowId)
          .result()
          .then(
            () => undefined,
            (err: Error) => err.message,
          );
        return { workflowId, latencyMs: performance.now() - t0, postMs, retries: attempt - 1, failure };
      }
      const status = res?.status ?? "no answer";
      if (attempt === POST_ATTEMPTS || (res && res.status !== 503 && res.status !== 429)) {
        throw new Error(`POST /checkouts answered ${status} (attempt ${attempt}): ${res ? await res.text() : ""}`);
      }
      await sleep((Number(res?.headers.get("retry-after")) || 1) * 1000);
    }
  };
}

/** One bare reference workflow, from workflow.start to its result. */
export function bareWorkflow(client: Client, taskQueue: string, paymentRetryWindowSeconds: number) {
  const run = randomBytes(4).toString("hex");
  return async (i: number): Promise<Timed> => {
    const t0 = performance.now();
    const handle = await client.workflow.start<typeof bareCheckout>("bareCheckout", {
      taskQueue,
      workflowId: `bench-bare-${run}-${i}`,
      args: [paymentRetryWindowSeconds],
    });
    const failure = await handle.result().then(
      () => undefined,
      (err: Error) => err.message,
    );
    return { workflowId: handle.workflowId, latencyMs: performance.now() - t0, failure };
  };
}
