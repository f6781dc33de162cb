// Where the service process's memory is: its V8 heap and the memory V8 accounts outside it
// (buffers), from the prom-client gauges its API metrics endpoint serves (the worker shares that
// process). What RSS holds beyond them is native: the Temporal core (Rust), code, the allocator.
export interface HeapFigures {
  heapTotalMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
}

const GAUGES = {
  heapTotalMiB: "nodejs_heap_size_total_bytes",
  heapUsedMiB: "nodejs_heap_size_used_bytes",
  externalMiB: "nodejs_external_memory_bytes",
} as const;

export async function heapFigures(metricsUrl: string): Promise<HeapFigures | undefined> {
  const text = await fetch(metricsUrl)
    .then((r) => (r.ok ? r.text() : ""))
    .catch(() => "");
  const value = (name: string) => {
    const line = text.split("\n").find((l) => l.startsWith(`${name} `));
    return line ? Number(line.slice(name.length + 1)) / 2 ** 20 : Number.NaN;
  };
  const figures = Object.fromEntries(Object.entries(GAUGES).map(([key, name]) => [key, value(name)])) as unknown as HeapFigures;
  return Object.values(figures).some(Number.isNaN) ? undefined : figures;
}
