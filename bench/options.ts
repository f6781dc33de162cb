// What `npm run bench` is told, all from the environment (README: Tests, Benchmark).
//   BENCH_CHECKOUTS          workflows in each phase of the table: bare, checkout, bare again (200)
//   BENCH_CONCURRENCY        how many are in flight at once in the table's phases (32)
//   BENCH_SWEEP              concurrencies of the chart's sweep, bare and checkout at each
//                            (1,8,32,128; "off" or empty skips the sweep and the chart)
//   BENCH_SWEEP_CHECKOUTS    workflows per phase of the sweep (default: 3 × the concurrency, at least 40)
//   BENCH_WORKERS            worker processes for one more checkout phase in the table (1: no such
//                            phase); the service's own worker plus BENCH_WORKERS − 1 `worker.ts`
//   BENCH_MEMORY             1: a last phase of 10 × the worker's workflow cache in checkouts, the
//                            worker's memory before and after it (off)
//   BENCH_MEMORY_CHECKOUTS   that phase's size instead of 10 × the cache
//   BENCH_TEMPORAL_ADDRESS   a Temporal server of your own instead of the embedded dev server
//                            (TEMPORAL_NAMESPACE and TEMPORAL_TLS_* / TEMPORAL_API_KEY are passed on)
//   BENCH_DATABASE_URL       a PostgreSQL of your own instead of the embedded one (a scratch database:
//                            migrations are applied, the bench's checkouts stay in it)
//   BENCH_CHART              where the sweep's SVG goes (docs/bench.svg; "off": only bench/results/)
//   BENCH_REDRAW             a result file (docs/bench.json): only draws its chart again, to BENCH_CHART
//   BENCH_PROFILE            1: V8's CPU profile of the service process over the whole run, written to
//                            bench/results/service.cpuprofile and summarised by owner; or the file's path
//   WORKER_MAX_CACHED_WORKFLOWS and the other WORKER_* tuning settings (config.ts) go to every
//   worker: the service's, the extra ones and the bare one
import v8 from "node:v8";

export interface BenchOptions {
  checkouts: number;
  concurrency: number;
  sweep: number[];
  sweepCheckouts: (concurrency: number) => number;
  workers: number;
  memory: boolean;
  memoryCheckouts?: number;
  temporalAddress?: string;
  databaseUrl?: string;
  chart?: string;
  redraw?: string;
  /** Where the service's CPU profile goes; undefined: not profiled. */
  profile?: string;
}

type Env = Record<string, string | undefined>;

export function loadBenchOptions(env: Env = process.env): BenchOptions {
  const sweepCheckouts = positive(env, "BENCH_SWEEP_CHECKOUTS");
  const sweepRaw = env.BENCH_SWEEP ?? "1,8,32,128";
  return {
    checkouts: positive(env, "BENCH_CHECKOUTS") ?? 200,
    concurrency: positive(env, "BENCH_CONCURRENCY") ?? 32,
    sweep: ["", "off", "0"].includes(sweepRaw.trim()) ? [] : sweepRaw.split(",").map((c) => whole(c, "BENCH_SWEEP")),
    sweepCheckouts: (concurrency) => sweepCheckouts ?? Math.max(40, 3 * concurrency),
    workers: positive(env, "BENCH_WORKERS") ?? 1,
    memory: ["1", "true", "on", "yes"].includes((env.BENCH_MEMORY ?? "").toLowerCase()),
    memoryCheckouts: positive(env, "BENCH_MEMORY_CHECKOUTS"),
    temporalAddress: env.BENCH_TEMPORAL_ADDRESS || undefined,
    databaseUrl: env.BENCH_DATABASE_URL || undefined,
    chart: env.BENCH_CHART === "off" ? undefined : env.BENCH_CHART || "docs/bench.svg",
    redraw: env.BENCH_REDRAW || undefined,
    profile: profileFile(env.BENCH_PROFILE),
  };
}

/**
 * The SDK's own default for a worker's cache (@temporalio/worker's worker-options: 600 workflows
 * per GiB of heap above 200 MiB, at least 10), for a process with this one's heap limit.
 */
export function sdkDefaultMaxCachedWorkflows(): number {
  const heapMiB = v8.getHeapStatistics().heap_size_limit / 2 ** 20;
  return Math.max(Math.floor((Math.max(heapMiB - 200, 0) * 600) / 1024), 10);
}

function profileFile(raw: string | undefined): string | undefined {
  const value = raw?.trim() ?? "";
  if (["", "0", "off", "false", "no"].includes(value.toLowerCase())) return undefined;
  return ["1", "on", "true", "yes"].includes(value.toLowerCase()) ? "bench/results/service.cpuprofile" : value;
}

function positive(env: Env, name: string): number | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === "" ? undefined : whole(raw, name);
}

function whole(raw: string, name: string): number {
  const value = Number(raw.trim());
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be whole numbers above 0; got "${raw}"`);
  return value;
}
