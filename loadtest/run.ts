/**
 * The engine of `npm run loadtest`: starts the harness's own product processes (loadtest/system.ts)
 * against the running stack, prepares the catalog, runs a scenario's load phases open-loop
 * (loadtest/open-loop.ts) while sampling counters and printing the live line, waits for every
 * order of the run to settle, checks the invariants, and writes `summary.json` and `report.html`
 * into `loadtest/results/<run>/`. `runLoadtest` returns the summary; the CLI turns broken
 * invariants into a non-zero exit status.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { createPool } from '../db/pool';
import { createRedis } from '../lib/redis';
import { loadConfig, projectRoot } from '../lib/config';
import { ApiClient } from '../bench/checkout/http';
import { latencyStats } from '../bench/checkout/stats';
import { stopAll, killAllNow } from '../bench/checkout/processes';
import { runOpenLoop } from './open-loop';
import { Recorder, startProgress, type Totals } from './recorder';
import { checkoutJourney, Settler, type JourneyOptions, type OrderOutcome } from './journey';
import { checkInvariants, waitSettled, type Invariant, type InvariantScope } from './invariants';
import { renderReport, type ReportEvent } from './report';
import { fillCarts, prepareCatalog, seedCart } from './fixtures';
import { CpuMeter, cpuDelta, startSystem, type CpuSnapshot, type System, type SystemOptions } from './system';

export const scenarioNames = ['steady', 'flash-sale', 'voucher-storm', 'overload', 'chaos'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export interface LoadtestOptions {
  scenario: ScenarioName;
  /** Arrivals per second (the scenario's default when absent). */
  rate?: number;
  durationS?: number;
  buyers?: number;
  /** Flash sale: units of the hot sku (default a tenth of the buyers). */
  stock?: number;
  findMax?: boolean;
  /** The sustainable rate overload multiplies (default: the last --find-max result, else 5/s). */
  sustainable?: number;
  workers?: number;
  /** Results folder (default loadtest/results). */
  resultsDir?: string;
  /** Environment of the harness's product processes and of its own database/Redis clients (tests: the test database). */
  env?: NodeJS.ProcessEnv;
  /** Chaos: seconds between worker kills (default 20). */
  killEveryS?: number;
  /** How long the run's orders may take to settle after the load (default 120 s; chaos 300 s). */
  settleBudgetS?: number;
  log?: (line: string) => void;
  /** No live progress line (tests). */
  quiet?: boolean;
  /**
   * Run against these already running harness processes (tests run several scenarios on one set);
   * not stopped at the end. Not for chaos, which needs its own processes behind its proxies.
   */
  system?: System;
}

export interface Goal {
  name: string;
  target: string;
  measured: number | string | null;
  met: boolean;
}

export interface Summary {
  scenario: ScenarioName;
  runId: string;
  runDir: string;
  ok: boolean;
  startedAt: string;
  settings: Record<string, unknown>;
  totals: Totals & Record<string, unknown>;
  goals: Goal[];
  invariants: Invariant[];
  cpu:
    | {
        loadWindowMs: number;
        cpuMs: CpuSnapshot;
        cpuMsPerCompletedCheckout: Record<string, number | null>;
        idleCpuMsPerSecond: Record<string, number>;
        marginalCpuMsPerCompletedCheckout: Record<string, number | null>;
        cores: number;
      }
    | undefined;
  events: ReportEvent[];
  perSecond: ReturnType<Recorder['seconds']>;
  extra: Record<string, unknown>;
}

/** What a scenario gets to work with. */
export interface RunContext {
  options: LoadtestOptions;
  runId: string;
  runDir: string;
  buyerPrefix: string;
  system: System;
  api: ApiClient;
  pool: Pool;
  redis: Redis;
  settler: Settler;
  recorder: Recorder;
  events: ReportEvent[];
  log: (line: string) => void;
  /** Marks an event on the charts. */
  event(what: string): void;
  cpu: CpuMeter;
}

export interface PhaseOptions {
  label: string;
  ratePerSecond: number;
  durationMs: number;
  /** One buyer per arrival (their carts filled before the phase). */
  buyers: readonly string[];
  journey: (buyer: string, index: number) => Omit<JourneyOptions, 'api' | 'settler' | 'buyer'>;
  poisson?: boolean;
}

export interface PhaseResult {
  startMs: number;
  endMs: number;
  outcomes: OrderOutcome[];
  maxLagMs: number;
}

/** One open-loop load phase: arrival i is buyer i's checkout. */
export async function loadPhase(ctx: RunContext, phase: PhaseOptions): Promise<PhaseResult> {
  const outcomes: OrderOutcome[] = [];
  let inFlight = 0;
  // The charts start with the first load phase, not with the writing of the fixtures before it.
  const shift = ctx.recorder.rebase();
  for (const event of ctx.events) event.atMs = Math.max(0, event.atMs - shift);
  const stopProgress = ctx.options.quiet ? () => undefined : startProgress(() => ctx.recorder.progressLine(phase.label, inFlight));
  const startMs = ctx.recorder.now();
  const result = await runOpenLoop({
    ratePerSecond: phase.ratePerSecond,
    durationMs: phase.durationMs,
    maxArrivals: phase.buyers.length,
    ...(phase.poisson ? { poisson: true } : {}),
    fire: async (index, dueMs) => {
      const buyer = phase.buyers[index]!;
      ctx.recorder.arrival();
      inFlight += 1;
      try {
        const outcome = await checkoutJourney({ api: ctx.api, settler: ctx.settler, buyer, ...phase.journey(buyer, index) });
        outcomes.push(outcome);
        const doneMs = ctx.recorder.now();
        ctx.recorder.record({ arrivalMs: startMs + dueMs, doneMs, latencyMs: outcome.latencyMs, outcome: outcome.outcome });
      } finally {
        inFlight -= 1;
      }
    },
  });
  stopProgress();
  return { startMs, endMs: ctx.recorder.now(), outcomes, maxLagMs: result.maxLagMs };
}

/** Samples counters every second until stopped. */
export function sampleCounters(ctx: RunContext, sample: () => Promise<Record<string, number>>): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        ctx.recorder.counters(await sample());
      } catch {
        /* a fault window: next second */
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

export interface ScenarioResult {
  loadWindow: { startMs: number; endMs: number };
  goals: Goal[];
  scope: Omit<InvariantScope, 'buyerPrefix'>;
  /** Invariants of the scenario itself (flash sale: sold = stock, losers' details; chaos: idempotency). */
  invariants: Invariant[];
  settings: Record<string, unknown>;
  extra: Record<string, unknown>;
  notes: string[];
  /** How long the run's orders may take to settle after the load. */
  settleBudgetMs?: number;
  /** Called once the orders have settled (chaos: recovery time). */
  afterSettled?: (settledInMs: number | undefined) => void;
}

export interface Scenario {
  /** The scenario cannot run on processes it did not start (chaos: they must reach the stack through its proxies). */
  ownSystem?: boolean;
  /** Processes and environment the scenario needs (chaos: proxies; overload: the admission limit). */
  system?(ctx: Pick<RunContext, 'runId' | 'runDir' | 'log' | 'options'>): Promise<Partial<SystemOptions> & { cleanup?: () => Promise<void> }>;
  run(ctx: RunContext): Promise<ScenarioResult>;
}

const idleBaselineMs = 5000;

export function newRunId(scenario: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${stamp}-${scenario}-${Math.random().toString(36).slice(2, 6)}`;
}

export async function runLoadtest(options: LoadtestOptions, scenario: Scenario): Promise<Summary> {
  const log = options.log ?? ((line: string) => console.log(`[loadtest] ${line}`));
  const runId = newRunId(options.scenario);
  const runDir = path.join(options.resultsDir ?? path.join(projectRoot, 'loadtest', 'results'), runId);
  mkdirSync(runDir, { recursive: true });
  const env = { ...process.env, ...options.env };
  const config = loadConfig(env);
  const pool = createPool(config.databaseUrl, { max: 8, application_name: 'loadtest' });
  const redis = createRedis(config.redisUrl, 'loadtest');
  const startedAt = new Date().toISOString();
  const events: ReportEvent[] = [];
  const settler = new Settler(pool);
  const onExit = (): void => killAllNow();
  process.once('exit', onExit);
  if (options.system && scenario.ownSystem) throw new Error(`the ${options.scenario} scenario starts its own processes; it cannot reuse running ones`);
  // Reused processes keep their configuration: the scenario's settings apply to processes it starts.
  const extras = scenario.system && !options.system ? await scenario.system({ runId, runDir, log, options }) : {};
  try {
    if (!options.system) log(`run ${runId}: starting the harness's API, ${options.workers ?? 1} worker(s) and PSP (logs in .data/logs/loadtest-${runId}-*.log)`);
    const ready = options.system ?? (await startSystem({ runId, runDir, workers: options.workers ?? 1, ...extras, env: { ...options.env, ...extras.env } }));
    const api = new ApiClient(ready.apiUrl, ready.config.jwtSecret);
    if (!options.system) await warmUp(api, { pool, redis }, settler, `lt-${runId}-`);
    // Idle CPU of every process (pollers, timers, GC, the reconciler) over 5 s before the load: what
    // a checkout costs at the margin is the load window's CPU minus this baseline.
    const cpu = new CpuMeter(() => ready);
    const idleStart = cpu.snapshot();
    await new Promise((resolve) => setTimeout(resolve, idleBaselineMs));
    const idlePerSecond = Object.fromEntries(Object.entries(cpuDelta(idleStart, cpu.snapshot())).map(([k, v]) => [k, (v * 1000) / idleBaselineMs]));
    // The clock of the charts starts here: process start-up and warm-up are not part of the run.
    const recorder = new Recorder();
    const ctx: RunContext = {
      options,
      runId,
      runDir,
      buyerPrefix: `lt-${runId}-`,
      system: ready,
      api,
      pool,
      redis,
      settler,
      recorder,
      events,
      log,
      event(what) {
        events.push({ atMs: recorder.now(), what });
        log(`${(recorder.now() / 1000).toFixed(1)} s: ${what}`);
      },
      cpu,
    };
    const cpuBefore = ctx.cpu.snapshot();
    const result = await scenario.run(ctx);
    const cpuAfter = ctx.cpu.snapshot();
    const settleBudgetMs = options.settleBudgetS !== undefined ? options.settleBudgetS * 1000 : (result.settleBudgetMs ?? 120_000);
    log(`load done; waiting up to ${Math.round(settleBudgetMs / 1000)} s for every order of the run to settle`);
    const settledInMs = await waitSettled(pool, ctx.buyerPrefix, settleBudgetMs, (left) => log(`${left} order(s) still in flight`));
    result.afterSettled?.(settledInMs);
    const invariants = [...result.invariants, ...(await checkInvariants(pool, { ...result.scope, buyerPrefix: ctx.buyerPrefix }))];
    const loadWindowMs = result.loadWindow.endMs - result.loadWindow.startMs;
    const totals = recorder.totals(loadWindowMs);
    const cpuMs = cpuDelta(cpuBefore, cpuAfter);
    const completed = totals.completed;
    const cpuFigures = {
      loadWindowMs: Math.round(loadWindowMs),
      cpuMs,
      cpuMsPerCompletedCheckout: Object.fromEntries(Object.entries(cpuMs).map(([k, v]) => [k, completed > 0 ? Math.round((v / completed) * 10) / 10 : null])),
      idleCpuMsPerSecond: Object.fromEntries(Object.entries(idlePerSecond).map(([k, v]) => [k, Math.round(v * 10) / 10])),
      marginalCpuMsPerCompletedCheckout: Object.fromEntries(
        Object.entries(cpuMs).map(([k, v]) => [k, completed > 0 ? Math.round((Math.max(0, v - (idlePerSecond[k] ?? 0) * (loadWindowMs / 1000)) / completed) * 10) / 10 : null]),
      ),
      cores: os.availableParallelism(),
    };
    const summary: Summary = {
      scenario: options.scenario,
      runId,
      runDir,
      ok: invariants.every((i) => i.ok),
      startedAt,
      settings: { ...result.settings, workers: options.workers ?? 1, cores: os.availableParallelism(), loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) },
      totals: { ...totals, settledAfterLoadMs: settledInMs ?? null },
      goals: result.goals,
      invariants,
      cpu: cpuFigures,
      events,
      perSecond: recorder.seconds(),
      extra: result.extra,
    };
    writeFileSync(path.join(runDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    writeFileSync(
      path.join(runDir, 'report.html'),
      renderReport({
        title: `loadtest ${options.scenario} — ${runId}`,
        generatedAt: new Date().toISOString(),
        settings: summary.settings,
        seconds: summary.perSecond,
        totals: flatTotals(summary),
        goals: summary.goals,
        invariants,
        cpu: {
          'CPU ms per completed checkout (load window)': cpuFigures.cpuMsPerCompletedCheckout,
          'marginal CPU ms per completed checkout (minus idle)': cpuFigures.marginalCpuMsPerCompletedCheckout,
          'idle CPU ms per second': cpuFigures.idleCpuMsPerSecond,
          'load window (ms)': cpuFigures.loadWindowMs,
          cores: cpuFigures.cores,
        },
        events,
        notes: result.notes,
      }),
    );
    printSummary(summary, log);
    return summary;
  } finally {
    settler.close();
    if (!options.system) await stopAll(10_000);
    await extras.cleanup?.().catch(() => undefined);
    await pool.end();
    redis.disconnect();
    process.off('exit', onExit);
  }
}

/**
 * A few checkouts one at a time before the clock starts: the worker's first workflow tasks (bundle
 * load, JIT, connection pools) are not the system's steady state. Their orders are the run's too
 * (same buyer prefix), so the invariants cover them.
 */
async function warmUp(api: ApiClient, deps: { pool: Pool; redis: Redis }, settler: Settler, buyerPrefix: string): Promise<void> {
  await prepareCatalog(api, deps, 1000);
  const warmBuyers = [1, 2, 3].map((i) => `${buyerPrefix}warmup-${i}`);
  await fillCarts(api, warmBuyers, seedCart);
  for (const buyer of warmBuyers) await checkoutJourney({ api, settler, buyer, key: `${buyer}-k`, paymentToken: 'tok_visa', settleTimeoutMs: 60_000 });
}

function flatTotals(summary: Summary): Record<string, unknown> {
  const t = summary.totals;
  return {
    offered: t.offered,
    completed: t.completed,
    'offered per second': t.offeredPerSecond,
    'goodput (completed per second)': t.goodputPerSecond,
    'admitted latency ms (p50 / p90 / p99 / max)': `${t.admitted.p50} / ${t.admitted.p90} / ${t.admitted.p99} / ${t.admitted.max}`,
    'refused latency ms (p50 / p99 / max)': `${t.refused.p50} / ${t.refused.p99} / ${t.refused.max}`,
    outcomes: t.outcomes,
    'settled after the load (ms)': t.settledAfterLoadMs,
    ...summary.extra,
  };
}

function printSummary(summary: Summary, log: (line: string) => void): void {
  const t = summary.totals;
  log(`${summary.scenario}: offered ${t.offered} (${t.offeredPerSecond}/s), completed ${t.completed} (goodput ${t.goodputPerSecond}/s); admitted p50/p99 ${t.admitted.p50}/${t.admitted.p99} ms, refused p99 ${t.refused.p99} ms`);
  log(`outcomes: ${JSON.stringify(t.outcomes)}`);
  for (const goal of summary.goals) log(`goal ${goal.name}: ${goal.measured ?? '-'} (target ${goal.target}) ${goal.met ? 'met' : 'NOT MET'}`);
  if (summary.cpu) log(`CPU ms per completed checkout: ${JSON.stringify(summary.cpu.cpuMsPerCompletedCheckout)}; marginal (minus idle): ${JSON.stringify(summary.cpu.marginalCpuMsPerCompletedCheckout)}`);
  const broken = summary.invariants.filter((i) => !i.ok);
  log(broken.length === 0 ? `invariants: all ${summary.invariants.length} hold` : `INVARIANTS BROKEN: ${broken.map((i) => `${i.name} (${i.detail})`).join('; ')}`);
  log(`wrote ${path.join(summary.runDir, 'summary.json')} and report.html`);
}

/** Latency of a phase's admitted outcomes (answered, not refused). */
export function admittedStats(outcomes: readonly OrderOutcome[]): ReturnType<typeof latencyStats> {
  return latencyStats(outcomes.filter((o) => o.outcome === 'COMPLETED' || o.outcome.startsWith('FAILED')).map((o) => o.latencyMs));
}
