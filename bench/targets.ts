// Issue #13's targets, measured in the same run: the checkout against the mean of the bare runs
// before and after it. Information for the reader: the bench never fails on them.
import type { HeapFigures } from "./heap.ts";
import type { PhaseResult } from "./phase.ts";
import { mean, median, ratio } from "./stats.ts";

export interface Ratios {
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
  cpuPerWorkflow: number;
}

/** `phase` over the mean of `references` (the bare runs, or the one-worker checkout). */
export function compare(phase: PhaseResult, references: readonly PhaseResult[]): Ratios {
  const ref = (figure: (p: PhaseResult) => number) => mean(references.map(figure));
  return {
    throughput: ratio(
      phase.throughput,
      ref((p) => p.throughput),
    ),
    p50: ratio(
      phase.latencyMs.p50,
      ref((p) => p.latencyMs.p50),
    ),
    p95: ratio(
      phase.latencyMs.p95,
      ref((p) => p.latencyMs.p95),
    ),
    p99: ratio(
      phase.latencyMs.p99,
      ref((p) => p.latencyMs.p99),
    ),
    cpuPerWorkflow: ratio(
      phase.cpuMsPerWorkflow.total,
      ref((p) => p.cpuMsPerWorkflow.total),
    ),
  };
}

export interface MemoryCheck {
  /** The worker's RSS, warm, before the memory phase (MiB). */
  warmMiB: number;
  afterMiB: number;
  /** After a second round of as many checkouts. */
  againMiB?: number;
  /** The process's memory before, after the first round and after the second, by kind when known. */
  points?: MemoryPoint[];
  checkouts: number;
  cacheSize: number;
}

export interface MemoryPoint extends Partial<HeapFigures> {
  rssMiB: number;
}

export interface MemoryRound {
  phase: PhaseResult;
  before: MemoryPoint;
  after: MemoryPoint;
}

export interface TargetRow {
  name: string;
  target: string;
  measured: string;
  /** undefined: not measured in this run. */
  met: boolean | undefined;
}

export interface TargetInput {
  ratios: Ratios;
  /** Events of the sampled happy checkouts' own histories. */
  checkoutHistoryEvents: number[];
  workflowsPerCheckout: number;
  memory?: MemoryCheck;
}

const times = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : "n/a");
const check = (value: number, ok: (v: number) => boolean) => (Number.isFinite(value) ? ok(value) : undefined);

export function evaluateTargets({ ratios, checkoutHistoryEvents, workflowsPerCheckout, memory }: TargetInput): TargetRow[] {
  // The median of the sample: under load a workflow task may time out and run again, which adds
  // events that the checkout's own code did not ask for; the range shows them.
  const events = median(checkoutHistoryEvents);
  const [least, most, n] = [Math.min(...checkoutHistoryEvents), Math.max(...checkoutHistoryEvents), checkoutHistoryEvents.length];
  const spread = n < 2 ? "" : least === most ? ` (all ${n} sampled)` : ` (${least}–${most} in ${n} sampled)`;
  const rows: TargetRow[] = [
    {
      name: "throughput",
      target: "≥ 0.85× bare",
      measured: times(ratios.throughput),
      met: check(ratios.throughput, (r) => r >= 0.85),
    },
    { name: "p50 latency", target: "≤ 1.2× bare", measured: times(ratios.p50), met: check(ratios.p50, (r) => r <= 1.2) },
    { name: "p99 latency", target: "≤ 1.5× bare", measured: times(ratios.p99), met: check(ratios.p99, (r) => r <= 1.5) },
    {
      name: "CPU per checkout",
      target: "≤ 1.3× bare",
      measured: times(ratios.cpuPerWorkflow),
      met: check(ratios.cpuPerWorkflow, (r) => r <= 1.3),
    },
    {
      name: "history events, happy checkout",
      target: "≤ 23",
      measured: Number.isFinite(events) ? `${events}${spread}` : "n/a",
      met: check(events, (n) => n <= 23),
    },
    {
      name: "workflows started per checkout",
      target: "1 (no extra without subscribers)",
      measured: Number.isFinite(workflowsPerCheckout) ? workflowsPerCheckout.toFixed(2) : "n/a",
      met: check(workflowsPerCheckout, (n) => n <= 1),
    },
  ];
  rows.push(memoryRow(memory));
  return rows;
}

/** Within 10% of the warm value after 10× the cache in checkouts; a shorter phase is reported but not judged. */
function memoryRow(memory: MemoryCheck | undefined): TargetRow {
  const row = { name: "worker memory after 10× its cache", target: "within 10% of warm" };
  if (!memory) return { ...row, measured: "not measured (BENCH_MEMORY=1)", met: undefined };
  const change = memory.afterMiB / memory.warmMiB - 1;
  const multiple = memory.cacheSize > 0 ? memory.checkouts / memory.cacheSize : Number.NaN; // 0: no cache
  const ofCache = Number.isNaN(multiple)
    ? "no workflow cache"
    : `${multiple < 1 ? multiple.toPrecision(2) : multiple.toFixed(1)}× a cache of ${memory.cacheSize}`;
  const mib = (v: number) => Math.round(v);
  const percent = (c: number) => `${c >= 0 ? "+" : ""}${(c * 100).toFixed(1)}%`;
  const again =
    memory.againMiB === undefined
      ? ""
      : `; then ${percent(memory.againMiB / memory.afterMiB - 1)} (→ ${mib(memory.againMiB)} MiB) over as many again`;
  const measured = `${percent(change)} (${mib(memory.warmMiB)} → ${mib(memory.afterMiB)} MiB after ${memory.checkouts} checkouts, ${ofCache})${again}`;
  return { ...row, measured, met: multiple >= 10 ? check(change, (c) => Math.abs(c) <= 0.1) : undefined };
}
