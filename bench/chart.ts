// The sweep's picture, as a plain SVG string (no browser, no library): throughput and p99 against
// concurrency, bare and checkout. Concurrency is drawn as evenly spaced categories (1, 8, 32,
// 128); p99 on a log scale, since the bare workflow's and the checkout's differ by orders of magnitude.

export interface ChartPoint {
  concurrency: number;
  bare: { throughput: number; p99Ms: number };
  checkout: { throughput: number; p99Ms: number };
}

const TITLE = "npm run bench: bare workflow vs checkout, by concurrency";
const WIDTH = 960;
const HEIGHT = 450;
const PANEL = { width: 360, height: 250, top: 100 };
const LEFTS = [90, 560];
const SERIES = [
  { key: "bare", label: "bare reference (3 no-op activities)", color: "#1b9e77", dash: "6 4" },
  { key: "checkout", label: "checkout through the API", color: "#d95f02", dash: "" },
] as const;

/** `caption`: lines under the chart (what was measured, where, when). */
export function renderChart(points: readonly ChartPoint[], caption: readonly string[]): string {
  const sorted = [...points].sort((a, b) => a.concurrency - b.concurrency);
  const x = (i: number) => (sorted.length === 1 ? PANEL.width / 2 : 20 + (i * (PANEL.width - 40)) / (sorted.length - 1));
  const throughputMax = Math.max(...sorted.flatMap((p) => [p.bare.throughput, p.checkout.throughput]).filter(Number.isFinite), 0);
  const throughputTicks = linearTicks(throughputMax);
  const linearY = (v: number) => PANEL.height - (v / throughputTicks[throughputTicks.length - 1]) * PANEL.height;
  const latencies = sorted.flatMap((p) => [p.bare.p99Ms, p.checkout.p99Ms]).filter((v) => Number.isFinite(v) && v > 0);
  const decades = logDecades(latencies);
  const logY = (v: number) =>
    PANEL.height - ((Math.log10(v) - decades[0]) / Math.max(decades[decades.length - 1] - decades[0], 1)) * PANEL.height;

  const panels = [
    panel(
      LEFTS[0],
      "throughput (workflows/s)",
      sorted,
      x,
      (p, s) => p[s].throughput,
      linearY,
      throughputTicks.map((t) => [t, format(t)]),
    ),
    panel(
      LEFTS[1],
      "p99 from start to end (log scale)",
      sorted,
      x,
      (p, s) => p[s].p99Ms,
      logY,
      decades.map((d) => [10 ** d, duration(10 ** d)]),
    ),
  ];
  const legend = SERIES.map(
    (s, i) =>
      `<g transform="translate(${LEFTS[0] + i * 330},52)"><line x1="0" y1="0" x2="28" y2="0" stroke="${s.color}" stroke-width="2.5" stroke-dasharray="${s.dash}"/>` +
      `<circle cx="14" cy="0" r="3.5" fill="${s.color}"/><text x="36" y="4">${xml(s.label)}</text></g>`,
  ).join("");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>${xml(`${TITLE}: throughput and p99 against concurrency. ${caption.join("; ")}`)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${LEFTS[0]}" y="26" font-size="15" font-weight="bold">${TITLE}</text>`,
    legend,
    ...panels,
    ...caption.map(
      (line, i) => `<text x="${LEFTS[0]}" y="${HEIGHT - 12 - 16 * (caption.length - 1 - i)}" fill="#555">${xml(line)}</text>`,
    ),
    "</svg>",
    "",
  ].join("\n");
}

type Series = (typeof SERIES)[number]["key"];

function panel(
  left: number,
  title: string,
  points: readonly ChartPoint[],
  x: (i: number) => number,
  value: (p: ChartPoint, s: Series) => number,
  y: (v: number) => number,
  ticks: Array<[number, string]>,
): string {
  const grid = ticks
    .map(
      ([v, label]) =>
        `<line x1="0" y1="${r(y(v))}" x2="${PANEL.width}" y2="${r(y(v))}" stroke="#e5e5e5"/>` +
        `<text x="-8" y="${r(y(v) + 4)}" text-anchor="end" fill="#555">${xml(label)}</text>`,
    )
    .join("");
  const xLabels = points
    .map((p, i) => `<text x="${r(x(i))}" y="${PANEL.height + 18}" text-anchor="middle" fill="#555">${p.concurrency}</text>`)
    .join("");
  const lines = SERIES.map((s) => {
    const drawn = points
      .map((p, i) => ({ i, v: value(p, s.key) }))
      .filter(({ v }) => Number.isFinite(v) && Number.isFinite(y(v)));
    const path = drawn.map(({ i, v }) => `${r(x(i))},${r(y(v))}`).join(" ");
    const dots = drawn
      .map(
        ({ i, v }) =>
          `<circle cx="${r(x(i))}" cy="${r(y(v))}" r="3.5" fill="${s.color}"><title>${xml(`${s.key}, concurrency ${points[i].concurrency}: ${format(v)}`)}</title></circle>`,
      )
      .join("");
    return `<polyline fill="none" stroke="${s.color}" stroke-width="2.5" stroke-dasharray="${s.dash}" points="${path}"/>${dots}`;
  }).join("");
  return [
    `<g transform="translate(${left},${PANEL.top})">`,
    `<text x="0" y="-18" font-weight="bold">${xml(title)}</text>`,
    grid,
    `<line x1="0" y1="${PANEL.height}" x2="${PANEL.width}" y2="${PANEL.height}" stroke="#999"/>`,
    xLabels,
    `<text x="${PANEL.width / 2}" y="${PANEL.height + 38}" text-anchor="middle" fill="#555">concurrency (workflows in flight)</text>`,
    lines,
    "</g>",
  ].join("");
}

/** 0 to a round number at or above `max`, in steps of 1, 2 or 5 × 10^k. */
export function linearTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = 0; t < max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

/** The powers of ten that enclose the values (at least two). */
export function logDecades(values: readonly number[]): number[] {
  if (values.length === 0) return [0, 1];
  const low = Math.floor(Math.log10(Math.min(...values)));
  const high = Math.max(Math.ceil(Math.log10(Math.max(...values))), low + 1);
  return Array.from({ length: high - low + 1 }, (_, i) => low + i);
}

function duration(ms: number): string {
  return ms >= 1000 ? `${format(ms / 1000)} s` : `${format(ms)} ms`;
}

function format(v: number): string {
  return v >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
}

const r = (v: number) => Math.round(v * 10) / 10;

function xml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
