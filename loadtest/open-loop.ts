/**
 * Open-loop arrivals: arrival i is due at a time fixed in advance by the rate (evenly spaced, or
 * exponential gaps for Poisson arrivals), whether or not earlier requests have finished — so a
 * slow system sees its queue grow instead of being offered less (the closed-loop trap). Bounded in
 * count (`maxArrivals`) and in time (`durationMs`); the requests themselves are bounded by their
 * own timeouts, and `runOpenLoop` returns once every fired request has finished.
 */

export interface OpenLoopOptions {
  /** Arrivals per second (> 0). */
  ratePerSecond: number;
  durationMs: number;
  /** At most this many arrivals, whatever the rate and duration. */
  maxArrivals: number;
  /** Exponential gaps (Poisson arrivals) instead of even spacing. */
  poisson?: boolean;
  /** Deterministic randomness for Poisson gaps (default Math.random). */
  random?: () => number;
  /** Fires arrival `index` (scheduled at `dueMs` after the start); never awaited by the scheduler. */
  fire: (index: number, dueMs: number) => Promise<void>;
  /** Stops new arrivals early (e.g. Ctrl-C). */
  signal?: AbortSignal;
}

export interface OpenLoopResult {
  fired: number;
  /** Largest lag of an arrival behind its schedule (ms): the generator itself falling behind. */
  maxLagMs: number;
  elapsedMs: number;
}

/** The due times (ms after the start) of every arrival of a run. */
export function arrivalTimes(options: Pick<OpenLoopOptions, 'ratePerSecond' | 'durationMs' | 'maxArrivals' | 'poisson' | 'random'>): number[] {
  if (!(options.ratePerSecond > 0)) throw new RangeError('ratePerSecond must be > 0');
  const random = options.random ?? Math.random;
  const meanGapMs = 1000 / options.ratePerSecond;
  const times: number[] = [];
  let t = 0;
  for (let i = 0; i < options.maxArrivals; i += 1) {
    if (t >= options.durationMs) break;
    times.push(t);
    t += options.poisson ? -Math.log(1 - random()) * meanGapMs : meanGapMs;
  }
  return times;
}

const tickMs = 2;

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const times = arrivalTimes(options);
  const started = performance.now();
  const pending = new Set<Promise<void>>();
  let next = 0;
  let maxLagMs = 0;
  while (next < times.length && !options.signal?.aborted) {
    const now = performance.now() - started;
    // Fire everything due: a late tick fires a backlog at once rather than dropping it.
    while (next < times.length && times[next]! <= now) {
      const due = times[next]!;
      maxLagMs = Math.max(maxLagMs, now - due);
      const index = next;
      next += 1;
      const request = options.fire(index, due).catch(() => undefined);
      pending.add(request);
      void request.finally(() => pending.delete(request));
    }
    const wait = next < times.length ? Math.max(0, Math.min(tickMs * 5, times[next]! - (performance.now() - started))) : 0;
    await new Promise((resolve) => setTimeout(resolve, wait > 0 ? wait : tickMs / 2));
  }
  await Promise.all(pending);
  return { fired: next, maxLagMs: Math.round(maxLagMs), elapsedMs: Math.round(performance.now() - started) };
}
