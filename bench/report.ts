// The bench's result: what is printed (the table with its ratios, the targets, the scale-out
// comparison, the sweep, the memory check) and what is written (bench/results/<time>.json and
// latest.json; the sweep's chart).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { type ChartPoint, renderChart } from "./chart.ts";
import type { PhaseResult } from "./phase.ts";
import type { MemoryCheck, Ratios, TargetRow } from "./targets.ts";

export interface BenchResult {
  /** The command with the options it was given (a database URL's password left out). */
  command: string;
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; loadAverage: { start: number[]; end: number[] } };
  settings: {
    checkouts: number;
    concurrency: number;
    workers: number;
    temporal: "embedded dev server" | "external";
    postgres: "embedded" | "external";
    workerCache: { size: number; source: string };
  };
  /** bare, checkout, (checkout with more workers,) bare again. */
  table: PhaseResult[];
  /** The checkout (one worker) against the mean of the two bare runs. */
  ratios: Ratios;
  targets: TargetRow[];
  /** The checkout with BENCH_WORKERS workers against the one-worker checkout of the same run. */
  scaleOut?: { workers: number; vsOneWorker: Ratios; vsBare: Ratios };
  sweep: Array<{ concurrency: number; bare: PhaseResult; checkout: PhaseResult }>;
  memory?: MemoryCheck & { phase: PhaseResult; again?: PhaseResult };
}

const GROUPS: Array<[string, string]> = [
  ["temporal", "  Temporal server"],
  ["service", "  worker + API (one process)"],
  ["postgres", "  PostgreSQL"],
  ["bare worker", "  bare worker"],
  ["extra workers", "  extra workers"],
];

export function printResult(result: BenchResult, print: (line: string) => void = console.log): void {
  const { table, settings } = result;
  const checkout = table.find((p) => p.kind === "checkout" && p.workers === 1);
  print(`\n${result.command}`);
  print(
    `${settings.checkouts} workflows per phase, ${settings.concurrency} in flight; Temporal: ${settings.temporal}, ` +
      `PostgreSQL: ${settings.postgres}; worker cache ${settings.workerCache.size} (${settings.workerCache.source}); ` +
      `${result.machine.cpus} CPUs, load average ${result.machine.loadAverage.start[0].toFixed(1)} at the start\n`,
  );
  const ratioOf = (key: keyof Ratios) => times(result.ratios[key]);
  const cells = (f: (p: PhaseResult) => string) => table.map(f);
  const rows: string[][] = [
    ["", ...table.map((p) => p.label), "checkout / bare"],
    ["throughput (workflows/s)", ...cells((p) => rate(p.throughput)), ratioOf("throughput")],
    ["p50 start to end (ms)", ...cells((p) => ms(p.latencyMs.p50)), ratioOf("p50")],
    ["p95 start to end (ms)", ...cells((p) => ms(p.latencyMs.p95)), ratioOf("p95")],
    ["p99 start to end (ms)", ...cells((p) => ms(p.latencyMs.p99)), ratioOf("p99")],
    ["CPU per workflow (ms), all", ...cells((p) => cpu(p.cpuMsPerWorkflow.total)), ratioOf("cpuPerWorkflow")],
    ...GROUPS.filter(([g]) => table.some((p) => p.cpuMsPerWorkflow.byGroup[g] !== undefined)).map(([g, label]) => [
      label,
      ...cells((p) => (p.cpuMsPerWorkflow.byGroup[g] === undefined ? "" : cpu(p.cpuMsPerWorkflow.byGroup[g]))),
      "",
    ]),
    ["database transactions per workflow", ...cells((p) => p.dbTransactionsPerWorkflow.toFixed(1)), ""],
    ["history events (own, sampled)", ...cells((p) => range(p.historyEvents)), ""],
    ["workflows started per workflow*", ...cells((p) => p.started.perWorkflow.toFixed(2)), ""],
    ["history events, all started", ...cells((p) => p.started.eventsPerWorkflow.toFixed(1)), ""],
    ...memoryNames(table).map((name) => [
      `RSS ${name === "service" ? "worker + API" : name} (MiB)`,
      ...cells((p) => (p.memoryMiB[name] ? `${mib(p.memoryMiB[name].before)} → ${mib(p.memoryMiB[name].after)}` : "")),
      "",
    ]),
    ["POST /checkouts answer p50/p99", ...cells((p) => (p.postMs ? `${ms(p.postMs.p50)}/${ms(p.postMs.p99)}` : "")), ""],
    ["close to archive record p50", ...cells((p) => (p.archiveLagMs?.n ? ms(p.archiveLagMs.p50) : "")), ""],
  ];
  if (table.some((p) => p.failed.count || p.postRetries)) {
    rows.push(["did not complete", ...cells((p) => String(p.failed.count)), ""]);
    rows.push(["POSTs retried (503, 429)", ...cells((p) => (p.kind === "checkout" ? String(p.postRetries) : "")), ""]);
  }
  print(columns(rows));
  print("* the service's background runs (the event relay, the archive schedule) left out");
  const external = [settings.temporal === "external" && "the Temporal server", settings.postgres === "external" && "PostgreSQL"];
  if (external.some(Boolean)) {
    print(
      `\nCPU: ${external.filter(Boolean).join(" and ")} not measured (external): the ratios are of the processes the bench started`,
    );
  }
  if (checkout) {
    const { background } = checkout.started;
    print(
      `\nstarted in the checkout phase: ${types(checkout)}` +
        (background
          ? `; ${background} of them the relay's and the archive schedule's (per queue and time, not counted per checkout)`
          : ""),
    );
  }
  for (const p of [...table, ...result.sweep.flatMap((s) => [s.bare, s.checkout])].filter((p) => p.failed.count)) {
    print(`${p.label} at ${p.concurrency}: ${p.failed.count} did not complete, the first: ${p.failed.first}`);
  }
  const unsettled = table.filter((p) => !p.settled).map((p) => p.label);
  if (unsettled.length) print(`some workflows still ran when the bench stopped waiting after: ${unsettled.join(", ")}`);

  print("\nTargets (checkout vs the mean of the two bare runs; information, never a failure):");
  print(
    columns(
      result.targets.map((t) => [`  ${t.name}`, t.target, t.met === undefined ? "—" : t.met ? "met" : "not met", t.measured]),
      4,
    ),
  );

  if (result.scaleOut) {
    const { workers, vsOneWorker: s } = result.scaleOut;
    print(
      `\nScale out: ${workers} workers vs 1, same run: throughput ${times(s.throughput)}, p50 ${times(s.p50)}, ` +
        `p99 ${times(s.p99)}, CPU per checkout ${times(s.cpuPerWorkflow)}`,
    );
  }
  if (result.sweep.length) {
    print("\nSweep (the chart's figures):");
    print(
      columns([
        ["concurrency", "workflows", "bare /s", "checkout /s", "ratio", "bare p99 ms", "checkout p99 ms", "ratio"],
        ...result.sweep.map(({ concurrency, bare, checkout: c }) => [
          String(concurrency),
          String(c.count),
          rate(bare.throughput),
          rate(c.throughput),
          times(c.throughput / bare.throughput),
          ms(bare.latencyMs.p99),
          ms(c.latencyMs.p99),
          times(c.latencyMs.p99 / bare.latencyMs.p99),
        ]),
      ]),
    );
  }
  if (result.memory) {
    const m = result.memory;
    print(
      `\nWorker memory (the service's process): ${mib(m.warmMiB)} MiB warm, ${mib(m.afterMiB)} MiB after ${m.checkouts} more checkouts ` +
        `(${multiple(m.checkouts / m.cacheSize)} a cache of ${m.cacheSize})` +
        (m.againMiB === undefined ? "" : `, ${mib(m.againMiB)} MiB after as many again`),
    );
    if (m.points?.length) {
      const figure = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "?" : mib(v));
      print(
        columns([
          ["MiB", "RSS", "V8 heap (committed)", "V8 heap (in use)", "external (buffers)", "native (RSS − heap − external)"],
          ...m.points.map((p, i) => [
            ["warm", "after a round", "after two"][i] ?? "",
            mib(p.rssMiB),
            figure(p.heapTotalMiB),
            figure(p.heapUsedMiB),
            figure(p.externalMiB),
            p.heapTotalMiB === undefined || p.externalMiB === undefined ? "?" : mib(p.rssMiB - p.heapTotalMiB - p.externalMiB),
          ]),
        ]),
      );
    }
  }
}

/** bench/results/<time>.json and latest.json; with a sweep, its chart beside them and at `chartPath`. */
export async function writeResult(result: BenchResult, resultsDir: string, chartPath?: string): Promise<string[]> {
  await mkdir(resultsDir, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, "-");
  const json = `${JSON.stringify(result, null, 2)}\n`;
  const written = [path.join(resultsDir, `${stamp}.json`), path.join(resultsDir, "latest.json")];
  await Promise.all(written.map((file) => writeFile(file, json)));
  if (result.sweep.length) {
    const svg = renderChart(chartPoints(result), chartCaption(result));
    const charts = [
      path.join(resultsDir, `${stamp}.svg`),
      path.join(resultsDir, "latest.svg"),
      ...(chartPath ? [chartPath] : []),
    ];
    for (const file of charts) {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, svg);
    }
    written.push(...charts);
    // The figures the committed chart was drawn from, beside it.
    if (chartPath) {
      written.push(`${chartPath.replace(/\.svg$/, "")}.json`);
      await writeFile(written[written.length - 1], json);
    }
  }
  return written;
}

export function chartPoints(result: BenchResult): ChartPoint[] {
  return result.sweep.map(({ concurrency, bare, checkout }) => ({
    concurrency,
    bare: { throughput: bare.throughput, p99Ms: bare.latencyMs.p99 },
    checkout: { throughput: checkout.throughput, p99Ms: checkout.latencyMs.p99 },
  }));
}

export function chartCaption({ command, startedAt, machine, sweep }: BenchResult): string[] {
  const counts = sweep.map((s) => s.checkout.count).join("/");
  return [
    `${command}, ${startedAt.slice(0, 10)}: ${machine.cpus} CPUs, load average ${machine.loadAverage.start[0].toFixed(1)} at the start`,
    `${counts} workflows per point, one worker; p99 of each workflow from its start to its result`,
  ];
}

/** The chart again from a result file (BENCH_REDRAW), after a change to the drawing: the figures stay those measured. */
export async function redraw(resultFile: string, chartPath: string): Promise<void> {
  const result = JSON.parse(await readFile(resultFile, "utf8")) as BenchResult;
  await writeFile(chartPath, renderChart(chartPoints(result), chartCaption(result)));
}

function memoryNames(table: PhaseResult[]): string[] {
  return [...new Set(table.flatMap((p) => Object.keys(p.memoryMiB)))];
}

function types(phase: PhaseResult): string {
  return Object.entries(phase.started.byType)
    .sort((a, b) => b[1] - a[1])
    .map(([type, n]) => `${type} ${n}`)
    .join(", ");
}

/** Aligned columns: the first `left` of them to the left (the names), the others to the right (the figures). */
export function columns(rows: string[][], left = 1): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i < left ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const finite = (v: number | undefined, f: (v: number) => string) => (v !== undefined && Number.isFinite(v) ? f(v) : "n/a");
const multiple = (v: number) => `${v < 1 ? v.toPrecision(2) : v.toFixed(1)}×`;
const times = (v: number) => finite(v, (x) => `${x.toFixed(2)}×`);
const rate = (v: number) => finite(v, (x) => x.toFixed(x < 10 ? 2 : 1));
const ms = (v: number) => finite(v, (x) => String(Math.round(x)));
const cpu = (v: number | undefined) => finite(v, (x) => x.toFixed(1));
const mib = (v: number) => finite(v, (x) => String(Math.round(x)));
const range = (values: number[]) =>
  values.length
    ? Math.min(...values) === Math.max(...values)
      ? String(values[0])
      : `${Math.min(...values)}–${Math.max(...values)}`
    : "n/a";
