/**
 * Checkout benchmark: `npm run bench:checkout` (docs/checkout-saga.md, Benchmark).
 *
 * One run against the local stack as `npm start` runs it (the dev Temporal server, the dev
 * database `checkout` with the seed, the PSP simulator): the bench spawns its own product worker
 * and API (node + tsx's require hook, like scripts/start.ts; the API on the PSP's webhook port when
 * free, so payment webhooks reach it as they do under `npm start`; both on the bench's own task
 * queue so no other worker takes its checkouts) and a bench-only floor worker, then measures:
 *
 *   a. success checkouts one at a time (BENCH_CHECKOUT_N, default 60): the seed cart (3 sellers,
 *      3 vouchers, grand total 7722) filled over HTTP first (not timed), then POST /v1/checkouts
 *      with tok_visa, timed until the 201; 201 + COMPLETED + 7722 asserted;
 *   b. declined checkouts one at a time (BENCH_CHECKOUT_DECLINED_N, default N): tok_chargeDeclined,
 *      FAILED with PAYMENT_DECLINED asserted;
 *   c. throughput: BENCH_CHECKOUT_CONCURRENCY (16) closed-loop clients for BENCH_CHECKOUT_SECONDS
 *      (20): completed checkouts/s and their latency;
 *   d. POST /v1/cart/items one at a time (BENCH_CHECKOUT_CART_ADDS, 200);
 *   e. Temporal floors on the same server: an empty workflow and a no-op workflow of the checkout's
 *      shape (bench/checkout/shape.ts), one at a time (BENCH_CHECKOUT_FLOOR_N, 50, and
 *      BENCH_CHECKOUT_SHAPE_N, 15) and 16 at once (BENCH_CHECKOUT_FLOOR_SECONDS, 6 each);
 *   f. the cost of tracing (bench/checkout/tracing-cost.ts): the worker and API restarted with
 *      tracing off and on, alternately, BENCH_CHECKOUT_TRACING_ROUNDS (2; 0 skips) rounds of
 *      BENCH_CHECKOUT_TRACING_N (20) checkouts one at a time and BENCH_CHECKOUT_TRACING_SECONDS (15)
 *      of throughput each; a-e run with tracing off unless OTEL_SDK_DISABLED says otherwise;
 *
 * and reads the Temporal work per checkout back from the histories of a sample of (a)
 * (BENCH_CHECKOUT_HISTORY_SAMPLES, 5). Results: bench/results/checkout.json and a table. Exit 0
 * whether the goals are met or not; 1 when a checkout's outcome was wrong or the run failed.
 * Fixtures: the seed when the database is empty, stock topped up, the bench's own copies of the
 * seed vouchers without usage limits (BENCH_X2OFF...), a fresh buyer per checkout.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, projectRoot } from '../lib/config';
import { createPool } from '../db/pool';
import { createRedis } from '../lib/redis';
import { demoProducts, demoVouchers, seedIfEmpty } from '../scripts/seed';
import { machineInfo, writeResults } from './support';
import { terminateRunning } from './checkout/cleanup';
import { runFloors, type FloorResults } from './checkout/floors';
import { checkoutWork, type CheckoutWork, type TimelineLine } from './checkout/history';
import { ApiClient, benchVoucherCode, expectStatus, expectedGrandTotal, seedSkus } from './checkout/http';
import { cartAdds, sequentialCheckouts, throughput, timedCheckout, newBuyer, type CheckoutResult, type JourneyContext } from './checkout/journeys';
import { freePortPair, killAllNow, pids, portFree, freePort, spawnTs, stopAll, waitForHttp, waitForLog } from './checkout/processes';
import { shapeFromEnv, shapeTotals } from './checkout/shape';
import { measureTracingCost, stopProcess, type TracingCost } from './checkout/tracing-cost';
import { type Cell, latencyStats, median, perSecond, table, type LatencyStats } from './checkout/stats';
import { checkoutWorkflowId } from '../lib/vocabulary';

const log = (line: string): void => console.log(`[bench:checkout] ${line}`);

/** The 1-minute load average when each phase started (these machines are shared). */
const phaseLoad: Record<string, number> = {};
function phase(name: string): void {
  phaseLoad[name] = Math.round(os.loadavg()[0]! * 100) / 100;
  log(`${name} (load average ${phaseLoad[name]} on ${os.availableParallelism()} CPUs)`);
}

function intEnv(name: string, fallback: number, min = 1, max = 100_000): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

function gitFacts(): { commit: string | null; dirty: boolean | null } {
  const git = (args: string[]): string | null => {
    try {
      // GIT_OPTIONAL_LOCKS=0: read only, never refresh the index under the feet of others.
      return execFileSync('git', args, { cwd: projectRoot, encoding: 'utf8', env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' }, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return { commit: git(['rev-parse', 'HEAD']), dirty: status === null ? null : status.length > 0 };
}

interface Goal {
  name: string;
  target: string;
  measured: number | null;
  met: boolean;
}

const goal = (name: string, target: string, measured: number | null, ok: (v: number) => boolean): Goal => ({ name, target, measured, met: measured !== null && ok(measured) });
const ratio = (a: number | null, b: number | null): number | null => (a !== null && b !== null && b > 0 ? Math.round((a / b) * 1000) / 1000 : null);

async function main(): Promise<number> {
  const config = loadConfig();
  const settings = {
    successN: intEnv('BENCH_CHECKOUT_N', 60),
    declinedN: intEnv('BENCH_CHECKOUT_DECLINED_N', intEnv('BENCH_CHECKOUT_N', 60)),
    concurrency: intEnv('BENCH_CHECKOUT_CONCURRENCY', 16, 1, 256),
    throughputSeconds: intEnv('BENCH_CHECKOUT_SECONDS', 20, 1, 600),
    cartAdds: intEnv('BENCH_CHECKOUT_CART_ADDS', 200),
    floorN: intEnv('BENCH_CHECKOUT_FLOOR_N', 50),
    shapeN: intEnv('BENCH_CHECKOUT_SHAPE_N', 15),
    floorSeconds: intEnv('BENCH_CHECKOUT_FLOOR_SECONDS', 6, 1, 600),
    historySamples: intEnv('BENCH_CHECKOUT_HISTORY_SAMPLES', 5, 1, 100),
    tracingRounds: intEnv('BENCH_CHECKOUT_TRACING_ROUNDS', 2, 0, 20),
    tracingN: intEnv('BENCH_CHECKOUT_TRACING_N', 20),
    tracingSeconds: intEnv('BENCH_CHECKOUT_TRACING_SECONDS', 15, 1, 600),
    warmupCheckouts: 3,
    taskQueue: process.env.BENCH_CHECKOUT_TASK_QUEUE ?? 'bench-checkout',
    floorTaskQueue: `${process.env.BENCH_CHECKOUT_TASK_QUEUE ?? 'bench-checkout'}-floor`,
    keepWorkflows: process.env.BENCH_CHECKOUT_KEEP_WORKFLOWS === '1',
  };
  const shape = shapeFromEnv(process.env.BENCH_CHECKOUT_SHAPE);
  const runId = Date.now().toString(36);
  const loadAverageStart = os.loadavg();
  const startedAt = Date.now();

  // ------------------------------------------------------------------ the stack, the seed
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporalAddress, connectTimeout: 5000 });
  } catch (err) {
    throw new Error(`Temporal at ${config.temporalAddress} is not reachable (${(err as Error).message}); start the stack: npm run stack -- up`);
  }
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const pool = createPool(config.databaseUrl, { max: 4 });
  const redis = createRedis(config.redisUrl, 'bench-checkout');
  try {
    if (await seedIfEmpty({ pool, redis })) log('the database was empty: loaded the demo scenario (like npm start)');
  } finally {
    redis.disconnect();
  }
  // Checkouts an interrupted run left in flight are finished by this run's worker (same task
  // queue) and their children terminated at the end; floor children are only waiting.
  if (!settings.keepWorkflows) {
    const n = await terminateRunning(client, settings.floorTaskQueue, 'bench:checkout: left over by an interrupted run');
    if (n > 0) log(`terminated ${n} floor workflow(s) an earlier run left running`);
  }

  // ------------------------------------------------------------------ processes
  const webhookPort = config.port;
  const apiPort = (await portFree(webhookPort)) ? webhookPort : await freePort();
  const webhooksReachApi = apiPort === webhookPort;
  if (!webhooksReachApi) log(`port ${webhookPort} is taken: the API runs on ${apiPort}, and the PSP's webhooks (to ${webhookPort}) do not reach it (no payment signal in the histories)`);
  const metricsPort = await freePortPair();
  // a-e measure the saga itself: tracing off unless OTEL_SDK_DISABLED is set (f measures its cost).
  const mainTracing = process.env.OTEL_SDK_DISABLED ?? 'true';
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(apiPort), TEMPORAL_TASK_QUEUE: settings.taskQueue, WORKER_METRICS_PORT: String(metricsPort), OTEL_SDK_DISABLED: mainTracing };
  log(`starting worker, API (port ${apiPort}) and floor worker; task queues ${settings.taskQueue}, ${settings.floorTaskQueue}; logs in .data/logs/bench-checkout-*.log`);
  const worker = spawnTs('worker', 'workers/main.ts', env, 'bench-checkout-worker.log');
  const api = spawnTs('api', 'api/main.ts', env, 'bench-checkout-api.log');
  const floorWorker = spawnTs('floor worker', 'bench/checkout/floor-worker.ts', { ...process.env, BENCH_FLOOR_TASK_QUEUE: settings.floorTaskQueue }, 'bench-checkout-floor-worker.log');
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  await Promise.all([
    waitForLog(worker, /worker polling task queue/, 120_000),
    waitForHttp(api, `${baseUrl}/readyz`, 120_000),
    waitForLog(floorWorker, /floor worker polling/, 120_000),
  ]);
  log(`ready in ${Math.round((Date.now() - startedAt) / 1000)} s: worker pid ${worker.child.pid}, API pid ${api.child.pid}, floor worker pid ${floorWorker.child.pid}`);

  // ------------------------------------------------------------------ fixtures
  const httpApi = new ApiClient(baseUrl, config.jwtSecret);
  const admin = httpApi.token('bench-admin', 'admin');
  for (const [code, definition] of Object.entries(demoVouchers)) {
    // The seed's definitions (no total or per-user limit), under the bench's own code.
    expectStatus(await httpApi.call('PUT', `/v1/admin/vouchers/${benchVoucherCode(code)}`, admin, { ...definition, totalLimit: null, perUserLimit: null }), 200, `PUT voucher ${benchVoucherCode(code)}`);
  }
  const stockFloor = 100_000;
  for (const sku of seedSkus) {
    const current = await httpApi.call('GET', `/v1/admin/products/${sku}`, admin);
    const product = current.body as { sellerId: string; name: string; category: string; unitPrice: number; currency: string; stock: { reserved: number; available: number } };
    if (current.status === 404) {
      expectStatus(await httpApi.call('PUT', `/v1/admin/products/${sku}`, admin, { ...demoProducts[sku], stock: 2 * stockFloor }), 200, `PUT product ${sku}`);
    } else {
      expectStatus(current, 200, `GET product ${sku}`);
      if (product.stock.available < stockFloor) {
        const { sellerId, name, category, unitPrice, currency } = product;
        const body = { sellerId, name, category, unitPrice, currency, stock: product.stock.reserved + 2 * stockFloor };
        expectStatus(await httpApi.call('PUT', `/v1/admin/products/${sku}`, admin, body), 200, `PUT product ${sku}`);
        log(`stock of ${sku} topped up to ${2 * stockFloor} available`);
      }
    }
  }

  const ctx: JourneyContext = { api: httpApi, pool, runId, errors: [], log };
  for (let i = 0; i < settings.warmupCheckouts; i += 1) {
    const buyer = newBuyer(ctx, 'warmup');
    await httpApi.fillSeedCart(buyer);
    await timedCheckout(ctx, buyer, 'tok_visa', { status: 'COMPLETED' }, `${runId}-warmup-${i}`);
  }
  log(`fixtures ready, ${settings.warmupCheckouts} warm-up checkouts done`);

  // ------------------------------------------------------------------ measurements
  phase(`cart add: ${settings.cartAdds} calls`);
  const cartLatencies = await cartAdds(ctx, settings.cartAdds);
  log(`cart add: ${cartLatencies.length} calls`);
  phase(`success: ${settings.successN} checkouts one at a time`);
  const success = await sequentialCheckouts(ctx, { count: settings.successN, token: 'tok_visa', expected: { status: 'COMPLETED' }, tag: 'success', clearAfter: false });
  const successStats = latencyStats(success.filter((r) => r.ok).map((r) => r.latencyMs));
  log(`success: ${successStats.count} checkouts, p50 ${successStats.p50} ms`);
  phase(`declined: ${settings.declinedN} checkouts one at a time`);
  const declined = await sequentialCheckouts(ctx, { count: settings.declinedN, token: 'tok_chargeDeclined', expected: { status: 'FAILED', code: 'PAYMENT_DECLINED' }, tag: 'declined', clearAfter: true });
  const declinedStats = latencyStats(declined.filter((r) => r.ok).map((r) => r.latencyMs));
  log(`declined: ${declinedStats.count} checkouts, p50 ${declinedStats.p50} ms`);
  phase(`throughput: ${settings.concurrency} clients for ${settings.throughputSeconds} s`);
  const tput = await throughput(ctx, { concurrency: settings.concurrency, durationMs: settings.throughputSeconds * 1000, latencyEstimateMs: successStats.p50 ?? 1000 });
  const tputRate = perSecond(tput.completed, tput.elapsedMs);
  log(`throughput: ${tput.completed} completed (${tput.answered201} answered 201, ${tput.answered202} 202) in ${Math.round(tput.elapsedMs)} ms = ${tputRate}/s`);

  const sampled = sampleOf(success.filter((r) => r.ok), settings.historySamples);
  const works: { result: CheckoutResult; work: CheckoutWork }[] = [];
  for (const result of sampled) works.push({ result, work: await checkoutWork(client, checkoutWorkflowId(result.orderId)) });
  log(`histories: ${works.length} checkouts read back`);

  phase('floors: empty and checkout-shaped workflows on the floor worker');
  const floors = await runFloors(
    { client, taskQueue: settings.floorTaskQueue, runId, emptyCount: settings.floorN, shapeCount: settings.shapeN, concurrency: settings.concurrency, durationMs: settings.floorSeconds * 1000, log },
    shape,
  );

  let tracingCost: TracingCost | null = null;
  if (settings.tracingRounds > 0) {
    phase(`tracing cost: ${settings.tracingRounds} round(s) of tracing off and on`);
    await Promise.all([stopProcess(worker), stopProcess(api)]);
    tracingCost = await measureTracingCost({
      ctx,
      rounds: settings.tracingRounds,
      sequentialN: settings.tracingN,
      concurrency: settings.concurrency,
      seconds: settings.tracingSeconds,
      latencyEstimateMs: successStats.p50 ?? 1000,
      async start(state) {
        const stateEnv = { ...env, OTEL_SDK_DISABLED: state === 'off' ? 'true' : 'false' };
        const traced = [spawnTs(`worker (tracing ${state})`, 'workers/main.ts', stateEnv, `bench-checkout-worker-tracing-${state}.log`), spawnTs(`API (tracing ${state})`, 'api/main.ts', stateEnv, `bench-checkout-api-tracing-${state}.log`)];
        await Promise.all([waitForLog(traced[0]!, /worker polling task queue/, 120_000), waitForHttp(traced[1]!, `${baseUrl}/readyz`, 120_000)]);
        return traced;
      },
    });
    log(`tracing cost: throughput on/off ${tracingCost.throughputRatio} (${tracingCost.throughputCostPercent} % lost), one-at-a-time p50 on/off ${tracingCost.sequentialP50Ratio}, CPU per checkout on/off ${tracingCost.cpuPerCheckoutRatio}`);
  }

  // ------------------------------------------------------------------ results
  const emptySeq = latencyStats(floors.empty.sequentialMs);
  const shapeSeq = latencyStats(floors.shape.sequentialMs);
  const emptyRate = perSecond(floors.empty.concurrent.completed, floors.empty.concurrent.elapsedMs);
  const shapeRate = perSecond(floors.shape.concurrent.completed, floors.shape.concurrent.elapsedMs);
  const cartStats = latencyStats(cartLatencies);
  const tputStats = latencyStats(tput.latenciesMs);
  const temporalWork = summariseWork(works, floors);
  const goals: Goal[] = [
    goal('success p50 (ms)', '<= 100', successStats.p50, (v) => v <= 100),
    goal('success p99 (ms)', '<= 200', successStats.p99, (v) => v <= 200),
    goal('declined p50 (ms)', '<= 80', declinedStats.p50, (v) => v <= 80),
    goal(`throughput / empty-workflow rate at ${settings.concurrency}`, '>= 0.4', ratio(tputRate, emptyRate), (v) => v >= 0.4),
    goal('cart add p99 (ms)', '<= 5', cartStats.p99, (v) => v <= 5),
    ...(tracingCost ? [goal('throughput lost to tracing (%)', '<= 10', tracingCost.throughputCostPercent, (v) => v <= 10)] : []),
  ];
  const ratios = {
    throughputOverEmptyRate: ratio(tputRate, emptyRate),
    throughputOverShapeRate: ratio(tputRate, shapeRate),
    successP50OverShapeP50: ratio(successStats.p50, shapeSeq.p50),
    successP50OverEmptyP50: ratio(successStats.p50, emptySeq.p50),
    throughputTracingOnOverOff: tracingCost?.throughputRatio ?? null,
  };
  const results = {
    benchmark: 'checkout',
    generatedAt: new Date().toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt) / 1000),
    git: gitFacts(),
    machine: { ...machineInfo(), nproc: os.availableParallelism(), loadAverageStart, loadAverageEnd: os.loadavg(), loadAverageAtPhaseStart: phaseLoad },
    settings: { ...settings, mainTracing: mainTracing === 'true' ? 'off' : 'on', apiPort, webhooksReachApi, checkoutBody: { paymentMethod: { token: 'tok_visa | tok_chargeDeclined' }, expectedGrandTotal }, cart: 'sku-a, sku-b, sku-c x1 + BENCH_X2OFF, BENCH_VOUCHER10, BENCH_FREESHIP' },
    figures: {
      success: { latencyMs: successStats, answered202: success.filter((r) => r.answered === 202).length, wrong: success.filter((r) => !r.ok).length },
      declined: { latencyMs: declinedStats, answered202: declined.filter((r) => r.answered === 202).length, wrong: declined.filter((r) => !r.ok).length },
      throughput: {
        concurrency: tput.concurrency,
        seconds: settings.throughputSeconds,
        completed: tput.completed,
        wrong: tput.wrong,
        answered201: tput.answered201,
        answered202: tput.answered202,
        elapsedMs: Math.round(tput.elapsedMs),
        completedPerSecond: tputRate,
        latencyMs: tputStats,
        cartsPrepared: tput.cartsPrepared,
        cartsFilledInLoop: tput.cartsFilledInLoop,
      },
      cartAdd: { latencyMs: cartStats },
      tracing: tracingCost,
      floors: {
        empty: { sequentialMs: emptySeq, concurrent: { concurrency: settings.concurrency, completed: floors.empty.concurrent.completed, perSecond: emptyRate, latencyMs: latencyStats(floors.empty.concurrent.latenciesMs) } },
        shape: { sequentialMs: shapeSeq, concurrent: { concurrency: settings.concurrency, completed: floors.shape.concurrent.completed, perSecond: shapeRate, latencyMs: latencyStats(floors.shape.concurrent.latenciesMs) } },
      },
    },
    ratios,
    goals,
    temporal: { shapeData: shape, shapeDataTotals: shapeTotals(shape), ...temporalWork },
    errors: ctx.errors.slice(0, 50),
    errorCount: ctx.errors.length,
  };
  const file = writeResults('checkout', results);

  // ------------------------------------------------------------------ the table
  const row = (name: string, s: LatencyStats): Cell[] => [name, s.count, s.p50, s.p90, s.p99, s.max];
  console.log('');
  console.log(
    table(
      ['latency (ms)', 'count', 'p50', 'p90', 'p99', 'max'],
      [
        row('checkout success, 1 at a time', successStats),
        row('checkout declined, 1 at a time', declinedStats),
        row(`checkout success, ${settings.concurrency} at once`, tputStats),
        row('cart add (HTTP), 1 at a time', cartStats),
        row('empty workflow, 1 at a time', emptySeq),
        row('checkout-shaped no-op workflow, 1 at a time', shapeSeq),
      ],
    ),
  );
  console.log('');
  console.log(
    table(
      [`rate at ${settings.concurrency} at once`, 'completed', 'per second'],
      [
        ['checkouts (COMPLETED)', tput.completed, tputRate],
        ['empty workflows', floors.empty.concurrent.completed, emptyRate],
        ['checkout-shaped no-op workflows', floors.shape.concurrent.completed, shapeRate],
      ],
    ),
  );
  console.log(`  (throughput: ${tput.answered201} answered 201, ${tput.answered202} answered 202 then waited for; ratios: throughput/empty ${ratios.throughputOverEmptyRate}, throughput/shape ${ratios.throughputOverShapeRate}, success p50 / shape p50 ${ratios.successP50OverShapeP50})`);
  console.log('');
  printTemporal(temporalWork, shapeTotals(shape));
  console.log('');
  if (tracingCost) {
    const t = tracingCost;
    console.log(
      table(
        [`tracing cost (${t.order.join(', ')}; ratio ${t.samplingRatio}; collector ${t.collectorListening ? 'listening' : 'NOT listening'})`, 'off', 'on', 'on / off'],
        [
          [`throughput at ${settings.concurrency} at once (/s)`, t.off.throughput.perSecond, t.on.throughput.perSecond, t.throughputRatio],
          ['checkout success p50, 1 at a time (ms)', t.off.sequentialMs.p50, t.on.sequentialMs.p50, t.sequentialP50Ratio],
          ['checkout success p99, 1 at a time (ms)', t.off.sequentialMs.p99, t.on.sequentialMs.p99, ratio(t.on.sequentialMs.p99, t.off.sequentialMs.p99)],
          ['CPU per checkout, worker + API (ms)', t.off.cpuMsPerCheckout.workerAndApi, t.on.cpuMsPerCheckout.workerAndApi, t.cpuPerCheckoutRatio],
          ['CPU per checkout, local Jaeger (ms)', t.off.cpuMsPerCheckout.jaeger, t.on.cpuMsPerCheckout.jaeger, '-'],
        ],
      ),
    );
    console.log('');
  }
  console.log(table(['goal', 'target', 'measured', 'met'], goals.map((g) => [g.name, g.target, g.measured, g.met ? 'yes' : 'NO'])));
  console.log('');
  log(`wrote ${path.relative(projectRoot, file)} (${results.durationSeconds} s)`);
  await pool.end();
  await connection.close();
  if (ctx.errors.length > 0) {
    console.error(`[bench:checkout] ${ctx.errors.length} wrong outcome(s); first ones:\n  ${ctx.errors.slice(0, 10).join('\n  ')}`);
    return 1;
  }
  return 0;
}

/** `count` results spread evenly over the run. */
function sampleOf<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor(((i + 0.5) * items.length) / count)]!);
}

function summariseWork(works: { result: CheckoutResult; work: CheckoutWork }[], floors: FloorResults) {
  const med = (pick: (w: CheckoutWork) => number): number | null => median(works.map((w) => pick(w.work)));
  const perCheckout = {
    workflowTasks: med((w) => w.workflowTasks),
    activityTasks: med((w) => w.activityTasks),
    localActivities: med((w) => w.localActivities),
    executions: med((w) => w.executions),
    children: med((w) => w.children),
    signals: med((w) => w.signals),
    updates: med((w) => w.updates),
    events: med((w) => w.events),
    checkoutExecutionEvents: med((w) => w.parent.counts.events),
    checkoutExecutionWorkflowTasks: med((w) => w.parent.counts.workflowTasks),
  };
  const sw = floors.shapeWork;
  const floorShape = {
    workflowTasks: sw.workflowTasks,
    activityTasks: sw.activityTasks,
    localActivities: sw.localActivities,
    executions: sw.executions,
    children: sw.children,
    signals: sw.signals,
    updates: sw.updates,
    events: sw.events,
    checkoutExecutionEvents: sw.parent.counts.events,
    checkoutExecutionWorkflowTasks: sw.parent.counts.workflowTasks,
  };
  // Where the time of a checkout goes (medians over the sample; wall clocks of one machine).
  const timing = works.map(({ result, work }) => {
    const p = work.parent;
    const answeredAt = result.requestedAt + result.latencyMs;
    const endAt = p.endMs === null ? null : p.startedAtMs + p.endMs;
    return {
      orderId: result.orderId,
      latencyMs: Math.round(result.latencyMs * 10) / 10,
      requestToWorkflowStartMs: Math.round((p.startedAtMs - result.requestedAt) * 10) / 10,
      startToFirstWorkflowTaskCompletedMs: p.firstWorkflowTaskMs,
      startToCheckoutEndMs: p.endMs,
      checkoutEndEvent: p.endEvent,
      checkoutEndToResponseMs: endAt === null ? null : Math.round((answeredAt - endAt) * 10) / 10,
      workflowTaskQueuedMs: p.workflowTaskQueuedMs,
      workflowTaskRanMs: p.workflowTaskRanMs,
      activityQueuedMs: p.activityQueuedMs,
      activityRanMs: p.activityRanMs,
      workflowTasks: work.workflowTasks,
      activityTasks: work.activityTasks,
      localActivities: work.localActivities,
      executions: work.executions,
      eventTypes: p.counts.eventTypes,
      activityTypes: p.counts.activityTypes,
    };
  });
  const medianOf = (key: 'requestToWorkflowStartMs' | 'startToFirstWorkflowTaskCompletedMs' | 'startToCheckoutEndMs' | 'checkoutEndToResponseMs' | 'workflowTaskQueuedMs' | 'workflowTaskRanMs' | 'activityQueuedMs' | 'activityRanMs'): number | null =>
    median(timing.flatMap((t) => (t[key] === null ? [] : [t[key]])));
  const whereTimeGoes = {
    requestToWorkflowStartMs: medianOf('requestToWorkflowStartMs'),
    startToFirstWorkflowTaskCompletedMs: medianOf('startToFirstWorkflowTaskCompletedMs'),
    startToCheckoutEndMs: medianOf('startToCheckoutEndMs'),
    checkoutEndToResponseMs: medianOf('checkoutEndToResponseMs'),
    workflowTaskQueuedMsSum: medianOf('workflowTaskQueuedMs'),
    workflowTaskRanMsSum: medianOf('workflowTaskRanMs'),
    activityQueuedMsSum: medianOf('activityQueuedMs'),
    activityRanMsSum: medianOf('activityRanMs'),
  };
  // The timeline of the sampled checkout closest to the median latency, children merged in.
  const medianLatency = median(works.map((w) => w.result.latencyMs)) ?? 0;
  const typical = [...works].sort((a, b) => Math.abs(a.result.latencyMs - medianLatency) - Math.abs(b.result.latencyMs - medianLatency))[0];
  let timeline: TimelineLine[] = [];
  let events: { id: number; type: string; atMs: number; deltaMs: number }[] = [];
  if (typical) {
    const p = typical.work.parent;
    timeline = [
      { atMs: Math.round((typical.result.requestedAt - p.startedAtMs) * 10) / 10, what: 'HTTP POST /v1/checkouts sent' },
      ...p.timeline,
      ...typical.work.childrenAnalysed.flatMap((child, i) =>
        child.timeline.map((line) => ({ ...line, atMs: Math.round((line.atMs + child.startedAtMs - p.startedAtMs) * 10) / 10, what: `child ${i + 1}: ${line.what}` })),
      ),
      { atMs: Math.round((typical.result.requestedAt + typical.result.latencyMs - p.startedAtMs) * 10) / 10, what: `HTTP ${typical.result.answered} received` },
    ].sort((a, b) => a.atMs - b.atMs);
    events = p.events;
  }
  return {
    sampled: works.length,
    perCheckout,
    floorShape,
    whereTimeGoes,
    samples: timing,
    timeline: typical ? { orderId: typical.result.orderId, latencyMs: Math.round(typical.result.latencyMs * 10) / 10, lines: timeline, events } : null,
  };
}

function printTemporal(work: ReturnType<typeof summariseWork>, totals: ReturnType<typeof shapeTotals>): void {
  const m = work.perCheckout;
  const f = work.floorShape;
  console.log(
    table(
      ['Temporal work per checkout', `measured (median of ${work.sampled})`, 'floor shape (measured)', 'shape data'],
      [
        ['workflow tasks (all executions)', m.workflowTasks, f.workflowTasks, '-'],
        ['workflow tasks (checkout execution)', m.checkoutExecutionWorkflowTasks, f.checkoutExecutionWorkflowTasks, '-'],
        ['activity tasks', m.activityTasks, f.activityTasks, totals.activities],
        ['local activities', m.localActivities, f.localActivities, totals.localActivities],
        ['child executions', m.children, f.children, totals.children],
        ['executions (1 + children)', m.executions, f.executions, totals.executions],
        ['signals', m.signals, f.signals, totals.signalWaits],
        ['updates', m.updates, f.updates, 0],
        ['history events (all executions)', m.events, f.events, '-'],
        ['history events (checkout execution)', m.checkoutExecutionEvents, f.checkoutExecutionEvents, '-'],
      ],
    ),
  );
  const w = work.whereTimeGoes;
  console.log(
    `  where the time goes (medians): request -> workflow started ${w.requestToWorkflowStartMs} ms; started -> first workflow task completed ${w.startToFirstWorkflowTaskCompletedMs} ms; ` +
      `started -> checkout end ${w.startToCheckoutEndMs} ms; checkout end -> HTTP answer ${w.checkoutEndToResponseMs} ms; ` +
      `workflow tasks queued ${w.workflowTaskQueuedMsSum} ms + ran ${w.workflowTaskRanMsSum} ms; activities queued ${w.activityQueuedMsSum} ms + ran ${w.activityRanMsSum} ms (sums, parallel ones overlap)`,
  );
  if (work.timeline) {
    console.log('');
    console.log(`timeline of one checkout (${work.timeline.orderId}, ${work.timeline.latencyMs} ms; ms after WorkflowExecutionStarted):`);
    console.log(
      table(
        ['at', 'queued', 'ran', 'what'],
        work.timeline.lines.map((line) => [line.atMs.toFixed(1), line.queuedMs ?? '', line.ranMs ?? '', line.what]),
        [3],
      ),
    );
  }
}

let stopping = false;
async function finish(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await stopAll();
    const left = pids().filter((p) => p.alive);
    if (left.length > 0) console.error(`[bench:checkout] still running: ${JSON.stringify(left)}`);
  }
  process.exit(code);
}

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    log(`${signal}: stopping the worker, the API and the floor worker`);
    void finish(130);
  });
}

main()
  .then(async (code) => {
    await stopAll();
    await cleanupWorkflows();
    log(`stopped: ${pids().map((p) => `${p.name} (pid ${p.pid}) ${p.alive ? 'STILL RUNNING' : 'exited'}`).join(', ')}`);
    return finish(code);
  })
  .catch(async (err: unknown) => {
    console.error('[bench:checkout] failed:', err);
    await stopAll();
    return finish(1);
  });

/** Terminates what the run left running on its task queues (parcel and floor children). */
async function cleanupWorkflows(): Promise<void> {
  if (process.env.BENCH_CHECKOUT_KEEP_WORKFLOWS === '1') return;
  const config = loadConfig();
  const connection = await Connection.connect({ address: config.temporalAddress, connectTimeout: 5000 });
  try {
    const client = new Client({ connection, namespace: config.temporalNamespace });
    const queue = process.env.BENCH_CHECKOUT_TASK_QUEUE ?? 'bench-checkout';
    let n = 0;
    for (const q of [queue, `${queue}-floor`]) n += await terminateRunning(client, q, 'bench:checkout: end of the run');
    log(`terminated ${n} workflow(s) left running on the bench's task queues (parcel / floor children)`);
  } finally {
    await connection.close();
  }
}
