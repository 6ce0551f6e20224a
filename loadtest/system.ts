/**
 * The system under load: the harness runs its OWN product processes against the running local
 * stack (Postgres, Redis, Temporal: `npm run stack -- up`), like bench:checkout, so that a run
 * controls their configuration (admission limits, task queue, proxies for chaos), can kill and
 * restart them, and never disturbs `npm start`'s processes:
 *
 * - a PSP simulator on a free port, its data under the run's folder, its webhooks to the harness's
 *   API (or to the chaos scenario's webhook relay);
 * - `workers` worker processes (metrics ports chosen by the kernel) on the task queue `loadtest`;
 * - one API process on a free port.
 *
 * Every process is spawned as scripts/start.ts does (node + tsx's require hook) and stopped at the
 * end (bench/checkout/processes.ts). CPU time of every process involved is read from /proc, so a
 * run can report CPU per checkout for the API, the worker, the PSP, Temporal, Postgres and Redis.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type AppConfig } from '../lib/config';
import { dataDir } from '../scripts/stack/services';
import { alive, freePort, spawnTs, waitForHttp, waitForLog, type BenchProcess } from '../bench/checkout/processes';

export interface SystemOptions {
  runId: string;
  runDir: string;
  workers: number;
  /** Extra environment of the API (admission limits) and of every process (URLs of proxies). */
  apiEnv?: NodeJS.ProcessEnv;
  env?: NodeJS.ProcessEnv;
  /** Where the PSP sends webhooks; default the API's. */
  webhookUrl?: (apiUrl: string) => string;
  /** PSP URL the worker uses (a proxy in front of the PSP); default the PSP itself. */
  pspUrlForWorker?: (pspPort: number) => string;
  taskQueue?: string;
  /** Fixed PSP port (the chaos proxy needs it before the processes start). */
  pspPort?: number;
}

export interface System {
  config: AppConfig;
  apiUrl: string;
  pspPort: number;
  taskQueue: string;
  api: BenchProcess;
  psp: BenchProcess;
  workers: BenchProcess[];
  /** Starts worker `index` again (after a kill). */
  restartWorker(index: number): Promise<BenchProcess>;
  /** The environment every product process got. */
  env: NodeJS.ProcessEnv;
}

const readyTimeoutMs = 120_000;

export async function startSystem(options: SystemOptions): Promise<System> {
  const config = loadConfig({ ...process.env, ...options.env });
  const apiPort = await freePort();
  const pspPort = options.pspPort ?? (await freePort());
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const taskQueue = options.taskQueue ?? 'loadtest';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    TEMPORAL_TASK_QUEUE: taskQueue,
    PSP_URL: options.pspUrlForWorker ? options.pspUrlForWorker(pspPort) : `http://127.0.0.1:${pspPort}`,
    WORKER_METRICS_PORT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN',
  };
  const tag = `loadtest-${options.runId}`;
  const psp = spawnTs(
    'psp',
    'simulators/psp/main.ts',
    {
      ...env,
      PSP_PORT: String(pspPort),
      PSP_DATA_DIR: path.join(options.runDir, 'psp'),
      PSP_WEBHOOK_URL: options.webhookUrl ? options.webhookUrl(apiUrl) : `${apiUrl}/v1/webhooks/payments`,
      // Webhooks retried quickly: a fault window must not leave a payment waiting minutes.
      PSP_WEBHOOK_RETRY_BASE_MS: '200',
      PSP_WEBHOOK_RETRY_MAX_MS: '5000',
    },
    `${tag}-psp.log`,
  );
  const api = spawnTs('api', 'api/main.ts', { ...env, ...options.apiEnv, PORT: String(apiPort), LOG_LEVEL: 'warn' }, `${tag}-api.log`);
  const spawnWorker = (index: number, generation: number): BenchProcess =>
    spawnTs(`worker-${index + 1}`, 'workers/main.ts', { ...env, WORKER_INDEX: String(index) }, `${tag}-worker-${index + 1}${generation ? `-r${generation}` : ''}.log`);
  const workers = Array.from({ length: options.workers }, (_, i) => spawnWorker(i, 0));
  await Promise.all([
    waitForHttp(psp, `http://127.0.0.1:${pspPort}/healthz`, readyTimeoutMs),
    waitForHttp(api, `${apiUrl}/readyz`, readyTimeoutMs),
    ...workers.map((w) => waitForLog(w, /worker polling task queue/, readyTimeoutMs)),
  ]);
  const generations = workers.map(() => 0);
  return {
    config,
    apiUrl,
    pspPort,
    taskQueue,
    api,
    psp,
    workers,
    env,
    async restartWorker(index) {
      generations[index] = (generations[index] ?? 0) + 1;
      const worker = spawnWorker(index, generations[index]);
      workers[index] = worker;
      await waitForLog(worker, /worker polling task queue/, readyTimeoutMs);
      return worker;
    },
  };
}

// ---------------------------------------------------------------- CPU accounting from /proc

const clockTicksPerSecond = 100;

function procStat(pid: number): { ppid: number; cpuMs: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return { ppid: Number(fields[1]), cpuMs: ((utime + stime) * 1000) / clockTicksPerSecond };
  } catch {
    return undefined;
  }
}

/** A process and all its descendants now. */
function withDescendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

function pidFromFile(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0]!.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The stack's service roots: Temporal and Redis from their pid files, Postgres from postmaster.pid. */
function stackRoots(): Record<'temporal' | 'redis' | 'postgres', number | undefined> {
  const pgCandidates = [path.join(dataDir, 'postgres', 'postmaster.pid')];
  if (existsSync('/var/tmp')) {
    for (const entry of readdirSync('/var/tmp')) if (entry.startsWith('checkout-orchestrator-')) pgCandidates.push(path.join('/var/tmp', entry, 'postgres', 'postmaster.pid'));
  }
  return {
    temporal: pidFromFile(path.join(dataDir, 'run', 'temporal.pid')),
    redis: pidFromFile(path.join(dataDir, 'run', 'redis.pid')),
    postgres: pgCandidates.map(pidFromFile).find((pid) => pid !== undefined),
  };
}

export type CpuSnapshot = Record<string, number>;

/**
 * CPU time (ms, user + system) of each component so far: api, worker (every worker process the
 * run started, dead ones as last read), psp, and the stack's temporal, postgres, redis (with their
 * child processes: Postgres backends). A killed worker's CPU is kept from its last reading.
 */
export class CpuMeter {
  private readonly lastSeen = new Map<number, { component: string; cpuMs: number }>();

  constructor(private readonly system: () => System) {}

  snapshot(): CpuSnapshot {
    const system = this.system();
    const roots: [string, number | undefined][] = [
      ['api', system.api.child.pid],
      ['psp', system.psp.child.pid],
      ...system.workers.map((w): [string, number | undefined] => ['worker', alive(w) ? w.child.pid : undefined]),
      ...Object.entries(stackRoots()),
    ];
    for (const [component, root] of roots) {
      if (root === undefined) continue;
      for (const pid of withDescendants(root)) {
        const stat = procStat(pid);
        if (stat) this.lastSeen.set(pid, { component, cpuMs: stat.cpuMs });
      }
    }
    const totals: CpuSnapshot = { api: 0, worker: 0, psp: 0, temporal: 0, postgres: 0, redis: 0 };
    for (const { component, cpuMs } of this.lastSeen.values()) totals[component] = (totals[component] ?? 0) + cpuMs;
    return totals;
  }
}

export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): CpuSnapshot {
  return Object.fromEntries(Object.keys(after).map((k) => [k, Math.round((after[k] ?? 0) - (before[k] ?? 0))]));
}
