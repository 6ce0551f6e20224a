/**
 * The services of the local default stack. Each one knows how to start (idempotently), how to tell
 * whether it is up, and how to stop what this stack started — and nothing else.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { Connection } from '@temporalio/client';
import { type SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { type AppConfig, localPorts, localPostgresUser, projectRoot } from '../../lib/config';
import { allSearchAttributeKeys } from '../../workflows/search-attributes';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRoot, log, pidAlive, portOpen, processCommand, readPid, run, StackError, startDaemon, stopDaemon, waitFor } from './proc';
import { postgresBinDir, redisServerBin, temporalCli } from './tools';

export const dataDir = process.env.STACK_DATA_DIR ?? path.join(projectRoot, '.data');
const logDir = path.join(dataDir, 'logs');
const runDir = path.join(dataDir, 'run');

export interface ServiceStatus {
  name: string;
  state: 'running' | 'stopped' | 'external';
  detail: string;
}

function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
}

// ---------------------------------------------------------------- Postgres

let pgHome: string | undefined;

/**
 * Where the cluster lives: `.data/postgres` normally. As root the cluster belongs to the `postgres`
 * user, who may not be able to reach a checkout under a private directory (a CI clone in a
 * mode-700 temporary folder); then a folder under /var/tmp named after the checkout is used.
 */
function postgresHome(): string {
  if (pgHome) return pgHome;
  ensureDir(dataDir);
  const reachable = !isRoot() || spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', dataDir]).status === 0;
  if (reachable) {
    pgHome = dataDir;
  } else {
    const tag = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
    pgHome = path.join('/var/tmp', `checkout-orchestrator-${tag}`);
    log(`the postgres user cannot reach ${dataDir}; keeping the Postgres cluster in ${pgHome} instead`);
    ensureDir(pgHome);
  }
  return pgHome;
}
const pgDataDirOf = (): string => path.join(postgresHome(), 'postgres');
const pgLogFileOf = (): string => path.join(postgresHome(), 'logs', 'postgres.log');

/** Postgres refuses to run as root, so as root the cluster belongs to the `postgres` system user. */
function asPostgresUser(bin: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

function pgCtl(binDir: string, args: string[], what: string): string {
  const [cmd, cmdArgs] = asPostgresUser(path.join(binDir, 'pg_ctl'), args);
  return run(cmd, cmdArgs, { what });
}

function postgresRunning(): boolean {
  const pgDataDir = pgDataDirOf();
  const pid = readPid(path.join(pgDataDir, 'postmaster.pid'));
  return pid !== undefined && pidAlive(pid);
}

function initPostgresCluster(binDir: string): void {
  const pgDataDir = pgDataDirOf();
  log(`initialising a private Postgres cluster in ${pgDataDir}`);
  ensureDir(pgDataDir);
  if (isRoot()) chownSync(pgDataDir, pgUid(), pgGid());
  const [cmd, args] = asPostgresUser(path.join(binDir, 'initdb'), [
    '-D', pgDataDir, '-U', localPostgresUser, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync',
  ]);
  run(cmd, args, { what: 'initdb' });
}

let postgresIds: { uid: number; gid: number } | undefined;
function postgresUserIds(): { uid: number; gid: number } {
  if (!postgresIds) {
    const uid = Number(run('id', ['-u', 'postgres'], { what: 'id -u postgres', fix: 'apt-get install -y postgresql (creates the postgres user)' }).trim());
    const gid = Number(run('id', ['-g', 'postgres'], { what: 'id -g postgres' }).trim());
    postgresIds = { uid, gid };
  }
  return postgresIds;
}
const pgUid = (): number => postgresUserIds().uid;
const pgGid = (): number => postgresUserIds().gid;

/**
 * Settings for a throwaway local cluster: TCP on loopback only (no Unix socket, whose path length
 * depends on where the project is cloned), enough connections for the 64-way benchmarks, and
 * asynchronous commit (a crash may lose the last few hundred milliseconds of dev data, never
 * corrupt it).
 */
const postgresServerOptions = [
  `-p ${localPorts.postgres}`,
  '-c listen_addresses=127.0.0.1',
  "-c unix_socket_directories=''",
  '-c max_connections=300',
  '-c shared_buffers=256MB',
  '-c synchronous_commit=off',
  '-c log_min_messages=warning',
].join(' ');

export async function postgresUp(): Promise<void> {
  const pgDataDir = pgDataDirOf();
  const pgLogFile = pgLogFileOf();
  if (postgresRunning()) {
    log(`Postgres already running on 127.0.0.1:${localPorts.postgres}`);
  } else {
    if (await portOpen(localPorts.postgres)) {
      throw new StackError(
        `port ${localPorts.postgres} is taken by a process this stack did not start.`,
        'stop that process, or set DATABASE_URL to use an existing Postgres',
      );
    }
    const binDir = postgresBinDir();
    if (!binDir) throw new StackError('PostgreSQL binaries not found.', 'apt-get install -y postgresql');
    if (!existsSync(path.join(pgDataDir, 'PG_VERSION'))) initPostgresCluster(binDir);
    ensureDir(path.dirname(pgLogFile));
    if (!existsSync(pgLogFile)) writeFileSync(pgLogFile, '');
    if (isRoot()) chownSync(pgLogFile, pgUid(), pgGid());
    log(`starting Postgres on 127.0.0.1:${localPorts.postgres}`);
    pgCtl(binDir, ['-D', pgDataDir, '-l', pgLogFile, '-w', '-t', '120', '-o', postgresServerOptions, 'start'], 'pg_ctl start');
  }
}

export async function postgresDown(): Promise<void> {
  if (!postgresRunning()) return;
  const binDir = postgresBinDir(false);
  if (!binDir) return;
  log('stopping Postgres');
  pgCtl(binDir, ['-D', pgDataDirOf(), '-w', '-m', 'fast', 'stop'], 'pg_ctl stop');
  await Promise.resolve();
}

/** Creates a database when missing (the local cluster's superuser may). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      log(`creating database ${name}`);
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    }
  } finally {
    await client.end();
  }
}

function postgresStatus(config: AppConfig): ServiceStatus {
  if (!config.local.postgres) return { name: 'postgres', state: 'external', detail: redact(config.databaseUrl) };
  return postgresRunning()
    ? { name: 'postgres', state: 'running', detail: `127.0.0.1:${localPorts.postgres} (data ${pgDataDirOf()})` }
    : { name: 'postgres', state: 'stopped', detail: '' };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

// ---------------------------------------------------------------- Redis

const redisPidFile = path.join(runDir, 'redis.pid');
const redisLogFile = path.join(logDir, 'redis.log');

function ourRedisPid(): number | undefined {
  const pid = readPid(redisPidFile);
  return pid !== undefined && pidAlive(pid) && processCommand(pid).includes('redis-server') ? pid : undefined;
}

async function redisPing(port: number): Promise<boolean> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  redis.on('error', () => undefined); // "not up yet" is the expected answer while waiting
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } finally {
    redis.disconnect();
  }
}

export async function redisUp(): Promise<void> {
  if (ourRedisPid() !== undefined) {
    log(`Redis already running on 127.0.0.1:${localPorts.redis}`);
    return;
  }
  if (await portOpen(localPorts.redis)) {
    throw new StackError(`port ${localPorts.redis} is taken by a process this stack did not start.`, 'stop that process, or set REDIS_URL');
  }
  const bin = redisServerBin();
  if (!bin) throw new StackError('redis-server not found.', 'apt-get install -y redis-server');
  const dir = path.join(dataDir, 'redis');
  ensureDir(dir);
  log(`starting Redis on 127.0.0.1:${localPorts.redis}`);
  const pid = startDaemon({
    cmd: bin,
    args: ['--port', String(localPorts.redis), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--protected-mode', 'no'],
    logFile: redisLogFile,
    pidFile: redisPidFile,
  });
  await waitFor('Redis', () => redisPing(localPorts.redis), { timeoutMs: 30_000, logFile: redisLogFile, alive: () => pidAlive(pid) });
}

export async function redisDown(): Promise<void> {
  if ((await stopDaemon(redisPidFile, 'redis-server')) === 'stopped') log('stopped Redis');
}

function redisStatus(config: AppConfig): ServiceStatus {
  if (!config.local.redis) return { name: 'redis', state: 'external', detail: redact(config.redisUrl) };
  return ourRedisPid() !== undefined
    ? { name: 'redis', state: 'running', detail: `127.0.0.1:${localPorts.redis}` }
    : { name: 'redis', state: 'stopped', detail: '' };
}

// ---------------------------------------------------------------- Temporal

const temporalPidFile = path.join(runDir, 'temporal.pid');
const temporalLogFile = path.join(logDir, 'temporal.log');

function ourTemporalPid(): number | undefined {
  const pid = readPid(temporalPidFile);
  return pid !== undefined && pidAlive(pid) && processCommand(pid).includes('start-dev') ? pid : undefined;
}

async function temporalAnswers(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}

/**
 * Dynamic config of the local dev server for checkout latency (docs/checkout-saga.md, *Speed*).
 * The dev server polls its one history shard's queues at most 20 times a second each, which put
 * ~35 ms between a workflow task being scheduled and a worker getting it; raised here. Eager
 * activity execution hands an activity scheduled by a workflow task completion straight back to
 * the worker that completed it (the charge), skipping a matching round trip. One task-queue
 * partition: with the dev server's default of four, a poll can sit on an empty partition while the
 * task waits on another. A production cluster sets the same keys in its dynamic config file.
 */
export const devServerDynamicConfig: readonly string[] = [
  'frontend.enableUpdateWorkflowExecution=true',
  'frontend.enableExecuteMultiOperation=true',
  'system.forceSearchAttributesCacheRefreshOnRead=true',
  'system.enableActivityEagerExecution=true',
  'history.transferProcessorMaxPollRPS=10000',
  'history.timerProcessorMaxPollRPS=10000',
  'history.visibilityProcessorMaxPollRPS=10000',
  'history.outboundProcessorMaxPollRPS=10000',
  'matching.numTaskqueueReadPartitions=1',
  'matching.numTaskqueueWritePartitions=1',
];

/**
 * Dev-server settings: SQLite in WAL mode without fsync (a throwaway dev database; speed matters
 * more than durability across power loss), Updates and Update-with-Start enabled, search
 * attribute changes visible at once, and the latency settings above.
 */
function startDevArgs(config: AppConfig): string[] {
  const db = path.join(dataDir, 'temporal', 'temporal.db');
  ensureDir(path.dirname(db));
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(localPorts.temporal),
    '--ui-port', String(config.temporalUiPort),
    '--db-filename', db,
    '--sqlite-pragma', 'journal_mode=wal',
    '--sqlite-pragma', 'synchronous=off',
    '--log-level', 'warn',
    ...devServerDynamicConfig.flatMap((setting) => ['--dynamic-config-value', setting]),
  ];
  if (config.temporalNamespace !== 'default') args.push('--namespace', config.temporalNamespace);
  return args;
}

export async function temporalUp(config: AppConfig): Promise<void> {
  if (ourTemporalPid() !== undefined) {
    log(`Temporal dev server already running on ${config.temporalAddress}`);
  } else {
    if (await portOpen(localPorts.temporal)) {
      throw new StackError(`port ${localPorts.temporal} is taken by a process this stack did not start.`, 'stop that process, or set TEMPORAL_ADDRESS');
    }
    const cli = temporalCli();
    if (!cli) throw new StackError('Temporal CLI not found.', 'set TEMPORAL_CLI_PATH');
    log(`starting the Temporal dev server on ${config.temporalAddress} (Web UI on http://localhost:${config.temporalUiPort})`);
    const pid = startDaemon({ cmd: cli, args: startDevArgs(config), logFile: temporalLogFile, pidFile: temporalPidFile });
    await waitFor('Temporal', () => temporalAnswers(config.temporalAddress, config.temporalNamespace), {
      timeoutMs: 120_000,
      logFile: temporalLogFile,
      alive: () => pidAlive(pid),
    });
    await waitFor('Temporal Web UI', () => portOpen(config.temporalUiPort), { timeoutMs: 60_000, logFile: temporalLogFile });
  }
  await registerSearchAttributes(config);
}

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

/** The operator API's enum for each SDK search attribute type. */
function indexedValueType(type: SearchAttributeType): temporal.api.enums.v1.IndexedValueType {
  const byType: Record<SearchAttributeType, temporal.api.enums.v1.IndexedValueType> = {
    TEXT: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
    DOUBLE: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  };
  return byType[type];
}

/** Registers the custom search attributes that are missing (idempotent; works on any Temporal). */
export async function registerSearchAttributes(config: AppConfig): Promise<void> {
  const connection = await Connection.connect({ address: config.temporalAddress, connectTimeout: 5000 });
  try {
    await registerSearchAttributesOn(connection, config.temporalNamespace);
  } finally {
    await connection.close();
  }
}

async function registerSearchAttributesOn(connection: Connection, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = allSearchAttributeKeys.filter((key) => !known.has(key.name));
  if (missing.length === 0) return;
  log(`registering search attributes in namespace ${namespace}: ${missing.map((k) => k.name).join(', ')}`);
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, indexedValueType(k.type)])),
  });
  // Registration is asynchronous on some servers: wait until every attribute is listed.
  for (let attempt = 0; attempt < 50; attempt++) {
    const now = await connection.operatorService.listSearchAttributes({ namespace });
    if (missing.every((k) => Object.keys(now.customAttributes ?? {}).includes(k.name))) return;
    await sleep(200);
  }
  throw new StackError('search attributes did not appear after registration');
}

export async function temporalDown(): Promise<void> {
  if ((await stopDaemon(temporalPidFile, 'start-dev', 15_000)) === 'stopped') log('stopped the Temporal dev server');
}

function temporalStatus(config: AppConfig): ServiceStatus {
  if (!config.local.temporal) return { name: 'temporal', state: 'external', detail: config.temporalAddress };
  return ourTemporalPid() !== undefined
    ? { name: 'temporal', state: 'running', detail: `${config.temporalAddress}, Web UI http://localhost:${config.temporalUiPort}` }
    : { name: 'temporal', state: 'stopped', detail: '' };
}

export function statuses(config: AppConfig): ServiceStatus[] {
  return [postgresStatus(config), redisStatus(config), temporalStatus(config)];
}

export function isRunningLocally(config: AppConfig): { postgres: boolean; redis: boolean; temporal: boolean } {
  return {
    postgres: config.local.postgres && postgresRunning(),
    redis: config.local.redis && ourRedisPid() !== undefined,
    temporal: config.local.temporal && ourTemporalPid() !== undefined,
  };
}
