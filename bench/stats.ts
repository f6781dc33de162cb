// The arithmetic of the bench's figures, kept apart from the processes so that a unit test can
// hold it (test/unit/bench-figures.test.ts).

export interface Summary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  n: number;
}

/** The nearest-rank percentile: the smallest value with at least q of the values at or below it. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(rank, 1)) - 1];
}

export function summarize(values: readonly number[]): Summary {
  return {
    p50: percentile(values, 0.5),
    p95: percentile(values, 0.95),
    p99: percentile(values, 0.99),
    max: percentile(values, 1),
    n: values.length,
  };
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `value / reference`; NaN when either is missing or the reference is 0, so that no ratio is made up. */
export function ratio(value: number | undefined, reference: number | undefined): number {
  if (value === undefined || reference === undefined || !Number.isFinite(value) || !Number.isFinite(reference)) return Number.NaN;
  return reference === 0 ? Number.NaN : value / reference;
}
