/**
 * `npm start`: the whole system on its local default. Brings the stack up (installing what is
 * missing), runs the worker and the API as child processes with prefixed logs, prints where to
 * look, and on Ctrl-C stops the children and then exactly the stack services it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { loadConfig, projectRoot, refuseDevSecretsInProduction, type AppConfig } from '../lib/config';
import { createPool } from '../db/pool';
import { seedIfEmpty, walkthrough } from '../db/seed';
import { createRedis } from '../lib/redis';
import { stackDown, stackUp, StackError, type ServiceName } from './stack/index';

interface Child {
  name: string;
  process: ChildProcess;
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

function startChild(name: string, entry: string, env: NodeJS.ProcessEnv = process.env): Child {
  const child = spawn(process.execPath, [...tsxLoader, entry], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  prefixLines(name, child.stdout, process.stdout);
  prefixLines(name, child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`[start]   ${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything`);
    void shutdown(1);
  });
  console.log(`[start]   ${name} started (pid ${child.pid})`);
  const entryChild = { name, process: child };
  children.push(entryChild);
  return entryChild;
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

async function main(): Promise<void> {
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
  startChild('worker', 'workers/main.ts');
  startChild('api', 'api/main.ts');
  if (!(await waitForHttp(`${apiUrl}/healthz`, 60_000))) {
    if (!stopping) console.error('[start]   the API did not answer /healthz within 60 s');
    return shutdown(1);
  }
  const uiUrl = config.local.temporal ? `http://localhost:${config.temporalUiPort}` : '(external Temporal: see its own Web UI)';
  console.log(
    [
      '',
      '  Checkout orchestrator is up.',
      `    API               ${apiUrl}   (health: ${apiUrl}/healthz, readiness: ${apiUrl}/readyz)`,
      `    Temporal Web UI   ${uiUrl}`,
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
