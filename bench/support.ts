/**
 * Helpers shared by the inventory and voucher benchmarks: a throwaway `checkout_bench` database,
 * bounded closed-loop load generation, running the raw-ceiling tools (pgbench, redis-benchmark)
 * with a time limit, and writing bench/results/<name>.json. Benchmarks are never part of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { loadConfig, projectRoot } from '../lib/config';
import { migrate } from '../db/migrate';
import { which } from '../scripts/stack/proc';
import { postgresBinDir } from '../scripts/stack/tools';

/**
 * Each benchmark has its own throwaway database (`checkout_bench_<name>`), so two benchmarks, or
 * another engineer's, never drop each other's data.
 */
export function benchDatabaseName(benchmark: string): string {
  return `checkout_bench_${benchmark}`;
}

export function log(name: string, line: string): void {
  console.log(`[bench:${name}] ${line}`);
}

/** The database URL for a benchmark: BENCH_DATABASE_URL, else its own database on the configured server. */
export function benchDatabaseUrl(benchmark: string): string {
  const fromEnv = process.env.BENCH_DATABASE_URL;
  if (fromEnv) return fromEnv;
  const url = new URL(loadConfig().databaseUrl);
  url.pathname = `/${benchDatabaseName(benchmark)}`;
  return url.toString();
}

function adminUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  return url.toString();
}

/**
 * Creates the bench database when missing (the local superuser may) and migrates it. The benchmark
 * drops it at the end (one left by an interrupted run is reused first). Returns true when created.
 */
export async function prepareBenchDatabase(databaseUrl: string): Promise<boolean> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const admin = new Client({ connectionString: adminUrl(databaseUrl) });
  await admin.connect();
  let created = false;
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      created = true;
    }
  } finally {
    await admin.end();
  }
  await migrate(databaseUrl);
  return created;
}

export async function dropBenchDatabase(databaseUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const admin = new Client({ connectionString: adminUrl(databaseUrl) });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export interface LoadResult {
  /** Calls that succeeded / were refused (a typed business error) / failed unexpectedly. */
  ok: number;
  refused: number;
  errors: number;
  elapsedMs: number;
  /** Successful calls per second. */
  perSecond: number;
  firstError?: string;
}

/**
 * Closed-loop load: `concurrency` workers call `operation(worker, iteration)` back to back until
 * `durationMs` has passed (and at most `callsMax` calls were started). `isRefusal` classifies a
 * thrown error as an expected refusal.
 */
export async function runLoad(options: {
  concurrency: number;
  durationMs: number;
  callsMax?: number;
  operation: (worker: number, iteration: number) => Promise<unknown>;
  isRefusal: (err: unknown) => boolean;
}): Promise<LoadResult> {
  const { concurrency, durationMs, operation, isRefusal } = options;
  const callsMax = options.callsMax ?? Number.MAX_SAFE_INTEGER;
  let started = 0;
  const result: LoadResult = { ok: 0, refused: 0, errors: 0, elapsedMs: 0, perSecond: 0 };
  const begin = performance.now();
  const deadline = begin + durationMs;
  async function worker(index: number): Promise<void> {
    for (let i = 0; performance.now() < deadline && started < callsMax; i += 1) {
      started += 1;
      try {
        await operation(index, i);
        result.ok += 1;
      } catch (err) {
        if (isRefusal(err)) {
          result.refused += 1;
        } else {
          result.errors += 1;
          result.firstError ??= (err as Error).message;
        }
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
  result.elapsedMs = performance.now() - begin;
  result.perSecond = Math.round((result.ok * 1000) / result.elapsedMs);
  return result;
}

/** Finds a tool binary: PATH first, then the Postgres binary directory. */
export function findTool(name: string): string {
  const found = which(name) ?? [postgresBinDir(false)].flatMap((dir) => (dir ? [path.join(dir, name)] : [])).find((p) => existsSync(p));
  if (!found) throw new Error(`${name} not found (install postgresql-contrib / redis-tools)`);
  return found;
}

/** Runs a tool to completion within `timeoutMs`; throws with its output on failure. */
export function runTool(cmd: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error) throw new Error(`${path.basename(cmd)}: ${result.error.message}\n${output.slice(-2000)}`);
  if (result.status !== 0) throw new Error(`${path.basename(cmd)} exited ${result.status}:\n${output.slice(-2000)}`);
  return output;
}

export function ratio(service: number, raw: number): number | null {
  return raw > 0 ? Math.round((service / raw) * 1000) / 1000 : null;
}

export function machineInfo(): Record<string, unknown> {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', totalMemoryMb: Math.round(os.totalmem() / 2 ** 20), node: process.version, loadAverage: os.loadavg() };
}

export function writeResults(name: string, data: unknown): string {
  const dir = path.join(projectRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/**
 * Commit durability of a benchmark's Postgres sessions (service pool and pgbench alike).
 * `durable` is synchronous_commit=on, Postgres's default and what production must run: with
 * asynchronous commit a database crash can forget reservations, holds and ledger entries that were
 * already reported as done. `async` is synchronous_commit=off, what the private dev/test cluster
 * runs for speed. BENCH_DURABILITY=durable|async|both (default both: durable first, it carries the goals).
 */
export type Durability = 'durable' | 'async';

export function benchDurabilities(): Durability[] {
  const raw = process.env.BENCH_DURABILITY ?? 'both';
  if (raw === 'durable' || raw === 'async') return [raw];
  if (raw === 'both') return ['durable', 'async'];
  throw new Error(`BENCH_DURABILITY must be durable, async or both (got ${raw})`);
}

/** The session setting of a durability mode, as a libpq/pg `options` string (also PGOPTIONS). */
export function durabilityOptions(durability: Durability): string {
  return `-c synchronous_commit=${durability === 'durable' ? 'on' : 'off'}`;
}

/** Measurement rounds per figure: BENCH_ROUNDS (1..5), default `fallback`. */
export function benchRounds(fallback: number): number {
  const raw = Number(process.env.BENCH_ROUNDS ?? fallback);
  return Number.isInteger(raw) ? Math.min(5, Math.max(1, raw)) : fallback;
}

/** Seconds of each timed run: BENCH_SECONDS (1..30), default `fallback`. */
export function runSeconds(fallback: number): number {
  const raw = Number(process.env.BENCH_SECONDS ?? fallback);
  return Number.isFinite(raw) ? Math.min(30, Math.max(1, raw)) : fallback;
}
