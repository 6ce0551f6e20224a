/**
 * Voucher benchmark: `npm run bench:vouchers`.
 *
 * Holds per second through the voucher service (every call a new order of a new user on one hot
 * voucher: the Redis script, then the Postgres row) at concurrency 8, 32 and 64, next to the raw
 * ceiling of the same Redis measured in the same run by redis-benchmark running the very same Lua
 * hold script (EVALSHA) with as many connections; the ratio service / raw. Then a sell-out run
 * (more holds than the limit, several per user) counts limit violations, which must be 0. Each
 * figure is the best of BENCH_ROUNDS (default 2) alternating service/raw measurements. Everything is
 * measured once per durability mode of the Postgres sessions (BENCH_DURABILITY, see bench/support.ts):
 * durable commit first (production; the goal is judged there), then asynchronous commit (dev cluster).
 * Results: bench/results/vouchers.json.
 *
 * It uses its own database (`checkout_bench_vouchers`, created, migrated and dropped again; or
 * BENCH_DATABASE_URL, whose rows it deletes), its own Redis logical database (BENCH_REDIS_DB,
 * default 14) whose keys it deletes, bounds every run (BENCH_SECONDS, default 3) and prints progress.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { createPool } from '../db/pool';
import { loadConfig } from '../lib/config';
import { BusinessError } from '../lib/errors';
import { createRedis } from '../lib/redis';
import { limits } from '../services/limits';
import {
  benchDatabaseUrl,
  dropBenchDatabase,
  findTool,
  log as benchLog,
  machineInfo,
  prepareBenchDatabase,
  ratio,
  runLoad,
  benchRounds,
  benchDurabilities,
  durabilityOptions,
  runSeconds,
  type Durability,
  runTool,
  writeResults,
} from './support';
import { createVoucherService } from '../services/vouchers';
import { voucherKeys, voucherScripts } from '../services/vouchers/redis-state';

const log = (line: string): void => benchLog('vouchers', line);

const concurrencies = [8, 32, 64] as const;
const warmupMs = 500;
const sellOut = { limit: 1_000, attempts: 5_000, users: 2_000, concurrency: 64 } as const;
const holdTimeoutMs = limits.holdTimeoutMsDefault;
const prefix = `bench${Date.now().toString(36)}`;

function benchRedisUrl(): string {
  const url = new URL(loadConfig().redisUrl);
  url.pathname = `/${Number(process.env.BENCH_REDIS_DB ?? 14)}`;
  return url.toString();
}

interface Run {
  concurrency: number;
  service: { holdsPerSecond: number; ok: number; refused: number; errors: number; firstError?: string };
  raw: { scriptCallsPerSecond: number };
  ratio: number | null;
}

async function serviceRun(databaseUrl: string, redis: Redis, code: string, run: { concurrency: number; seconds: number; durability: Durability }, label: string) {
  const { concurrency, seconds, durability } = run;
  const pool = createPool(databaseUrl, { max: Math.max(8, limits.voucherHoldBatchesInFlightMax * 2), options: durabilityOptions(durability) });
  const vouchers = createVoucherService({ pool, redis, holdTimeoutMs });
  const isRefusal = (err: unknown): boolean => err instanceof BusinessError;
  const id = (tag: string, w: number, i: number): string => `${prefix}-${label}-${durability}-${concurrency}-${tag}-${w}-${i}`;
  try {
    await runLoad({ concurrency, durationMs: warmupMs, operation: (w, i) => vouchers.hold(code, id('uw', w, i), id('ow', w, i)), isRefusal });
    return await runLoad({
      concurrency,
      durationMs: seconds * 1000,
      operation: (w, i) => vouchers.hold(code, id('u', w, i), id('o', w, i)),
      isRefusal,
    });
  } finally {
    await pool.end();
  }
}

/** The raw ceiling: redis-benchmark calling the hold script on a loaded state of another voucher. */
async function rawRun(redis: Redis, rawCode: string, concurrency: number, seconds: number, perSecondHint: number): Promise<number> {
  const keys = voucherKeys(rawCode);
  await redis.del(...keys);
  await voucherScripts.load.run(redis, keys, [1, 'raw', Date.now(), 0, '', '', -1, 1, 10 * 60 * 1000]);
  await redis.script('LOAD', voucherScripts.hold.source);
  const url = new URL(benchRedisUrl());
  const requests = Math.max(20_000, Math.min(2_000_000, Math.round(perSecondHint * seconds)));
  const args = [
    '-h', url.hostname, '-p', url.port || '6379', '--dbnum', url.pathname.slice(1) || '0',
    '-c', String(concurrency), '-n', String(requests), '-r', '1000000000', '-q',
    'EVALSHA', voucherScripts.hold.sha, '5', ...keys,
    'o:__rand_int__', 'u:__rand_int__', String(Date.now()), String(holdTimeoutMs), String(limits.voucherReclaimPerCallMax),
  ];
  const output = runTool(findTool('redis-benchmark'), args, (seconds * 20 + 60) * 1000);
  const match = /([\d.]+) requests per second/.exec(output.replace(/\r/g, '\n'));
  await redis.del(...keys);
  if (!match?.[1]) throw new Error(`could not read the rate from redis-benchmark:\n${output}`);
  return Math.round(Number(match[1]));
}

interface SellOut {
  limit: number;
  attempts: number;
  users: number;
  held: number;
  refused: number;
  errors: number;
  usersOverLimit: number;
  violations: number;
}

async function sellOutRun(databaseUrl: string, redis: Redis): Promise<SellOut> {
  const pool = createPool(databaseUrl, { max: 16, options: durabilityOptions('durable') });
  const vouchers = createVoucherService({ pool, redis, holdTimeoutMs });
  const code = `${prefix}-sellout`;
  try {
    await vouchers.upsert(code, { scope: 'platform', type: 'percent', rateBps: 1000, totalLimit: sellOut.limit, perUserLimit: 1 });
    const load = await runLoad({
      concurrency: sellOut.concurrency,
      durationMs: 60_000,
      callsMax: sellOut.attempts,
      operation: (w, i) => vouchers.hold(code, `u${(w * 7919 + i) % sellOut.users}`, `${code}-${w}-${i}`),
      isRefusal: (err) => err instanceof BusinessError,
    });
    const { rows } = await pool.query<{ held: string; over: string }>(
      `SELECT (SELECT count(*) FROM voucher_usages WHERE code = $1 AND status IN ('held', 'consumed')) AS held,
              (SELECT count(*) FROM (SELECT user_id FROM voucher_usages WHERE code = $1 AND status IN ('held', 'consumed')
                                      GROUP BY user_id HAVING count(*) > 1) AS x) AS over`,
      [code],
    );
    const held = Number(rows[0]?.held ?? 0);
    const usersOverLimit = Number(rows[0]?.over ?? 0);
    return {
      limit: sellOut.limit,
      attempts: sellOut.attempts,
      users: sellOut.users,
      held,
      refused: load.refused,
      errors: load.errors,
      usersOverLimit,
      violations: Math.max(0, held - sellOut.limit) + usersOverLimit + Math.abs(held - load.ok),
    };
  } finally {
    await pool.end();
  }
}

async function countViolations(pool: Pool, code: string): Promise<number> {
  const { rows } = await pool.query<{ over: string }>(
    `SELECT count(*) AS over FROM (SELECT user_id FROM voucher_usages WHERE code = $1 AND status IN ('held', 'consumed')
                                    GROUP BY user_id HAVING count(*) > 1) AS x`,
    [code],
  );
  return Number(rows[0]?.over ?? 0);
}

/** Service and raw figures at every concurrency, in one durability mode. */
async function measureMode(databaseUrl: string, redis: Redis, hotCode: string, durability: Durability, settings: { seconds: number; rounds: number }): Promise<Run[]> {
  const { seconds, rounds } = settings;
  const rawCode = `${prefix}-raw`;
  const runs: Run[] = [];
  for (const concurrency of concurrencies) {
    // Best of `rounds` alternating pairs (the machine is shared; both sides get the same treatment).
    let service: Awaited<ReturnType<typeof serviceRun>> | undefined;
    let raw = 0;
    for (let round = 1; round <= rounds; round += 1) {
      const measured = await serviceRun(databaseUrl, redis, hotCode, { concurrency, seconds, durability }, `r${round}`);
      if (!service || measured.perSecond > service.perSecond) service = measured;
      raw = Math.max(raw, await rawRun(redis, rawCode, concurrency, seconds, measured.perSecond * 8));
    }
    if (!service) throw new Error('no measurement');
    const run: Run = {
      concurrency,
      service: { holdsPerSecond: service.perSecond, ok: service.ok, refused: service.refused, errors: service.errors, firstError: service.firstError },
      raw: { scriptCallsPerSecond: raw },
      ratio: ratio(service.perSecond, raw),
    };
    runs.push(run);
    log(`${durability.padEnd(7)} holds c=${String(concurrency).padStart(2)}: service ${service.perSecond}/s, raw redis-benchmark ${raw}/s, ratio ${run.ratio} (errors ${service.errors})`);
  }
  return runs;
}

async function main(): Promise<void> {
  const started = Date.now();
  const seconds = runSeconds(3);
  const rounds = benchRounds(2);
  const durabilities = benchDurabilities();
  const databaseUrl = benchDatabaseUrl('vouchers');
  const ownDatabase = !process.env.BENCH_DATABASE_URL;
  const redisUrl = benchRedisUrl();
  log(
    `database ${new URL(databaseUrl).pathname.slice(1)}, Redis db ${new URL(redisUrl).pathname.slice(1)}; ` +
      `best of ${rounds} rounds of ${seconds} s per figure; durability ${durabilities.join(' then ')}`,
  );
  if (ownDatabase) await prepareBenchDatabase(databaseUrl);
  const redis = createRedis(redisUrl, 'bench-vouchers');
  const pool = createPool(databaseUrl, { max: 4 });
  const hotCode = `${prefix}-hot`;
  try {
    const setup = createVoucherService({ pool, redis, holdTimeoutMs });
    await setup.upsert(hotCode, { scope: 'platform', type: 'percent', rateBps: 1000, totalLimit: limits.voucherTotalLimitMax, perUserLimit: 1 });
    const modes: Partial<Record<Durability, { runs: Run[]; goals: { serviceVsRawAtLeast: number; ratios: { concurrency: number; ratio: number | null }[] } }>> = {};
    for (const durability of durabilities) {
      const runs = await measureMode(databaseUrl, redis, hotCode, durability, { seconds, rounds });
      modes[durability] = { runs, goals: { serviceVsRawAtLeast: 0.3, ratios: runs.map((r) => ({ concurrency: r.concurrency, ratio: r.ratio })) } };
    }
    const throughputViolations = await countViolations(pool, hotCode);
    log(`sell-out (durable): ${sellOut.attempts} holds from ${sellOut.users} users for a limit of ${sellOut.limit} (1 per user) at concurrency ${sellOut.concurrency}`);
    const sold = await sellOutRun(databaseUrl, redis);
    log(`sell-out: ${sold.held} held, ${sold.refused} refused, ${sold.errors} errors, users over their limit ${sold.usersOverLimit}`);
    const result = {
      benchmark: 'vouchers',
      at: new Date().toISOString(),
      machine: machineInfo(),
      secondsPerRun: seconds,
      rounds,
      unit:
        'holds per second (service: Redis script + Postgres row, a new order and user per call) or hold-script calls per second ' +
        '(raw redis-benchmark, EVALSHA of the same script); durable = Postgres synchronous_commit on (goal), async = off',
      modes,
      sellOut: sold,
      limitViolations: sold.violations + throughputViolations,
      totalSeconds: Math.round((Date.now() - started) / 1000),
    };
    log(`limit violations: ${result.limitViolations}; wrote ${writeResults('vouchers', result)} in ${result.totalSeconds} s`);
    if (result.limitViolations !== 0) process.exitCode = 1;
  } finally {
    await cleanUp(pool, redis, databaseUrl, ownDatabase);
  }
}

async function cleanUp(pool: Pool, redis: Redis, databaseUrl: string, ownDatabase: boolean): Promise<void> {
  for (const code of [`${prefix}-hot`, `${prefix}-raw`, `${prefix}-sellout`]) await redis.del(...voucherKeys(code));
  await redis.quit();
  if (ownDatabase) {
    await pool.end();
    await dropBenchDatabase(databaseUrl);
    log('dropped the bench database and deleted the bench keys');
    return;
  }
  await pool.query('DELETE FROM voucher_usages WHERE code LIKE $1', [`${prefix}-%`]);
  await pool.query('DELETE FROM voucher_order_releases WHERE order_id LIKE $1', [`${prefix}-%`]);
  await pool.query('DELETE FROM vouchers WHERE code LIKE $1', [`${prefix}-%`]);
  await pool.end();
  log('deleted the bench rows and keys');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
