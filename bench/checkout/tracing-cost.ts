/**
 * What tracing costs (docs/tracing.md, *Cost*): the same worker and API run with tracing off
 * (`OTEL_SDK_DISABLED=true`) and on (OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT, the sampling ratio of
 * OTEL_TRACES_SAMPLER_ARG, default every trace), alternately off, on, off, on ... for `rounds`
 * rounds so that the drift of a shared machine falls on both. Each turn restarts both processes,
 * warms up, times checkouts one at a time, then measures closed-loop throughput. The figure that
 * counts is the throughput ratio on/off (goal: at most 10 % lost).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { projectRoot } from '../../lib/config';
import { tracingConfigFromEnv } from '../../lib/tracing';
import { sequentialCheckouts, throughput, timedCheckout, newBuyer, type JourneyContext } from './journeys';
import { alive, type BenchProcess } from './processes';
import { latencyStats, perSecond, type LatencyStats } from './stats';

export type TracingState = 'off' | 'on';

export interface TracingCostOptions {
  ctx: JourneyContext;
  rounds: number;
  sequentialN: number;
  concurrency: number;
  seconds: number;
  latencyEstimateMs: number;
  /** Starts the worker and the API with tracing in this state; resolves once both are ready. */
  start: (state: TracingState) => Promise<BenchProcess[]>;
}

export interface TracingStateFigures {
  turns: number;
  sequentialMs: LatencyStats;
  throughput: { completed: number; wrong: number; elapsedMs: number; perSecond: number; perTurn: number[]; latencyMs: LatencyStats };
  /**
   * CPU time (user + system) the worker and the API spent per completed checkout during the
   * throughput phase, and the local Jaeger's: steadier than throughput on a machine others share.
   */
  cpuMsPerCheckout: { workerAndApi: number | null; jaeger: number | null };
}

export interface TracingCost {
  samplingRatio: number;
  tracesUrl: string;
  collectorListening: boolean;
  order: TracingState[];
  off: TracingStateFigures;
  on: TracingStateFigures;
  /** Throughput with tracing on / off. */
  throughputRatio: number | null;
  /** 100 x (1 - throughputRatio), rounded to 0.1. */
  throughputCostPercent: number | null;
  sequentialP50Ratio: number | null;
  /** CPU per checkout of the worker and the API, on / off (Linux /proc; null elsewhere). */
  cpuPerCheckoutRatio: number | null;
}

const clockTicksPerSecond = 100; // USER_HZ on Linux

/** CPU time (user + system, ms) a process has used so far, from /proc; undefined when unknown. */
function cpuMsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
  } catch {
    return undefined;
  }
}

function jaegerPid(): number | undefined {
  try {
    const dir = process.env.STACK_DATA_DIR ?? path.join(projectRoot, '.data');
    const pid = Number(readFileSync(path.join(dir, 'run', 'jaeger.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const sumOf = (values: (number | undefined)[]): number | undefined => (values.some((v) => v === undefined) ? undefined : values.reduce<number>((a, b) => a + b!, 0));

/** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
export async function stopProcess(proc: BenchProcess, graceMs = 15_000): Promise<void> {
  if (!alive(proc)) return;
  const gone = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

function listening(url: string): Promise<boolean> {
  const { hostname, port, protocol } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) || (protocol === 'https:' ? 443 : 80) });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const ratioOf = (a: number | null, b: number | null): number | null => (a !== null && b !== null && b > 0 ? Math.round((a / b) * 1000) / 1000 : null);

export async function measureTracingCost(options: TracingCostOptions): Promise<TracingCost> {
  const { ctx } = options;
  const config = tracingConfigFromEnv({ ...process.env, OTEL_SDK_DISABLED: 'false' });
  const collectorListening = await listening(config.tracesUrl);
  if (!collectorListening) ctx.log(`tracing cost: nothing listens at ${config.tracesUrl}; spans are made and their export fails (start Jaeger for the real figure)`);
  const order: TracingState[] = Array.from({ length: options.rounds }, (): TracingState[] => ['off', 'on']).flat();
  type Collected = { sequential: number[]; completed: number; wrong: number; elapsedMs: number; perTurn: number[]; latencies: number[]; cpuMs: number | null; jaegerCpuMs: number | null };
  const fresh = (): Collected => ({ sequential: [], completed: 0, wrong: 0, elapsedMs: 0, perTurn: [], latencies: [], cpuMs: 0, jaegerCpuMs: 0 });
  const collected: Record<TracingState, Collected> = { off: fresh(), on: fresh() };
  const jaeger = jaegerPid();
  for (const [turn, state] of order.entries()) {
    ctx.log(`tracing cost: turn ${turn + 1}/${order.length}, tracing ${state}`);
    const procs = await options.start(state);
    try {
      for (let i = 0; i < 3; i += 1) {
        const buyer = newBuyer(ctx, `trace-${state}-warmup`);
        await ctx.api.fillSeedCart(buyer);
        await timedCheckout(ctx, buyer, 'tok_visa', { status: 'COMPLETED' }, `${ctx.runId}-trace-${turn}-warmup-${i}`);
      }
      const sequential = await sequentialCheckouts(ctx, { count: options.sequentialN, token: 'tok_visa', expected: { status: 'COMPLETED' }, tag: `trace-${state}-${turn}`, clearAfter: false });
      const figures = collected[state];
      figures.sequential.push(...sequential.filter((r) => r.ok).map((r) => r.latencyMs));
      const pids = procs.map((p) => p.child.pid);
      const cpuBefore = sumOf(pids.map(cpuMsOf));
      const jaegerBefore = cpuMsOf(jaeger);
      const tput = await throughput(ctx, { concurrency: options.concurrency, durationMs: options.seconds * 1000, latencyEstimateMs: options.latencyEstimateMs });
      const cpuAfter = sumOf(pids.map(cpuMsOf));
      const jaegerAfter = cpuMsOf(jaeger);
      // Cart filling happens inside the throughput call too (the API's share): the same in both states.
      figures.cpuMs = figures.cpuMs === null || cpuBefore === undefined || cpuAfter === undefined ? null : figures.cpuMs + (cpuAfter - cpuBefore);
      figures.jaegerCpuMs = figures.jaegerCpuMs === null || jaegerBefore === undefined || jaegerAfter === undefined ? null : figures.jaegerCpuMs + (jaegerAfter - jaegerBefore);
      figures.completed += tput.completed;
      figures.wrong += tput.wrong;
      figures.elapsedMs += tput.elapsedMs;
      figures.perTurn.push(perSecond(tput.completed, tput.elapsedMs));
      figures.latencies.push(...tput.latenciesMs);
      ctx.log(`tracing ${state}: ${tput.completed} checkouts in ${Math.round(tput.elapsedMs)} ms = ${perSecond(tput.completed, tput.elapsedMs)}/s`);
    } finally {
      for (const proc of procs) await stopProcess(proc);
    }
  }
  const summary = (state: TracingState): TracingStateFigures => {
    const c = collected[state];
    return {
      turns: options.rounds,
      sequentialMs: latencyStats(c.sequential),
      throughput: { completed: c.completed, wrong: c.wrong, elapsedMs: Math.round(c.elapsedMs), perSecond: perSecond(c.completed, c.elapsedMs), perTurn: c.perTurn, latencyMs: latencyStats(c.latencies) },
      cpuMsPerCheckout: {
        workerAndApi: c.cpuMs === null || c.completed === 0 ? null : Math.round((c.cpuMs / c.completed) * 10) / 10,
        jaeger: c.jaegerCpuMs === null || c.completed === 0 ? null : Math.round((c.jaegerCpuMs / c.completed) * 10) / 10,
      },
    };
  };
  const off = summary('off');
  const on = summary('on');
  const throughputRatio = ratioOf(on.throughput.perSecond, off.throughput.perSecond);
  return {
    samplingRatio: config.sampleRatio,
    tracesUrl: config.tracesUrl,
    collectorListening,
    order,
    off,
    on,
    throughputRatio,
    throughputCostPercent: throughputRatio === null ? null : Math.round((1 - throughputRatio) * 1000) / 10,
    sequentialP50Ratio: ratioOf(on.sequentialMs.p50, off.sequentialMs.p50),
    cpuPerCheckoutRatio: ratioOf(on.cpuMsPerCheckout.workerAndApi, off.cpuMsPerCheckout.workerAndApi),
  };
}
