/**
 * Configuration from environment variables, with documented local defaults.
 *
 * Unset DATABASE_URL / REDIS_URL / TEMPORAL_ADDRESS mean "use the local default stack", which the
 * stack manager (scripts/stack.ts) starts on the ports below. Every process (API, worker, tests,
 * stack manager) reads its configuration through this one module so that they always agree.
 */
import path from 'node:path';

export const projectRoot = path.resolve(__dirname, '..');

type Env = Record<string, string | undefined>;

function intFromEnv(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0 || value > 65535) {
    throw new Error(`${name} must be a port number (1-65535), got "${raw}"`);
  }
  return value;
}

/**
 * Ports of the local default stack: non-default for Postgres and Redis so a system instance never
 * collides. Each is overridable (LOCAL_*_PORT) to run a second stack beside the first.
 */
export const localPorts = {
  postgres: intFromEnv(process.env, 'LOCAL_POSTGRES_PORT', 54329),
  redis: intFromEnv(process.env, 'LOCAL_REDIS_PORT', 63799),
  temporal: intFromEnv(process.env, 'LOCAL_TEMPORAL_PORT', 7233),
  temporalUi: intFromEnv(process.env, 'TEMPORAL_UI_PORT', 8233),
  psp: intFromEnv(process.env, 'PSP_PORT', 4242),
} as const;

export const localPostgresUser = 'checkout';

export interface AppConfig {
  /** API port. */
  port: number;
  databaseUrl: string;
  redisUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  temporalUiPort: number;
  taskQueue: string;
  jwtSecret: string;
  webhookSecret: string;
  /** Port of the worker's Prometheus /metrics endpoint: the first port it tries (0: the kernel picks). */
  workerMetricsPort: number;
  /** Where the worker's /metrics may listen (WORKER_METRICS_PORT, WORKER_INDEX): see `workerMetricsPortsFromEnv`. */
  workerMetricsPorts: WorkerMetricsPorts;
  /** How often the worker looks for orders accepted without a saga (Temporal was down), and how old they must be. */
  reconcileIntervalMs: number;
  reconcileGraceMs: number;
  /** True when the variable was unset and the local default stack provides the service. */
  local: { postgres: boolean; redis: boolean; temporal: boolean };
}

/** Dev-only secrets; documented in the README. Production deployments must set their own. */
export const devSecrets = {
  jwtSecret: 'dev-jwt-secret-change-me',
  webhookSecret: 'whsec_dev_change_me',
} as const;

/**
 * What is wrong with the secrets of a production process (`NODE_ENV=production`): every variable
 * of `devSecrets` that is unset, empty or still the documented dev value. Empty outside production.
 */
export function productionSecretProblems(env: Env = process.env): string[] {
  if (env.NODE_ENV?.trim() !== 'production') return [];
  const variables: [string, string][] = [
    ['JWT_SECRET', devSecrets.jwtSecret],
    ['WEBHOOK_SECRET', devSecrets.webhookSecret],
  ];
  return variables.flatMap(([name, devValue]) => {
    const value = nonEmpty(env, name);
    if (value === undefined) return [`${name} is unset`];
    if (value === devValue) return [`${name} is the documented dev value`];
    return [];
  });
}

/**
 * The one start-up check of every process (API, worker, PSP simulator, `npm start`): with
 * `NODE_ENV=production`, a missing or dev secret stops the process before it does anything, with
 * one line naming the variables, and exit code 78 (EX_CONFIG). `name` prefixes the line.
 */
export function refuseDevSecretsInProduction(name: string, env: Env = process.env): void {
  const problems = productionSecretProblems(env);
  if (problems.length === 0) return;
  process.stderr.write(`[${name}] refusing to start with NODE_ENV=production: ${problems.join(', ')}; set each to a secret of your own\n`);
  process.exit(78);
}

function nonEmpty(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

/**
 * The worker's metrics ports, so that any number of workers can share a host:
 * - `WORKER_METRICS_PORT=P` (default 9464): worker number `WORKER_INDEX` (default 0; `npm start
 *   --workers N` numbers its workers 0..N-1) listens on P + 2 x index, its SDK exporter on the next
 *   port (loopback) — one worker keeps today's 9464/9465;
 * - `WORKER_METRICS_PORT=A-B`: the first free port of A..B (the SDK exporter on a kernel-chosen
 *   loopback port); the worker logs the port it took;
 * - `WORKER_METRICS_PORT=0`: a port the kernel chooses (logged), for ad-hoc processes.
 */
export interface WorkerMetricsPorts {
  /** The first port tried (0: the kernel chooses). */
  from: number;
  /** The last port tried (= from for a fixed port). */
  to: number;
  /** A fixed port: the SDK exporter takes the next one; otherwise a kernel-chosen one. */
  fixed: boolean;
}

function workerIndexFromEnv(env: Env): number {
  const raw = env.WORKER_INDEX?.trim();
  if (!raw) return 0;
  const index = Number(raw);
  if (!Number.isInteger(index) || index < 0 || index > 1000) throw new Error(`WORKER_INDEX must be an integer from 0 to 1000, got "${raw}"`);
  return index;
}

export function workerMetricsPortsFromEnv(env: Env = process.env): WorkerMetricsPorts {
  const raw = env.WORKER_METRICS_PORT?.trim() ?? '';
  if (raw === '0') return { from: 0, to: 0, fixed: false };
  const range = /^(\d{1,5})-(\d{1,5})$/.exec(raw);
  if (range) {
    const from = Number(range[1]);
    const to = Number(range[2]);
    if (from < 1 || to > 65535 || from > to) throw new Error(`WORKER_METRICS_PORT must be a port, a range A-B of ports (1 <= A <= B <= 65535) or 0, got "${raw}"`);
    return { from, to, fixed: false };
  }
  const port = intFromEnv(env, 'WORKER_METRICS_PORT', 9464) + 2 * workerIndexFromEnv(env);
  if (port >= 65535) throw new Error(`WORKER_METRICS_PORT + 2 x WORKER_INDEX must stay below 65535, got ${port}`);
  return { from: port, to: port, fixed: true };
}

/** The database the local default stack serves: `checkout` for the app, `checkout_test` for tests. */
export function localDatabaseUrl(database: string): string {
  return `postgres://${localPostgresUser}@127.0.0.1:${localPorts.postgres}/${database}`;
}

export function loadConfig(env: Env = process.env): AppConfig {
  const databaseUrl = nonEmpty(env, 'DATABASE_URL');
  const redisUrl = nonEmpty(env, 'REDIS_URL');
  const temporalAddress = nonEmpty(env, 'TEMPORAL_ADDRESS');
  return {
    port: intFromEnv(env, 'PORT', 3000),
    databaseUrl: databaseUrl ?? localDatabaseUrl('checkout'),
    redisUrl: redisUrl ?? `redis://127.0.0.1:${localPorts.redis}/0`,
    temporalAddress: temporalAddress ?? `127.0.0.1:${localPorts.temporal}`,
    temporalNamespace: nonEmpty(env, 'TEMPORAL_NAMESPACE') ?? 'default',
    temporalUiPort: intFromEnv(env, 'TEMPORAL_UI_PORT', localPorts.temporalUi),
    taskQueue: nonEmpty(env, 'TEMPORAL_TASK_QUEUE') ?? 'checkout',
    jwtSecret: nonEmpty(env, 'JWT_SECRET') ?? devSecrets.jwtSecret,
    webhookSecret: nonEmpty(env, 'WEBHOOK_SECRET') ?? devSecrets.webhookSecret,
    workerMetricsPort: workerMetricsPortsFromEnv(env).from,
    workerMetricsPorts: workerMetricsPortsFromEnv(env),
    reconcileIntervalMs: intFromEnv(env, 'RECONCILE_INTERVAL_MS', 5_000),
    reconcileGraceMs: intFromEnv(env, 'RECONCILE_GRACE_MS', 10_000),
    local: { postgres: !databaseUrl, redis: !redisUrl, temporal: !temporalAddress },
  };
}

/**
 * Configuration for the test suite: the same stack, but its own database (`checkout_test`) and
 * Redis logical database 1, so running the tests never touches the data `npm start` shows.
 * TEST_DATABASE_URL / TEST_REDIS_URL override them for an external stack.
 */
export function loadTestConfig(env: Env = process.env): AppConfig {
  const base = loadConfig(env);
  return {
    ...base,
    databaseUrl: nonEmpty(env, 'TEST_DATABASE_URL') ?? (base.local.postgres ? localDatabaseUrl('checkout_test') : base.databaseUrl),
    redisUrl: nonEmpty(env, 'TEST_REDIS_URL') ?? (base.local.redis ? `redis://127.0.0.1:${localPorts.redis}/1` : base.redisUrl),
  };
}
