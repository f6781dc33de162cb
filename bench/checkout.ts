// `npm run bench`: the checkout against a bare reference, in the same run, on the same Temporal
// server. Starts the embedded stack (bench/stack.ts) and the bare reference's worker, warms both
// up, then runs at BENCH_CONCURRENCY: the bare workflow (three no-op activities with the
// checkout's activity options, bench/bare-workflow.ts), the checkout through the API, the
// checkout again with BENCH_WORKERS worker processes when that is above 1, and the bare workflow
// again; then the sweep over BENCH_SWEEP for the chart, and BENCH_MEMORY's phase. Prints each
// phase's figures, the ratios to the mean of the two bare runs and issue #13's targets; writes
// bench/results/<time>.json, latest.json and the chart (BENCH_CHART, docs/bench.svg; BENCH_REDRAW
// draws it again from a result file, nothing run). Numbers, not verdicts: nothing here fails on a
// speed. Every option is in bench/options.ts.
import os from "node:os";
import path from "node:path";
import { Client } from "@temporalio/client";
import { SCOPES } from "../api/caller.ts";
import { loadPayloadCodec } from "../codec/settings.ts";
import { loadConfig, loadPayloadEncryption, projectRoot } from "../config.ts";
import { createApiKey } from "../merchants/api-keys.ts";
import { DEFAULT_MERCHANT_ID } from "../merchants/merchants.ts";
import { createDb } from "../prisma/client.ts";
import { connectClient } from "../wiring.ts";
import { heapFigures } from "./heap.ts";
import { loadBenchOptions, sdkDefaultMaxCachedWorkflows } from "./options.ts";
import { type BenchContext, type PhaseResult, type PhaseSpec, runPhase } from "./phase.ts";
import { summarizeProfile } from "./profile-summary.ts";
import { type BenchResult, printResult, redraw, writeResult } from "./report.ts";
import { startStack } from "./stack.ts";
import { compare, evaluateTargets, type MemoryCheck, type MemoryRound } from "./targets.ts";

const options = loadBenchOptions();
const log = (line: string) => console.error(`[bench] ${line}`);
if (options.redraw) {
  const chart = path.resolve(projectRoot, options.chart ?? "docs/bench.svg");
  await redraw(path.resolve(projectRoot, options.redraw), chart);
  console.log(`drew ${path.relative(projectRoot, chart)} again from ${options.redraw}`);
  process.exit(0);
}
const startedAt = new Date().toISOString();
const loadStart = os.loadavg();
const cache = workerCache();

log(
  `starting the stack (${options.temporalAddress ? `Temporal at ${options.temporalAddress}` : "embedded Temporal"}, ${options.databaseUrl ? "external" : "embedded"} PostgreSQL)`,
);
const stack = await startStack(options);
const connection = await connectClient({
  address: stack.temporalAddress,
  namespace: stack.namespace,
  codec: (await loadPayloadCodec(loadPayloadEncryption(stack.env), "external")).codec,
});
const db = createDb(stack.databaseUrl);
try {
  const { key: apiKey } = await createApiKey(db, {
    merchantId: DEFAULT_MERCHANT_ID,
    type: "secret",
    scopes: SCOPES.filter((s) => s.startsWith("checkouts:")),
    name: "npm run bench",
  });
  const ctx: BenchContext = {
    stack,
    checkoutClient: connection.client,
    bareClient: new Client({ connection: connection.connection, namespace: stack.namespace }),
    apiKey,
    db,
    paymentRetryWindowSeconds: loadConfig(stack.env, { embedded: true }).paymentRetryWindowSeconds,
  };
  const phase = async (spec: PhaseSpec): Promise<PhaseResult> => {
    const result = await runPhase(ctx, spec);
    log(
      `${spec.label} at ${spec.concurrency}: ${spec.count} in ${result.seconds.toFixed(1)} s, ${result.throughput.toFixed(2)}/s, ` +
        `p50 ${Math.round(result.latencyMs.p50)} ms, p99 ${Math.round(result.latencyMs.p99)} ms, ` +
        `${result.cpuMsPerWorkflow.total.toFixed(1)} ms CPU each`,
    );
    return result;
  };
  const { checkouts: count, concurrency } = options;

  // First runs pay for bundles, JIT and connections: not measured.
  log("warming up");
  await runPhase(ctx, { label: "warm-up", kind: "bare", count: 16, concurrency: 4, workers: 1 });
  await runPhase(ctx, { label: "warm-up", kind: "checkout", count: 16, concurrency: 4, workers: 1 });

  const table = [await phase({ label: "bare", kind: "bare", count, concurrency, workers: 1 })];
  table.push(await phase({ label: "checkout", kind: "checkout", count, concurrency, workers: 1 }));
  if (options.workers > 1) {
    const label = `checkout, ${options.workers} workers`;
    table.push(await phase({ label, kind: "checkout", count, concurrency, workers: options.workers }));
  }
  table.push(await phase({ label: "bare again", kind: "bare", count, concurrency, workers: 1 }));
  const bares = table.filter((p) => p.kind === "bare");
  const [checkout, scaled] = [table[1], options.workers > 1 ? table[2] : undefined];

  const sweep: BenchResult["sweep"] = [];
  for (const c of options.sweep) {
    const n = options.sweepCheckouts(c);
    const bare = await phase({ label: "sweep bare", kind: "bare", count: n, concurrency: c, workers: 1 });
    sweep.push({
      concurrency: c,
      bare,
      checkout: await phase({ label: "sweep checkout", kind: "checkout", count: n, concurrency: c, workers: 1 }),
    });
  }

  let memory: BenchResult["memory"];
  if (options.memory) {
    // A cache of 0 (none) has no multiple to run: BENCH_MEMORY_CHECKOUTS says how many then.
    const checkouts = options.memoryCheckouts ?? Math.max(10 * cache.size, options.checkouts);
    // Twice: what the first round adds and the second does not is the process reaching its
    // working size; what the second adds again is growth.
    const rounds: MemoryRound[] = [];
    for (const label of ["memory", "memory, again"]) {
      log(`${label}: ${checkouts} checkouts (worker cache ${cache.size}, ${cache.source})`);
      const heapBefore = await heapFigures(stack.serviceMetricsUrl);
      const result = await phase({ label, kind: "checkout", count: checkouts, concurrency, workers: 1 });
      const heapAfter = await heapFigures(stack.serviceMetricsUrl);
      const { before, after } = result.memoryMiB.service;
      rounds.push({ phase: result, before: { rssMiB: before, ...heapBefore }, after: { rssMiB: after, ...heapAfter } });
    }
    const [first, again] = rounds;
    const check: MemoryCheck = {
      warmMiB: first.before.rssMiB,
      afterMiB: first.after.rssMiB,
      againMiB: again.after.rssMiB,
      checkouts,
      cacheSize: cache.size,
      points: [first.before, first.after, again.after],
    };
    memory = { ...check, phase: first.phase, again: again.phase };
  }

  const ratios = compare(checkout, bares);
  const result: BenchResult = {
    command: commandLine(),
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      loadAverage: { start: loadStart, end: os.loadavg() },
    },
    settings: {
      checkouts: count,
      concurrency,
      workers: options.workers,
      temporal: stack.embedded.temporal ? "embedded dev server" : "external",
      postgres: stack.embedded.postgres ? "embedded" : "external",
      workerCache: cache,
    },
    table,
    ratios,
    targets: evaluateTargets({
      ratios,
      checkoutHistoryEvents: checkout.historyEvents,
      workflowsPerCheckout: checkout.started.perWorkflow,
      memory,
    }),
    ...(scaled
      ? { scaleOut: { workers: options.workers, vsOneWorker: compare(scaled, [checkout]), vsBare: compare(scaled, bares) } }
      : {}),
    sweep,
    ...(memory ? { memory } : {}),
  };
  printResult(result);
  const chart = options.chart && path.resolve(projectRoot, options.chart);
  const written = await writeResult(result, path.join(projectRoot, "bench", "results"), chart);
  const shown = (file: string) => (file.startsWith(projectRoot) ? path.relative(projectRoot, file) : file);
  console.log(`\nwritten: ${written.map(shown).join(", ")}`);
} finally {
  await db.$disconnect();
  await connection.close();
  await stack.stop();
}
// Written as the service exited.
if (options.profile) await printProfile(path.resolve(projectRoot, options.profile));

async function printProfile(file: string) {
  const { busyMs, owners } = await summarizeProfile(file, projectRoot).catch((err: Error) => {
    console.log(`\nno CPU profile of the service at ${file}: ${err.message}`);
    return { busyMs: 0, owners: [] };
  });
  if (!busyMs) return;
  console.log(
    `\nThe service process's CPU over the whole run, by owner (${Math.round(busyMs)} ms busy; ${path.relative(projectRoot, file)}):`,
  );
  for (const { owner, ms, share } of owners.filter((o) => o.share >= 0.002)) {
    console.log(`${String(Math.round(ms)).padStart(8)} ms ${(share * 100).toFixed(1).padStart(5)}%  ${owner}`);
  }
}

/** The workers' sticky cache: WORKER_MAX_CACHED_WORKFLOWS (config.ts), else the SDK's default. */
function workerCache(): { size: number; source: string } {
  const set = loadConfig(process.env).workerTuning.maxCachedWorkflows;
  return set === undefined
    ? { size: sdkDefaultMaxCachedWorkflows(), source: "the SDK's default for this heap" }
    : { size: set, source: "WORKER_MAX_CACHED_WORKFLOWS" };
}

/** `npm run bench` with the options it was given, as a label for its figures. */
function commandLine(): string {
  const given = Object.entries(process.env)
    .filter(([name]) => name.startsWith("BENCH_") || name.startsWith("WORKER_"))
    .map(([name, value]) => `${name}=${(value ?? "").replace(/\/\/[^@/]*@/, "//***@")}`)
    .sort();
  return [...given, "npm run bench"].join(" ");
}
