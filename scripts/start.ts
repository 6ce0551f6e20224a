/**
 * `npm start`: the whole system on its local default. Brings the stack up (installing what is
 * missing), runs the worker(s) and the API(s) as child processes with prefixed logs, prints where
 * to look, and on Ctrl-C stops the children and then exactly the stack services it started.
 *
 * `--workers N` runs N workers (WORKER_INDEX 0..N-1: each its own metrics port), `--apis N` runs N
 * API processes on PORT..PORT+N-1. A child that dies is restarted with exponential backoff and a
 * log line (`supervision` below); only Ctrl-C / SIGTERM stops everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { loadConfig, projectRoot, refuseDevSecretsInProduction, type AppConfig } from '../lib/config';
import { createPool } from '../db/pool';
import { seedIfEmpty, walkthrough } from './seed';
import { createRedis } from '../lib/redis';
import { jaegerUiSummary, stackDown, stackUp, StackError, type ServiceName } from './stack/index';

/**
 * A supervised child: when its process dies while we are not stopping, it is started again after
 * an exponential backoff (restartBaseMs, doubling up to restartMaxMs; reset once a process has run
 * for stableAfterMs), with a log line for the death and for the restart.
 */
interface Child {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  process: ChildProcess;
  /** Restarts so far (the backoff exponent; reset after a stable run). */
  restarts: number;
  startedAt: number;
  restartTimer?: NodeJS.Timeout;
}

const supervision = { restartBaseMs: 500, restartMaxMs: 30_000, stableAfterMs: 60_000 } as const;

/** The backoff before restart number `restarts` (1-based): 0.5 s, 1 s, 2 s, ... capped at 30 s. */
function restartDelayMs(restarts: number): number {
  return Math.min(supervision.restartMaxMs, supervision.restartBaseMs * 2 ** Math.max(0, restarts - 1));
}

// The children run TypeScript through tsx's loader inside the node process itself (not the tsx
// CLI, which would put a wrapper process between us and the child: a SIGKILL to the wrapper would
// orphan the real process).
const tsxLoader = ['--require', 'tsx/cjs'];
const children: Child[] = [];
let startedServices: ServiceName[] = [];
let stopping = false;

function prefixLines(name: string, stream: NodeJS.ReadableStream | null, sink: NodeJS.WritableStream): void {
  if (!stream) return;
  const label = `[${name}]`.padEnd(9);
  readline.createInterface({ input: stream }).on('line', (line) => sink.write(`${label} ${line}\n`));
}

function spawnProcess(child: Pick<Child, 'name' | 'entry' | 'env'>): ChildProcess {
  const proc = spawn(process.execPath, [...tsxLoader, child.entry], { cwd: projectRoot, env: child.env, stdio: ['ignore', 'pipe', 'pipe'] });
  prefixLines(child.name, proc.stdout, process.stdout);
  prefixLines(child.name, proc.stderr, process.stderr);
  console.log(`[start]   ${child.name} started (pid ${proc.pid})`);
  return proc;
}

function supervise(child: Child): void {
  child.process.once('exit', (code, signal) => {
    if (stopping) return;
    const ranMs = Date.now() - child.startedAt;
    if (ranMs >= supervision.stableAfterMs) child.restarts = 0;
    child.restarts += 1;
    const delayMs = restartDelayMs(child.restarts);
    console.error(
      `[start]   ${child.name} (pid ${child.process.pid}) exited unexpectedly (${signal ?? `code ${code}`}) after ${Math.round(ranMs / 100) / 10} s; restarting in ${delayMs} ms (restart ${child.restarts})`,
    );
    child.restartTimer = setTimeout(() => {
      child.restartTimer = undefined;
      if (stopping) return;
      child.process = spawnProcess(child);
      child.startedAt = Date.now();
      supervise(child);
    }, delayMs);
  });
}

function startChild(name: string, entry: string, env: NodeJS.ProcessEnv = process.env): Child {
  const child: Child = { name, entry, env, process: spawnProcess({ name, entry, env }), restarts: 0, startedAt: Date.now() };
  supervise(child);
  children.push(child);
  return child;
}

async function waitForHttp(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(url);
      if (res.ok) return true;
    } catch {
      /* not up yet */
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('[start]   stopping worker and API...');
  for (const child of children) clearTimeout(child.restartTimer);
  for (const { process: child } of children) if (child.exitCode === null) child.kill('SIGTERM');
  const killTimer = setTimeout(() => {
    for (const { process: child } of children) if (child.exitCode === null) child.kill('SIGKILL');
  }, 15_000);
  await Promise.all(children.map((c) => exited(c.process)));
  clearTimeout(killTimer);
  if (startedServices.length > 0) {
    console.log(`[start]   stopping the stack services this run started: ${startedServices.join(', ')}`);
    await stackDown(startedServices);
  }
  console.log('[start]   stopped');
  process.exit(code);
}

/** Loads the demo scenario into an empty database and prints where to start; returns the walkthrough or undefined. */
async function seedDemoData(config: AppConfig, apiUrl: string): Promise<string | undefined> {
  const pool = createPool(config.databaseUrl, { max: 2 });
  const redis = createRedis(config.redisUrl, 'checkout-seed');
  try {
    return (await seedIfEmpty({ pool, redis })) ? walkthrough({ apiUrl, jwtSecret: config.jwtSecret }) : undefined;
  } finally {
    await pool.end();
    redis.disconnect();
  }
}

const usage = 'usage: npm start [-- --workers N] [--apis N]';

/** `--workers N` (default 1) worker processes, `--apis N` (default 1) API processes on PORT, PORT+1, ... */
function parseArgs(argv: readonly string[]): { workers: number; apis: number } {
  const counts = { workers: 1, apis: 1 };
  for (let i = 0; i < argv.length; i += 1) {
    const match = /^--(workers|apis)(?:=(.*))?$/.exec(argv[i]!);
    if (!match) throw new StackError(`unknown argument "${argv[i]}"`, usage);
    const raw = match[2] ?? argv[++i];
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 64) throw new StackError(`--${match[1]} must be an integer from 1 to 64, got "${raw}"`, usage);
    counts[match[1] as 'workers' | 'apis'] = value;
  }
  return counts;
}

/** Worker i gets WORKER_INDEX=i (its metrics port follows, lib/config.ts); one worker keeps the plain name. */
function startWorkers(count: number): void {
  for (let i = 0; i < count; i += 1) startChild(count === 1 ? 'worker' : `worker-${i + 1}`, 'workers/main.ts', { ...process.env, WORKER_INDEX: String(i) });
}

/** API i listens on PORT + i (and METRICS_PORT + i when that is set); the PSP's webhooks go to PORT. */
function startApis(count: number, config: AppConfig): void {
  for (let i = 0; i < count; i += 1) {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(config.port + i) };
    if (process.env.METRICS_PORT?.trim()) env.METRICS_PORT = String(Number(process.env.METRICS_PORT) + i);
    startChild(count === 1 ? 'api' : `api-${i + 1}`, 'api/main.ts', env);
  }
}

async function main(): Promise<void> {
  const counts = parseArgs(process.argv.slice(2));
  // Before anything starts: nothing to stop when the secrets are refused.
  refuseDevSecretsInProduction('start');
  const config = loadConfig();
  // Ctrl-C reaches us twice (from the terminal and relayed by npm / tsx): every signal after the
  // first is absorbed by the same idempotent shutdown instead of killing us halfway.
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  ({ started: startedServices } = await stackUp({ config }));
  if (stopping) return;
  const apiUrl = `http://localhost:${config.port}`;
  const demo = await seedDemoData(config, apiUrl);
  if (demo) console.log('[start]   the database was empty: loaded the demo scenario (npm run seed)');
  startWorkers(counts.workers);
  startApis(counts.apis, config);
  if (!(await waitForHttp(`${apiUrl}/healthz`, 60_000))) {
    if (!stopping) console.error('[start]   the API did not answer /healthz within 60 s');
    return shutdown(1);
  }
  const uiUrl = config.local.temporal ? `http://localhost:${config.temporalUiPort}` : '(external Temporal: see its own Web UI)';
  console.log(
    [
      '',
      '  Checkout orchestrator is up.',
      `    Storefront        ${apiUrl}/   (sign in as a demo buyer or seller; not with NODE_ENV=production)`,
      `    API               ${apiUrl}   (health: ${apiUrl}/healthz, readiness: ${apiUrl}/readyz)`,
      `    Temporal Web UI   ${uiUrl}`,
      `    Jaeger UI         ${jaegerUiSummary()}   (traces)`,
      `    Temporal          ${config.temporalAddress}, namespace "${config.temporalNamespace}", task queue "${config.taskQueue}"`,
      '  Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  if (demo) console.log(demo);
}

main().catch((err: unknown) => {
  if (err instanceof StackError) {
    console.error(`[start]   error: ${err.message}`);
    if (err.fix) console.error(`[start]   fix: ${err.fix}`);
  } else {
    console.error('[start]   failed:', err);
  }
  void shutdown(1);
});
