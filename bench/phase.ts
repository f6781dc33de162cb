// One phase of the bench: a load of bare or checkout workflows, and what it cost. CPU and memory
// are read before the load and after its work has settled (for checkouts: every event relayed
// from the outbox and every run archived by the schedule's batches), so that each phase pays for
// the background work it caused; the throughput and latencies end with the last workflow's result.
import type { Client } from "@temporalio/client";
import type { Db } from "../prisma/client.ts";
import { archiveScheduleId, eventRelayWorkflowId } from "../workflows/definitions.ts";
import { bareWorkflow, checkoutThroughApi, runLoad } from "./load.ts";
import { CLOCK_TICKS, readProcesses, rssMiB, ticksByGroup } from "./proc.ts";
import type { Stack } from "./stack.ts";
import { type Summary, summarize } from "./stats.ts";
import { archiveLagMs, noneRunning, type Started, sampleHistoryEvents, settle, startedWorkflows } from "./workflow-measures.ts";

export type Kind = "bare" | "checkout";

export interface PhaseSpec {
  label: string;
  kind: Kind;
  count: number;
  concurrency: number;
  /** Worker processes polling the checkout task queue. */
  workers: number;
}

export interface PhaseResult extends PhaseSpec {
  seconds: number;
  /** Workflows completed per second. */
  throughput: number;
  /** Workflows that did not complete (left out of the latencies and the throughput), with the first reason. */
  failed: { count: number; first?: string };
  /** POSTs retried after a 503, a 429 or no answer. */
  postRetries: number;
  latencyMs: Summary;
  postMs?: Summary;
  archiveLagMs?: Summary;
  /** CPU time per workflow of the phase, all measured processes, and per group (temporal, postgres, service, bare worker, extra workers). */
  cpuMsPerWorkflow: { total: number; byGroup: Record<string, number> };
  /** Events in the histories of a sample of the phase's own runs. */
  historyEvents: number[];
  /** Workflows started in the phase, by type; per workflow of the phase, the background runs left out. */
  started: Started & { perWorkflow: number; eventsPerWorkflow: number };
  /**
   * Transactions PostgreSQL committed or rolled back in the phase, per workflow (each statement
   * outside BEGIN … COMMIT is one; the bench's own few counting queries while it waits included).
   */
  dbTransactionsPerWorkflow: number;
  /** Resident memory before the load and after it settled, per process (MiB). */
  memoryMiB: Record<string, { before: number; after: number }>;
  /** False when the phase's work had not settled when the bench stopped waiting (5 minutes). */
  settled: boolean;
}

export interface BenchContext {
  stack: Stack;
  /** The checkout's client (the service's payload codec) and the bare one's (none). */
  checkoutClient: Client;
  bareClient: Client;
  apiKey: string;
  db: Db;
  paymentRetryWindowSeconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runPhase(ctx: BenchContext, spec: PhaseSpec): Promise<PhaseResult> {
  const { stack } = ctx;
  await stack.scaleExtraWorkers(spec.kind === "checkout" ? spec.workers - 1 : 0);
  await sleep(1000); // the start of the phase's window is well after the previous phase's last start
  const processes = (): Array<[string, number]> => [
    ["service", stack.service.pid],
    ["bare worker", stack.bareWorker.pid],
    ...stack.extraWorkers.map((w): [string, number] => ["extra workers", w.pid]),
  ];
  const memory = async () =>
    Object.fromEntries(await Promise.all(memoryOf(stack).map(async ([name, pid]) => [name, await rssMiB(pid)] as const)));
  const memoryBefore = await memory();
  const cpuBefore = ticksByGroup(await readProcesses(), processes());
  const transactionsBefore = await databaseTransactions(ctx.db);
  const from = new Date(Date.now() - 500);

  const taskQueue = spec.kind === "bare" ? stack.bareQueue : stack.checkoutQueue;
  const client = spec.kind === "bare" ? ctx.bareClient : ctx.checkoutClient;
  const one =
    spec.kind === "bare"
      ? bareWorkflow(ctx.bareClient, taskQueue, ctx.paymentRetryWindowSeconds)
      : checkoutThroughApi(stack.apiUrl, ctx.apiKey, ctx.checkoutClient);
  const load = await runLoad(spec.count, spec.concurrency, one);
  const workflowIds = load.timed.map((t) => t.workflowId);
  const relay = eventRelayWorkflowId(taskQueue);
  const settled = await settle([
    noneRunning(client, taskQueue, [relay]),
    ...(spec.kind === "checkout"
      ? [
          async () => (await ctx.db.event.count({ where: { dispatchedAt: null } })) === 0,
          async () => (await ctx.db.historyArchive.count({ where: { workflowId: { in: workflowIds } } })) >= workflowIds.length,
        ]
      : []),
  ]);

  const cpuAfter = ticksByGroup(await readProcesses(), processes());
  const memoryAfter = await memory();
  const transactionsAfter = await databaseTransactions(ctx.db);
  const to = new Date();
  const completed = load.timed.filter((t) => t.failure === undefined);
  const failures = load.timed.filter((t) => t.failure !== undefined);
  const started = await startedWorkflows(
    client,
    taskQueue,
    { from, to },
    (id) => id === relay || id.startsWith(`${archiveScheduleId(taskQueue)}-`),
  );
  const perWorkflowMs = (ticks: number) => (ticks / CLOCK_TICKS / spec.count) * 1000;
  const byGroup = Object.fromEntries(
    Object.keys(cpuAfter).map((group) => [group, perWorkflowMs(cpuAfter[group] - (cpuBefore[group] ?? 0))]),
  );
  return {
    ...spec,
    seconds: load.seconds,
    throughput: completed.length / load.seconds,
    failed: { count: failures.length, first: failures[0]?.failure },
    postRetries: load.timed.reduce((sum, t) => sum + (t.retries ?? 0), 0),
    latencyMs: summarize(completed.map((t) => t.latencyMs)),
    ...(spec.kind === "checkout"
      ? {
          postMs: summarize(load.timed.map((t) => t.postMs ?? Number.NaN)),
          archiveLagMs: summarize(await archiveLagMs(ctx.db, workflowIds)),
        }
      : {}),
    cpuMsPerWorkflow: { total: Object.values(byGroup).reduce((a, b) => a + b, 0), byGroup },
    dbTransactionsPerWorkflow: (transactionsAfter - transactionsBefore) / spec.count,
    historyEvents: await sampleHistoryEvents(
      client,
      completed.map((t) => t.workflowId),
    ),
    started: {
      ...started,
      perWorkflow: (started.total - started.background) / spec.count,
      eventsPerWorkflow: started.historyEvents / spec.count,
    },
    memoryMiB: Object.fromEntries(
      Object.keys(memoryAfter).map((name) => [name, { before: memoryBefore[name] ?? Number.NaN, after: memoryAfter[name] }]),
    ),
    settled,
  };
}

/**
 * The database's transactions so far. Each backend reports its counts when idle, at most once a
 * second: read after the phase has settled, the phase's are in.
 */
async function databaseTransactions(db: Db): Promise<number> {
  const [row] = await db.$queryRaw<Array<{ n: bigint }>>`
    SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`;
  return Number(row?.n ?? 0);
}

/** The node processes whose memory is reported: the service (worker and API), the bare worker, each extra worker. */
function memoryOf(stack: Stack): Array<[string, number]> {
  return [
    ["service", stack.service.pid],
    ["bare worker", stack.bareWorker.pid],
    ...stack.extraWorkers.map((w, i): [string, number] => [`worker ${i + 2}`, w.pid]),
  ];
}
