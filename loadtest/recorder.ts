/**
 * What a load run saw, per second and in total: arrivals offered, checkouts completed, every
 * outcome by code, latency percentiles of admitted checkouts (answered, then settled) and of
 * refusals (429/503, answered at the door), and the counters a scenario samples every second
 * (stock, voucher uses). Also the one-line live progress.
 */
import { latencyStats, type LatencyStats } from '../bench/checkout/stats';

/** An outcome: COMPLETED, FAILED:<code>, REFUSED_422:<code>, 429:<code>, 503, 409:<code>, ERROR, UNSETTLED. */
export type Outcome = string;

export interface Sample {
  /** When the arrival was due and when its outcome was known (ms since the run's start). */
  arrivalMs: number;
  doneMs: number;
  /** Until the answer, or for an admitted checkout until its order settled (ms). */
  latencyMs: number;
  outcome: Outcome;
  /** Refused at the door (429 / 503): nothing was started. */
  refused: boolean;
}

export interface SecondRow {
  second: number;
  offered: number;
  completed: number;
  outcomes: Record<Outcome, number>;
  /** Latency of checkouts that settled in this second (admitted ones). */
  p50: number | null;
  p90: number | null;
  p99: number | null;
  /** p99 of refusals answered in this second. */
  refusedP99: number | null;
  counters: Record<string, number>;
}

export interface Totals {
  offered: number;
  completed: number;
  outcomes: Record<Outcome, number>;
  admitted: LatencyStats;
  refused: LatencyStats;
  /** Completed checkouts per second over the load window. */
  goodputPerSecond: number;
  offeredPerSecond: number;
}

export const isRefusal = (outcome: Outcome): boolean => outcome.startsWith('429') || outcome.startsWith('503');

export class Recorder {
  readonly samples: Sample[] = [];
  private readonly counterRows = new Map<number, Record<string, number>>();
  private readonly arrivals: number[] = [];
  private startedAt = performance.now();

  /**
   * Moves the run's time zero to now, before anything was recorded (the first load phase starts
   * after the fixtures are written); returns how far it moved (ms) so events can follow.
   */
  rebase(): number {
    if (this.samples.length > 0 || this.arrivals.length > 0) return 0;
    // Counters sampled before are on the old clock: the sampler records a fresh row within a second.
    this.counterRows.clear();
    const shift = performance.now() - this.startedAt;
    this.startedAt += shift;
    return shift;
  }

  /** ms since the start of the run. */
  now(): number {
    return performance.now() - this.startedAt;
  }

  /** An arrival fired now (for the live offered rate). */
  arrival(): void {
    this.arrivals.push(this.now());
  }

  record(sample: Omit<Sample, 'refused'>): void {
    this.samples.push({ ...sample, refused: isRefusal(sample.outcome) });
  }

  counters(values: Record<string, number>): void {
    this.counterRows.set(Math.floor(this.now() / 1000), values);
  }

  seconds(): SecondRow[] {
    const last = Math.max(0, ...this.samples.map((s) => Math.floor(s.doneMs / 1000)), ...this.counterRows.keys());
    const rows: SecondRow[] = Array.from({ length: last + 1 }, (_, second) => ({
      second, offered: 0, completed: 0, outcomes: {}, p50: null, p90: null, p99: null, refusedP99: null, counters: {},
    }));
    const admitted = rows.map((): number[] => []);
    const refused = rows.map((): number[] => []);
    for (const s of this.samples) {
      rows[Math.floor(s.arrivalMs / 1000)]!.offered += 1;
      const at = Math.floor(s.doneMs / 1000);
      const row = rows[at]!;
      row.outcomes[s.outcome] = (row.outcomes[s.outcome] ?? 0) + 1;
      if (s.outcome === 'COMPLETED') row.completed += 1;
      if (s.refused) refused[at]!.push(s.latencyMs);
      else if (s.outcome === 'COMPLETED' || s.outcome.startsWith('FAILED')) admitted[at]!.push(s.latencyMs);
    }
    let carried: Record<string, number> = {};
    for (const row of rows) {
      const stats = latencyStats(admitted[row.second]!);
      Object.assign(row, { p50: stats.p50, p90: stats.p90, p99: stats.p99, refusedP99: latencyStats(refused[row.second]!).p99 });
      carried = this.counterRows.get(row.second) ?? carried;
      row.counters = carried;
    }
    return rows;
  }

  totals(loadWindowMs: number): Totals {
    const outcomes: Record<Outcome, number> = {};
    for (const s of this.samples) outcomes[s.outcome] = (outcomes[s.outcome] ?? 0) + 1;
    const completed = outcomes.COMPLETED ?? 0;
    const admittedLatencies = this.samples.filter((s) => s.outcome === 'COMPLETED' || s.outcome.startsWith('FAILED')).map((s) => s.latencyMs);
    const seconds = Math.max(0.001, loadWindowMs / 1000);
    return {
      offered: this.samples.length,
      completed,
      outcomes,
      admitted: latencyStats(admittedLatencies),
      refused: latencyStats(this.samples.filter((s) => s.refused).map((s) => s.latencyMs)),
      goodputPerSecond: Math.round((completed / seconds) * 100) / 100,
      offeredPerSecond: Math.round((this.samples.length / seconds) * 100) / 100,
    };
  }

  /** The live line: rate offered and completed over the last 5 s, outcomes so far, recent p99. */
  progressLine(label: string, inFlight: number): string {
    const now = this.now();
    const windowMs = Math.min(5000, Math.max(1, now));
    const recent = this.samples.filter((s) => s.doneMs >= now - windowMs);
    const completedRate = (recent.filter((s) => s.outcome === 'COMPLETED').length * 1000) / windowMs;
    const offeredRate = (this.offeredSince(now - windowMs) * 1000) / windowMs;
    const counts: Record<string, number> = {};
    for (const s of this.samples) counts[s.outcome] = (counts[s.outcome] ?? 0) + 1;
    const p99 = latencyStats(recent.filter((s) => !s.refused).map((s) => s.latencyMs)).p99;
    const outcomes = Object.entries(counts).sort(([, a], [, b]) => b - a).slice(0, 5).map(([k, v]) => `${k} ${v}`).join(', ');
    return `[loadtest] ${label} ${(now / 1000).toFixed(0)}s | offered ${offeredRate.toFixed(1)}/s completed ${completedRate.toFixed(1)}/s | in flight ${inFlight} | ${outcomes || '-'} | p99 ${p99 ?? '-'} ms`;
  }

  private offeredSince(fromMs: number): number {
    let n = 0;
    for (let i = this.arrivals.length - 1; i >= 0 && this.arrivals[i]! >= fromMs; i -= 1) n += 1;
    return n;
  }
}

/** Prints the progress line every `everyMs` (in place on a terminal, a line each time otherwise). */
export function startProgress(line: () => string, everyMs = 1000): () => void {
  const tty = process.stdout.isTTY === true;
  let printed = 0;
  const timer = setInterval(() => {
    printed += 1;
    if (tty) process.stdout.write(`\r\x1b[2K${line()}`);
    else if (printed % 5 === 0) console.log(line());
  }, everyMs);
  return () => {
    clearInterval(timer);
    if (tty) process.stdout.write(`\r\x1b[2K${line()}\n`);
    else console.log(line());
  };
}
