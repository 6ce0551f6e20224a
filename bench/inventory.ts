/**
 * Inventory benchmark: `npm run bench:inventory`.
 *
 * Reservations per second through the inventory service (one unit per call, a new order each time)
 * on one hot SKU stored as a single row, on one hot SKU split into buckets, and on 10,000 random
 * SKUs, at concurrency 8, 32 and 64. Next to each figure, measured in the same run on the same
 * server with as many connections:
 *   - raw: pgbench running a one-statement conditional UPDATE on the same rows (the ceiling);
 *   - function: pgbench calling the reservation function itself (inventory_reserve, one call per
 *     transaction), i.e. the service minus Node: what the service's own client costs, and how much
 *     a layout can gain at all for a reservation that must also record its order line.
 * Each service and raw figure is the best of BENCH_ROUNDS (default 2) alternating measurements of
 * BENCH_SECONDS (default 3) each. Everything is measured once per durability mode (BENCH_DURABILITY,
 * see bench/support.ts): durable commit first (production; the goals are judged there), then the dev
 * cluster's asynchronous commit. Then a sell-out run per layout (more attempts than units, durable)
 * counts oversold units, which must be 0. Results: bench/results/inventory.json.
 *
 * It uses its own database (`checkout_bench_inventory`, created, migrated and dropped again; or
 * BENCH_DATABASE_URL, whose rows it deletes), bounds every run (about two and a half
 * minutes per durability mode) and prints progress.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { createPool, toSafeInt } from '../db/pool';
import { BusinessError } from '../lib/errors';
import { limits } from '../services/limits';
import { createInventoryService } from '../services/inventory';
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
  type LoadResult,
} from './support';

const log = (line: string): void => benchLog('inventory', line);

const concurrencies = [8, 32, 64] as const;
const randomSkuCount = 10_000;
const hotBucketCount = Number(process.env.BENCH_BUCKETS ?? 64);
const reserveInFlightMax = Number(process.env.BENCH_RESERVE_IN_FLIGHT ?? limits.reserveBatchesInFlightMax);
const sellOut = { units: 2_000, attempts: 3_000, concurrency: 64 } as const;
const warmupMs = 500;
/** Far more stock than any timed run can reserve, so throughput runs never sell out. */
const plentifulUnits = 100_000_000_000;

const prefix = `bench-${Date.now().toString(36)}`;
const sellerId = `${prefix}-seller`;
const hotSku = `${prefix}-hot`;
const bucketedSku = `${prefix}-hotb`;
const randomSku = (n: number): string => `${prefix}-r${n}`;

type Scenario = 'hotSingleRow' | 'hotBucketed' | 'random10k';

interface ScenarioRun {
  concurrency: number;
  service: { reservationsPerSecond: number; ok: number; refused: number; errors: number; firstError?: string };
  raw: { updatesPerSecond: number };
  ratio: number | null;
  /** pgbench calling inventory_reserve (one reservation per transaction): the service without Node. */
  function: { reservationsPerSecond: number };
  serviceVsFunction: number | null;
}

async function setUp(pool: Pool): Promise<void> {
  log(`creating seller, 2 hot SKUs and ${randomSkuCount} random SKUs (prefix ${prefix})`);
  await pool.query('INSERT INTO sellers (seller_id, name, shipping_fee_minor) VALUES ($1, $2, 0)', [sellerId, 'Bench seller']);
  await pool.query(
    `INSERT INTO products (sku, seller_id, name, category, unit_price_minor, currency)
     SELECT s, $2, 'Bench product', 'bench', 1000, 'USD'
       FROM unnest($1::text[]) AS s`,
    [[hotSku, bucketedSku, ...Array.from({ length: randomSkuCount }, (_, i) => randomSku(i + 1))], sellerId],
  );
  await pool.query('SELECT inventory_set_stock(sku, $2) FROM products WHERE seller_id = $1', [sellerId, plentifulUnits]);
  await pool.query('SELECT inventory_set_bucket_count($1, $2)', [bucketedSku, hotBucketCount]);
  await pool.query('VACUUM ANALYZE inventory_buckets');
}

function pgbenchScript(scenario: Scenario): string {
  switch (scenario) {
    case 'hotSingleRow':
      return `UPDATE inventory_buckets SET reserved = reserved + 1 WHERE sku = '${hotSku}' AND bucket_no = 0 AND on_hand - reserved >= 1;\n`;
    case 'hotBucketed':
      return (
        `\\set b random(0, ${hotBucketCount - 1})\n` +
        `UPDATE inventory_buckets SET reserved = reserved + 1 WHERE sku = '${bucketedSku}' AND bucket_no = :b AND on_hand - reserved >= 1;\n`
      );
    case 'random10k':
      return (
        `\\set n random(1, ${randomSkuCount})\n` +
        `UPDATE inventory_buckets SET reserved = reserved + 1 WHERE sku = '${prefix}-r' || :n AND bucket_no = 0 AND on_hand - reserved >= 1;\n`
      );
  }
}

/** pgbench calling the reservation function: a new order per call (a random 63-bit id per client). */
function functionScript(scenario: Scenario): string {
  const order = `'${prefix}-pgb-' || :client_id || '-' || :o`;
  const head = '\\set o random(1, 9000000000000000000)\n';
  switch (scenario) {
    case 'hotSingleRow':
      return `${head}SELECT status FROM inventory_reserve(${order}, ARRAY['${hotSku}'], ARRAY[1]::bigint[]);\n`;
    case 'hotBucketed':
      return `${head}SELECT status FROM inventory_reserve(${order}, ARRAY['${bucketedSku}'], ARRAY[1]::bigint[]);\n`;
    case 'random10k':
      return `${head}\\set n random(1, ${randomSkuCount})\nSELECT status FROM inventory_reserve(${order}, ARRAY['${prefix}-r' || :n], ARRAY[1]::bigint[]);\n`;
  }
}

/** pgbench with prepared statements, `concurrency` connections, `seconds` long: transactions per second. */
function pgbenchPerSecond(databaseUrl: string, name: string, script: string, run: { concurrency: number; seconds: number; durability: Durability; dir: string }): number {
  const { concurrency, seconds, durability, dir } = run;
  const scriptFile = path.join(dir, `${name}.sql`);
  writeFileSync(scriptFile, script);
  const url = new URL(databaseUrl);
  const args = [
    '-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username),
    '-n', '-M', 'prepared', '-c', String(concurrency), '-j', String(Math.min(concurrency, os.cpus().length)),
    '-T', String(seconds), '-f', scriptFile, decodeURIComponent(url.pathname.slice(1)),
  ];
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(url.password), PGOPTIONS: durabilityOptions(durability) };
  const output = runTool(findTool('pgbench'), args, (seconds + 60) * 1000, env);
  const match = /tps = ([\d.]+) \(without initial connection time\)/.exec(output);
  if (!match?.[1]) throw new Error(`could not read tps from pgbench:\n${output}`);
  return Math.round(Number(match[1]));
}

function skuFor(scenario: Scenario): () => string {
  if (scenario === 'hotSingleRow') return () => hotSku;
  if (scenario === 'hotBucketed') return () => bucketedSku;
  return () => randomSku(1 + Math.floor(Math.random() * randomSkuCount));
}

const isRefusal = (err: unknown): boolean => err instanceof BusinessError;

async function serviceRun(
  databaseUrl: string,
  scenario: Scenario,
  run: { concurrency: number; seconds: number; durability: Durability },
  label = 'run',
): Promise<LoadResult> {
  const { concurrency, seconds, durability } = run;
  const pool = createPool(databaseUrl, { max: concurrency, options: durabilityOptions(durability) });
  const inventory = createInventoryService({ pool, reserveInFlightMax });
  const pickSku = skuFor(scenario);
  const orderId = (tag: string, worker: number, i: number): string => `${prefix}-${label}-${durability}-${scenario}-${concurrency}-${tag}-${worker}-${i}`;
  try {
    await runLoad({
      concurrency,
      durationMs: warmupMs,
      operation: (w, i) => inventory.reserve(orderId('w', w, i), [{ sku: pickSku(), quantity: 1 }]),
      isRefusal,
    });
    return await runLoad({
      concurrency,
      durationMs: seconds * 1000,
      operation: (w, i) => inventory.reserve(orderId('m', w, i), [{ sku: pickSku(), quantity: 1 }]),
      isRefusal,
    });
  } finally {
    await pool.end();
  }
}

interface SellOutResult {
  layout: string;
  bucketCount: number;
  units: number;
  attempts: number;
  succeeded: number;
  refused: number;
  errors: number;
  oversold: number;
  consistent: boolean;
  stock: { onHand: number; reserved: number; sold: number };
}

/** More concurrent attempts than units: exactly `units` may succeed; the rest are refusals. */
async function sellOutRun(databaseUrl: string, bucketCount: number): Promise<SellOutResult> {
  const pool = createPool(databaseUrl, { max: sellOut.concurrency, options: durabilityOptions('durable') });
  const inventory = createInventoryService({ pool });
  const sku = `${prefix}-sellout-${bucketCount}`;
  try {
    await pool.query(
      `INSERT INTO products (sku, seller_id, name, category, unit_price_minor, currency) VALUES ($1, $2, 'Sell-out', 'bench', 1000, 'USD')`,
      [sku, sellerId],
    );
    await pool.query('SELECT inventory_set_stock($1, $2)', [sku, sellOut.units]);
    if (bucketCount > 1) await inventory.setBucketCount(sku, bucketCount);
    const load = await runLoad({
      concurrency: sellOut.concurrency,
      durationMs: 60_000,
      callsMax: sellOut.attempts,
      operation: (w, i) => inventory.reserve(`${sku}-${w}-${i}`, [{ sku, quantity: 1 }]),
      isRefusal,
    });
    const { rows } = await pool.query<{ on_hand: string; reserved: string; sold: string; lines: string; claimed: string }>(
      `SELECT (SELECT sum(on_hand) FROM inventory_buckets WHERE sku = $1) AS on_hand,
              (SELECT sum(reserved) FROM inventory_buckets WHERE sku = $1) AS reserved,
              (SELECT sum(sold) FROM inventory_buckets WHERE sku = $1) AS sold,
              (SELECT count(*) FROM inventory_reservations WHERE sku = $1 AND status = 'reserved') AS lines,
              (SELECT coalesce(sum(quantity), 0) FROM inventory_reservations WHERE sku = $1 AND status = 'reserved') AS claimed`,
      [sku],
    );
    const row = rows[0];
    const stock = { onHand: toSafeInt(row?.on_hand ?? 0), reserved: toSafeInt(row?.reserved ?? 0), sold: toSafeInt(row?.sold ?? 0) };
    const claimed = toSafeInt(row?.claimed ?? 0);
    return {
      layout: bucketCount > 1 ? 'bucketed' : 'singleRow',
      bucketCount,
      units: sellOut.units,
      attempts: load.ok + load.refused + load.errors,
      succeeded: load.ok,
      refused: load.refused,
      errors: load.errors,
      oversold: Math.max(0, load.ok - sellOut.units) + Math.max(0, stock.reserved - stock.onHand),
      consistent: claimed === stock.reserved && claimed === load.ok && stock.onHand === sellOut.units,
      stock,
    };
  } finally {
    await pool.end();
  }
}

type ScenarioRuns = Record<Scenario, ScenarioRun[]>;

/** One figure of each kind for every scenario and concurrency, in one durability mode. */
async function measureMode(databaseUrl: string, durability: Durability, settings: { seconds: number; rounds: number; dir: string }): Promise<ScenarioRuns> {
  const { seconds, rounds, dir } = settings;
  const scenarios: ScenarioRuns = { hotSingleRow: [], hotBucketed: [], random10k: [] };
  const only = process.env.BENCH_SCENARIOS?.split(',');
  for (const scenario of (Object.keys(scenarios) as Scenario[]).filter((s) => !only || only.includes(s))) {
    for (const concurrency of concurrencies) {
      const pgbenchRun = { concurrency, seconds, durability, dir };
      // Best of `rounds` alternating pairs: the machine is shared, so a load spike during one
      // measurement should not decide the figure (both sides get the same treatment).
      let service: LoadResult | undefined;
      let raw = 0;
      for (let round = 1; round <= rounds; round += 1) {
        const measured = await serviceRun(databaseUrl, scenario, { concurrency, seconds, durability }, `r${round}`);
        if (!service || measured.perSecond > service.perSecond) service = measured;
        raw = Math.max(raw, pgbenchPerSecond(databaseUrl, `${scenario}-update`, pgbenchScript(scenario), pgbenchRun));
      }
      if (!service) throw new Error('no measurement');
      const fn = pgbenchPerSecond(databaseUrl, `${scenario}-function`, functionScript(scenario), pgbenchRun);
      const run: ScenarioRun = {
        concurrency,
        service: { reservationsPerSecond: service.perSecond, ok: service.ok, refused: service.refused, errors: service.errors, firstError: service.firstError },
        raw: { updatesPerSecond: raw },
        ratio: ratio(service.perSecond, raw),
        function: { reservationsPerSecond: fn },
        serviceVsFunction: ratio(service.perSecond, fn),
      };
      scenarios[scenario].push(run);
      log(
        `${durability.padEnd(7)} ${scenario.padEnd(12)} c=${String(concurrency).padStart(2)}: service ${service.perSecond}/s, ` +
          `raw update ${raw}/s (ratio ${run.ratio}), function ${fn}/s (service/function ${run.serviceVsFunction}), errors ${service.errors}`,
      );
    }
  }
  return scenarios;
}

/** scenario A / scenario B per concurrency, for one kind of figure. */
function factors(scenarios: ScenarioRuns, a: Scenario, b: Scenario, figure: (run: ScenarioRun) => number) {
  return concurrencies.map((concurrency, i) => {
    const x = scenarios[a][i];
    const y = scenarios[b][i];
    return { concurrency, factor: x && y ? ratio(figure(x), figure(y)) : null };
  });
}

/** The goals of the issue and the context to read them, for one durability mode. */
function summarize(scenarios: ScenarioRuns) {
  const bucketedVsSingleRow = factors(scenarios, 'hotBucketed', 'hotSingleRow', (r) => r.service.reservationsPerSecond);
  return {
    hotSingleRowServiceVsRawAtLeast: 0.5,
    hotSingleRowRatios: scenarios.hotSingleRow.map((r) => ({ concurrency: r.concurrency, ratio: r.ratio })),
    bucketedVsSingleRowServiceAtLeast: 2,
    bucketedVsSingleRow,
    // What the layout gains with no service code at all: for the bare UPDATE, and for the
    // reservation function (which also records the order's line) driven by pgbench.
    rawBucketedVsSingleRow: factors(scenarios, 'hotBucketed', 'hotSingleRow', (r) => r.raw.updatesPerSecond),
    functionBucketedVsSingleRow: factors(scenarios, 'hotBucketed', 'hotSingleRow', (r) => r.function.reservationsPerSecond),
  };
}

const formatFactors = (list: { concurrency: number; factor: number | null }[]): string =>
  list.map((b) => `c=${b.concurrency} x${b.factor}`).join(', ');

async function main(): Promise<void> {
  const started = Date.now();
  const seconds = runSeconds(3);
  const rounds = benchRounds(2);
  const durabilities = benchDurabilities();
  const databaseUrl = benchDatabaseUrl('inventory');
  const ownDatabase = !process.env.BENCH_DATABASE_URL;
  log(
    `database ${new URL(databaseUrl).pathname.slice(1)}; best of ${rounds} rounds of ${seconds} s per figure; ` +
      `durability ${durabilities.join(' then ')}; hot SKU buckets: ${hotBucketCount}; reserve round trips in flight: ${reserveInFlightMax}`,
  );
  if (ownDatabase) await prepareBenchDatabase(databaseUrl);
  const setupPool = createPool(databaseUrl, { max: 4 });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-inventory-'));
  try {
    await setUp(setupPool);
    log('warming up (not measured)');
    await serviceRun(databaseUrl, 'random10k', { concurrency: 8, seconds: 2, durability: 'async' }, 'warmup');
    const modes: Partial<Record<Durability, { scenarios: ScenarioRuns; goals: ReturnType<typeof summarize> }>> = {};
    for (const durability of durabilities) {
      const scenarios = await measureMode(databaseUrl, durability, { seconds, rounds, dir });
      const goals = summarize(scenarios);
      modes[durability] = { scenarios, goals };
      log(`${durability}: bucketed vs single row, service: ${formatFactors(goals.bucketedVsSingleRow)}`);
      log(`${durability}: bucketed vs single row, raw update: ${formatFactors(goals.rawBucketedVsSingleRow)}`);
      log(`${durability}: bucketed vs single row, function: ${formatFactors(goals.functionBucketedVsSingleRow)}`);
    }
    log(`sell-out (durable): ${sellOut.attempts} attempts for ${sellOut.units} units at concurrency ${sellOut.concurrency}`);
    const sellOuts = [await sellOutRun(databaseUrl, 1), await sellOutRun(databaseUrl, hotBucketCount)];
    for (const s of sellOuts) {
      log(`sell-out ${s.layout}: ${s.succeeded} succeeded, ${s.refused} refused, oversold ${s.oversold}, consistent ${s.consistent}`);
    }
    const result = {
      benchmark: 'inventory',
      at: new Date().toISOString(),
      machine: machineInfo(),
      secondsPerRun: seconds,
      rounds,
      hotBucketCount,
      reserveInFlightMax,
      unit:
        'reservations (service, function) or conditional updates (raw pgbench) per second; 1 unit per call, a new order per call, ' +
        'one transaction per call; durable = synchronous_commit on (goals), async = off',
      modes,
      sellOut: sellOuts,
      oversold: sellOuts.reduce((sum, s) => sum + s.oversold, 0),
      totalSeconds: Math.round((Date.now() - started) / 1000),
    };
    log(`oversold units: ${result.oversold}; wrote ${writeResults('inventory', result)} in ${result.totalSeconds} s`);
    if (result.oversold !== 0 || sellOuts.some((s) => !s.consistent)) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await cleanUp(setupPool, databaseUrl, ownDatabase);
  }
}

async function cleanUp(pool: Pool, databaseUrl: string, ownDatabase: boolean): Promise<void> {
  if (ownDatabase) {
    await pool.end();
    await dropBenchDatabase(databaseUrl);
    log('dropped the bench database');
    return;
  }
  await pool.query(`DELETE FROM inventory_reservations WHERE order_id LIKE $1`, [`${prefix}-%`]);
  await pool.query(`DELETE FROM inventory_buckets WHERE sku LIKE $1`, [`${prefix}-%`]);
  await pool.query(`DELETE FROM inventory_items WHERE sku LIKE $1`, [`${prefix}-%`]);
  await pool.query(`DELETE FROM products WHERE sku LIKE $1`, [`${prefix}-%`]);
  await pool.query(`DELETE FROM sellers WHERE seller_id = $1`, [sellerId]);
  await pool.end();
  log('deleted the bench rows');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
