/** Latency summaries and the plain-text tables of bench:checkout. */

export interface LatencyStats {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return round1(sorted[Math.min(sorted.length, rank) - 1]!);
}

export function latencyStats(values: readonly number[]): LatencyStats {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.length === 0 ? null : round1(sorted.reduce((a, b) => a + b, 0) / sorted.length);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? null : round1(sorted[sorted.length - 1]!),
    mean,
  };
}

export function median(values: readonly number[]): number | null {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export function perSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((count * 1000 * 100) / elapsedMs) / 100 : 0;
}

export type Cell = string | number | boolean | null | undefined;
const cell = (value: Cell): string => (value === null || value === undefined ? '-' : String(value));

/** Columns right-aligned except the first (and those named in `left`). */
export function table(header: readonly string[], rows: readonly (readonly Cell[])[], left: readonly number[] = [0]): string {
  const texts = [header.map(cell), ...rows.map((row) => row.map(cell))];
  const widths = header.map((_, i) => Math.max(...texts.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]): string =>
    row.map((text, i) => (left.includes(i) ? text.padEnd(widths[i]!) : text.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(texts[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...texts.slice(1).map(line)].join('\n');
}
