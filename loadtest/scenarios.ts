/**
 * The scenarios of `npm run loadtest -- --scenario NAME`:
 *
 * - steady: the seed cart at a fixed rate; with --find-max, steps of rising rate until p99 reaches
 *   1 s, bisected: the sustainable rate (written to loadtest/results/sustainable.json for overload).
 * - flash-sale: --buyers (1000) buyers on one hot sku with limited stock (100) in 16 buckets, all
 *   arriving within --duration (2 s); refusals retried after Retry-After with the same key; sold =
 *   stock, every other buyer INSUFFICIENT_STOCK with details.lines.
 * - voucher-storm: --buyers (100) users, two checkouts each at once, on a voucher with a total limit
 *   (half the users) and one use per user.
 * - overload: 3 x the sustainable rate for --duration (60 s): goodput >= 90 % of sustainable,
 *   admitted p99 < 2 s, refusals answered within 50 ms (admission control, api/admission.ts).
 * - chaos: steady load (3/s) for --duration (120 s) with every POST sent twice with the same key,
 *   every webhook delivered three times out of order, the worker SIGKILLed every 20 s (restarted
 *   after 0.5 s, as `npm start` does), and Postgres, Redis and the PSP slowed and cut in turn through
 *   Toxiproxy; afterwards every order settles within 5 minutes: the recovery time is reported.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, localPorts, projectRoot } from '../lib/config';
import { toxiproxyServerBinary } from '../scripts/stack/go-tools';
import { freePort, logDir } from '../bench/checkout/processes';
import { fillCarts, loadSkus, prepareCatalog, prepareHotSku, prepareLimitedVoucher, seedCart, type CartSpec } from './fixtures';
import { stockNow, type StockAtStart } from './invariants';
import { startToxiproxy, startWebhookRelay, type Toxiproxy, type WebhookRelay } from './chaos';
import { admittedStats, loadPhase, sampleCounters, type Goal, type LoadtestOptions, type RunContext, type Scenario, type ScenarioName, type ScenarioResult } from './run';
import { latencyStats } from '../bench/checkout/stats';
import type { OrderOutcome } from './journey';

const goal = (name: string, target: string, measured: number | null, ok: (v: number) => boolean): Goal => ({ name, target, measured, met: measured !== null && ok(measured) });
const sustainableFile = (options: LoadtestOptions): string => path.join(options.resultsDir ?? path.join(projectRoot, 'loadtest', 'results'), 'sustainable.json');

let buyerSeq = 0;
function buyers(ctx: RunContext, tag: string, count: number): string[] {
  return Array.from({ length: count }, () => `${ctx.buyerPrefix}${tag}-${(buyerSeq += 1)}`);
}

async function stockOf(ctx: RunContext, skus: readonly string[]): Promise<Record<string, StockAtStart>> {
  const out: Record<string, StockAtStart> = {};
  for (const sku of skus) {
    const { available, sold } = await stockNow(ctx.pool, sku);
    out[sku] = { available, sold };
  }
  return out;
}

const count = (outcomes: readonly OrderOutcome[], pred: (o: OrderOutcome) => boolean): number => outcomes.filter(pred).length;

// ---------------------------------------------------------------- steady

interface StepResult {
  rate: number;
  offered: number;
  completed: number;
  p50: number | null;
  p99: number | null;
  passed: boolean;
}

/** One steady step: fresh carts filled (not timed), then `rate`/s for `durationMs`. */
async function steadyStep(ctx: RunContext, rate: number, durationMs: number, label: string): Promise<{ step: StepResult; startMs: number; endMs: number }> {
  const arrivals = Math.max(1, Math.round((rate * durationMs) / 1000));
  const stepBuyers = buyers(ctx, 's', arrivals);
  await fillCarts(ctx.api, stepBuyers, seedCart);
  ctx.event(`${label}: ${rate}/s for ${durationMs / 1000} s`);
  const phase = await loadPhase(ctx, {
    label,
    ratePerSecond: rate,
    durationMs,
    buyers: stepBuyers,
    journey: (buyer) => ({ key: `${buyer}-k`, paymentToken: 'tok_visa', settleTimeoutMs: 120_000 }),
  });
  const stats = admittedStats(phase.outcomes);
  const completed = count(phase.outcomes, (o) => o.outcome === 'COMPLETED');
  // Sustainable: p99 under 1 s and (nearly) every arrival completed — no refusals, no errors.
  const passed = stats.p99 !== null && stats.p99 < 1000 && completed >= 0.98 * phase.outcomes.length;
  return { step: { rate, offered: phase.outcomes.length, completed, p50: stats.p50, p99: stats.p99, passed }, startMs: phase.startMs, endMs: phase.endMs };
}

export const steady: Scenario = {
  async run(ctx) {
    const durationS = ctx.options.durationS ?? (ctx.options.findMax ? 20 : 30);
    const startRate = ctx.options.rate ?? (ctx.options.findMax ? 4 : 5);
    await prepareCatalog(ctx.api, ctx, 50_000);
    const skus = await stockOf(ctx, loadSkus);
    const stopCounters = sampleCounters(ctx, async () => ({ 'lt-a available': (await stockNow(ctx.pool, 'lt-a')).available }));
    const steps: StepResult[] = [];
    let window = { startMs: Number.POSITIVE_INFINITY, endMs: 0 };
    const run = async (rate: number): Promise<StepResult> => {
      // At least 60 arrivals per step: with fewer, p99 is just the slowest one (noise on a shared machine).
      const stepMs = ctx.options.findMax ? Math.max(durationS * 1000, (60 / rate) * 1000) : durationS * 1000;
      const { step, startMs, endMs } = await steadyStep(ctx, Math.round(rate * 10) / 10, Math.round(stepMs), `steady ${Math.round(rate * 10) / 10}/s`);
      window = { startMs: Math.min(window.startMs, startMs), endMs: Math.max(window.endMs, endMs) };
      steps.push(step);
      ctx.log(`step ${step.rate}/s: completed ${step.completed}/${step.offered}, p50 ${step.p50} ms, p99 ${step.p99} ms: ${step.passed ? 'sustainable' : 'NOT sustainable'}`);
      return step;
    };
    let sustainable: number | null = null;
    if (ctx.options.findMax) {
      // Warm-up at the start rate (not judged): the first dozens of checkouts of fresh processes are slower (JIT, pools).
      await steadyStep(ctx, startRate, 10_000, 'warm-up');
      // Multiply by 1.5 until a step fails, then bisect between the best pass and the first fail; at most 8 steps.
      let low: number | null = null;
      let high: number | null = null;
      let rate = startRate;
      for (let i = 0; i < 8; i += 1) {
        const step = await run(rate);
        if (step.passed) low = rate;
        else high = rate;
        if (high === null) rate *= 1.5;
        else if (low === null) rate /= 2;
        else if (high - low <= Math.max(0.5, low * 0.1)) break;
        else rate = (low + high) / 2;
        if (rate < 0.5) break;
      }
      sustainable = low === null ? null : Math.round(low * 10) / 10;
      if (sustainable !== null) writeFileSync(sustainableFile(ctx.options), `${JSON.stringify({ sustainablePerSecond: sustainable, runId: ctx.runId, measuredAt: new Date().toISOString() }, null, 2)}\n`);
    } else {
      const step = await run(startRate);
      sustainable = step.passed ? step.rate : null;
    }
    await stopCounters();
    const last = steps[steps.length - 1]!;
    return {
      loadWindow: window,
      goals: [
        ctx.options.findMax ? goal('sustainable rate (p99 < 1 s), per second', 'found', sustainable, () => true) : goal(`p99 at ${last.rate}/s (ms)`, '< 1000', last.p99, (v) => v < 1000),
      ],
      scope: { skus, vouchers: [] },
      invariants: [],
      settings: { scenario: 'steady', findMax: ctx.options.findMax ?? false, stepSeconds: durationS, startRate, cart: 'lt-a, lt-b, lt-c x1 + LT_X2OFF, LT_VOUCHER10, LT_FREESHIP' },
      extra: { steps, sustainablePerSecond: sustainable },
      notes: ctx.options.findMax ? [`Steps: ${steps.map((s) => `${s.rate}/s p99 ${s.p99} ms ${s.passed ? 'ok' : 'over'}`).join('; ')}. Sustainable: ${sustainable ?? 'none'}/s.`] : [],
    };
  },
};

// ---------------------------------------------------------------- flash sale

export const flashSale: Scenario = {
  async run(ctx) {
    const buyerCount = ctx.options.buyers ?? 1000;
    const stock = ctx.options.stock ?? Math.max(1, Math.round(buyerCount / 10));
    const bucketCount = 16;
    const durationMs = (ctx.options.durationS ?? 2) * 1000;
    const sku = `lt-hot-${ctx.runId}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 60);
    await prepareCatalog(ctx.api, ctx, 1000);
    await prepareHotSku(ctx.api, ctx.pool, sku, stock, bucketCount);
    const cart: CartSpec = { items: [{ sku, quantity: 1 }], vouchers: [] };
    const saleBuyers = buyers(ctx, 'f', buyerCount);
    await fillCarts(ctx.api, saleBuyers, cart);
    const skus = await stockOf(ctx, [sku]);
    const stopCounters = sampleCounters(ctx, async () => {
      const s = await stockNow(ctx.pool, sku);
      return { [`${sku} available`]: s.available, [`${sku} reserved`]: s.reserved, [`${sku} sold`]: s.sold };
    });
    ctx.event(`flash sale: ${buyerCount} buyers within ${durationMs / 1000} s on ${stock} units in ${bucketCount} buckets`);
    const phase = await loadPhase(ctx, {
      label: 'flash-sale',
      ratePerSecond: buyerCount / (durationMs / 1000),
      durationMs,
      buyers: saleBuyers,
      journey: (buyer) => ({ key: `${buyer}-k`, paymentToken: 'tok_visa', settleTimeoutMs: 120_000, retryRefusalsForMs: 120_000 }),
    });
    await stopCounters();
    const sold = (await stockNow(ctx.pool, sku)).sold;
    const completed = count(phase.outcomes, (o) => o.outcome === 'COMPLETED');
    const isShort = (o: OrderOutcome): boolean => o.outcome === 'FAILED:INSUFFICIENT_STOCK' || o.outcome === 'REFUSED_422:INSUFFICIENT_STOCK';
    const losers = phase.outcomes.filter((o) => o.outcome !== 'COMPLETED');
    const withoutDetails = losers.filter((o) => !isShort(o) || !Array.isArray(o.details?.lines) || (o.details.lines as unknown[]).length === 0);
    const expectedSold = Math.min(stock, buyerCount);
    return {
      loadWindow: { startMs: phase.startMs, endMs: phase.endMs },
      goals: [goal('time to sell out (s)', 'reported', completed > 0 ? Math.round(phase.endMs - phase.startMs) / 1000 : null, () => true)],
      scope: { skus, vouchers: [] },
      invariants: [
        { name: 'flash sale: sold units = stock', ok: sold - skus[sku]!.sold === expectedSold, detail: `${sold - skus[sku]!.sold} sold of ${stock} (buyers ${buyerCount})` },
        { name: 'flash sale: completed orders = stock', ok: completed === expectedSold, detail: `${completed} completed` },
        {
          name: 'flash sale: every other buyer INSUFFICIENT_STOCK with details.lines',
          ok: withoutDetails.length === 0,
          detail: withoutDetails.length === 0 ? `${losers.length} losers, all INSUFFICIENT_STOCK with lines` : `${withoutDetails.length} not: ${[...new Set(withoutDetails.map((o) => o.outcome))].join(', ')}`,
        },
      ],
      settings: { scenario: 'flash-sale', buyers: buyerCount, stock, buckets: bucketCount, burstSeconds: durationMs / 1000, sku },
      extra: {
        refusalsRetried: phase.outcomes.reduce((n, o) => n + o.retries, 0),
        losersRefusedAtTheDoor: count(phase.outcomes, (o) => o.outcome === 'REFUSED_422:INSUFFICIENT_STOCK'),
        losersFailedInTheSaga: count(phase.outcomes, (o) => o.outcome === 'FAILED:INSUFFICIENT_STOCK'),
        generatorMaxLagMs: phase.maxLagMs,
      },
      notes: [`${buyerCount} buyers, ${stock} units: ${completed} completed; refusals (429) were retried after Retry-After with the same key.`],
    };
  },
};

// ---------------------------------------------------------------- voucher storm

export const voucherStorm: Scenario = {
  async run(ctx) {
    const users = ctx.options.buyers ?? 100;
    const totalLimit = Math.max(1, Math.floor(users / 2));
    const perUserLimit = 1;
    const durationMs = (ctx.options.durationS ?? 3) * 1000;
    const code = `LT_STORM_${ctx.runId}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
    await prepareCatalog(ctx.api, ctx, 10_000);
    await prepareLimitedVoucher(ctx.api, code, totalLimit, perUserLimit);
    const userIds = buyers(ctx, 'v', users);
    await fillCarts(ctx.api, userIds, { items: [{ sku: 'lt-a', quantity: 1 }], vouchers: [code] });
    const skus = await stockOf(ctx, ['lt-a']);
    const stopCounters = sampleCounters(ctx, async () => {
      const { rows } = await ctx.pool.query<{ held: string; consumed: string }>(
        `SELECT count(*) FILTER (WHERE status = 'held')::text AS held, count(*) FILTER (WHERE status = 'consumed')::text AS consumed FROM voucher_usages WHERE code = $1`,
        [code],
      );
      return { [`${code} held`]: Number(rows[0]?.held ?? 0), [`${code} consumed`]: Number(rows[0]?.consumed ?? 0) };
    });
    // Two checkouts per user, one right after the other in the arrival order: both race for the user's one use.
    const arrivals = userIds.flatMap((u) => [u, u]);
    ctx.event(`voucher storm: ${users} users x 2 checkouts within ${durationMs / 1000} s; limits ${totalLimit} total, ${perUserLimit} per user`);
    const phase = await loadPhase(ctx, {
      label: 'voucher-storm',
      ratePerSecond: arrivals.length / (durationMs / 1000),
      durationMs,
      buyers: arrivals,
      journey: (buyer, index) => ({ key: `${buyer}-k${index % 2}`, paymentToken: 'tok_visa', settleTimeoutMs: 120_000, retryRefusalsForMs: 120_000 }),
    });
    await stopCounters();
    const { rows } = await ctx.pool.query<{ completed: string; max_per_user: string | null }>(
      `SELECT count(*)::text AS completed, (SELECT max(n)::text FROM (SELECT count(*) AS n FROM orders WHERE buyer_id LIKE $1 AND status = 'COMPLETED' GROUP BY buyer_id) u) AS max_per_user
       FROM orders WHERE buyer_id LIKE $1 AND status = 'COMPLETED'`,
      [`${ctx.buyerPrefix}v-%`],
    );
    const completed = Number(rows[0]?.completed ?? 0);
    const maxPerUser = Number(rows[0]?.max_per_user ?? 0);
    return {
      loadWindow: { startMs: phase.startMs, endMs: phase.endMs },
      goals: [goal('completed checkouts with the voucher', `<= ${totalLimit}`, completed, (v) => v <= totalLimit)],
      scope: { skus, vouchers: [{ code, totalLimit, perUserLimit }] },
      invariants: [
        { name: 'voucher storm: completed orders within the total limit', ok: completed <= totalLimit, detail: `${completed} completed, limit ${totalLimit}` },
        { name: 'voucher storm: at most one completed order per user', ok: maxPerUser <= perUserLimit, detail: `at most ${maxPerUser} per user` },
      ],
      settings: { scenario: 'voucher-storm', users, checkoutsPerUser: 2, totalLimit, perUserLimit, burstSeconds: durationMs / 1000, voucher: code },
      extra: { refusalsRetried: phase.outcomes.reduce((n, o) => n + o.retries, 0) },
      notes: [`${users} users, two checkouts each: ${completed} completed with the voucher (limit ${totalLimit}, ${perUserLimit} per user).`],
    };
  },
};

// ---------------------------------------------------------------- overload

function lastSustainable(options: LoadtestOptions): number | undefined {
  const file = sustainableFile(options);
  if (!existsSync(file)) return undefined;
  const value = (JSON.parse(readFileSync(file, 'utf8')) as { sustainablePerSecond?: number }).sustainablePerSecond;
  return typeof value === 'number' && value > 0 ? value : undefined;
}

export function overloadSustainable(options: LoadtestOptions): number {
  return options.sustainable ?? lastSustainable(options) ?? 5;
}

/**
 * The admission limit of the API the overload run starts, unless CHECKOUT_MAX_IN_FLIGHT is set:
 * Little's law with a 0.5 s latency budget at the sustainable rate (at least 2).
 */
export function overloadInFlightLimit(sustainable: number): number {
  return Math.max(2, Math.ceil(sustainable * 0.5));
}

export const overload: Scenario = {
  system(ctx) {
    const env = { ...process.env, ...ctx.options.env };
    const limit = env.CHECKOUT_MAX_IN_FLIGHT ?? String(overloadInFlightLimit(overloadSustainable(ctx.options)));
    ctx.log(`overload: the API admits ${limit} checkouts in flight (CHECKOUT_MAX_IN_FLIGHT)`);
    return Promise.resolve({ apiEnv: { CHECKOUT_MAX_IN_FLIGHT: limit } });
  },
  async run(ctx) {
    const sustainable = overloadSustainable(ctx.options);
    const rate = ctx.options.rate ?? 3 * sustainable;
    const durationMs = (ctx.options.durationS ?? 60) * 1000;
    await prepareCatalog(ctx.api, ctx, 50_000);
    const skus = await stockOf(ctx, loadSkus);
    const arrivals = buyers(ctx, 'o', Math.max(1, Math.round((rate * durationMs) / 1000)));
    await fillCarts(ctx.api, arrivals, seedCart);
    ctx.event(`overload: ${rate}/s (${Math.round((rate / sustainable) * 10) / 10} x sustainable ${sustainable}/s) for ${durationMs / 1000} s`);
    const phase = await loadPhase(ctx, {
      label: 'overload',
      ratePerSecond: rate,
      durationMs,
      buyers: arrivals,
      journey: (buyer) => ({ key: `${buyer}-k`, paymentToken: 'tok_visa', settleTimeoutMs: 120_000 }),
    });
    const completed = count(phase.outcomes, (o) => o.outcome === 'COMPLETED');
    const goodput = Math.round((completed / (durationMs / 1000)) * 100) / 100;
    const admitted = admittedStats(phase.outcomes);
    const refused = latencyStats(phase.outcomes.filter((o) => o.outcome.startsWith('429') || o.outcome === '503').map((o) => o.latencyMs));
    return {
      loadWindow: { startMs: phase.startMs, endMs: phase.startMs + durationMs },
      goals: [
        goal('goodput / sustainable', '>= 0.9', Math.round((goodput / sustainable) * 100) / 100, (v) => v >= 0.9),
        goal('admitted p99 (ms)', '< 2000', admitted.p99, (v) => v < 2000),
        goal('refused p99 (ms)', '< 50', refused.p99 ?? (refused.count === 0 ? 0 : null), (v) => v < 50),
      ],
      scope: { skus, vouchers: [] },
      invariants: [],
      settings: { scenario: 'overload', sustainablePerSecond: sustainable, offeredPerSecond: rate, seconds: durationMs / 1000, admission: admissionSettings(ctx) },
      extra: { goodputPerSecond: goodput, refused: refused.count, admittedP99Ms: admitted.p99, refusedP99Ms: refused.p99 },
      notes: [`Offered ${rate}/s against a sustainable ${sustainable}/s; the API's admission control refuses past its in-flight limit with 429 OVERLOADED.`],
    };
  },
};

function admissionSettings(ctx: RunContext): Record<string, string | undefined> {
  const env = { ...process.env, ...ctx.options.env };
  const started = ctx.options.system ? {} : { CHECKOUT_MAX_IN_FLIGHT: env.CHECKOUT_MAX_IN_FLIGHT ?? String(overloadInFlightLimit(overloadSustainable(ctx.options))) };
  return { ...Object.fromEntries(['CHECKOUT_MAX_IN_FLIGHT', 'CHECKOUT_MAX_QUEUE', 'CHECKOUT_QUEUE_TIMEOUT_MS', 'CHECKOUT_ADMISSION_RATE'].map((k) => [k, env[k] ?? '(default)'])), ...started };
}

// ---------------------------------------------------------------- chaos

interface ChaosParts {
  toxiproxy?: Toxiproxy;
  relay?: WebhookRelay;
}
const chaosParts: ChaosParts = {};

/** One fault of the rotation: what it does to which proxy, for how long. */
interface Fault {
  what: string;
  apply: (t: Toxiproxy) => Promise<void>;
}

const faults: readonly Fault[] = [
  { what: 'Postgres +250 ms latency', apply: (t) => t.toxic('postgres', 'slow', 'latency', { latency: 250, jitter: 50 }) },
  { what: 'Redis cut', apply: (t) => t.enable('redis', false) },
  { what: 'PSP stops answering', apply: (t) => t.toxic('psp', 'hang', 'timeout', { timeout: 0 }) },
  { what: 'Postgres cut', apply: (t) => t.enable('postgres', false) },
  { what: 'PSP +1500 ms latency', apply: (t) => t.toxic('psp', 'slow', 'latency', { latency: 1500, jitter: 200 }) },
  { what: 'Redis +200 ms latency', apply: (t) => t.toxic('redis', 'slow', 'latency', { latency: 200, jitter: 50 }) },
];

function withPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

export const chaos: Scenario = {
  ownSystem: true,
  async system(ctx) {
    const binary = process.env.TOXIPROXY_PATH ?? toxiproxyServerBinary();
    if (!binary) throw new Error('toxiproxy-server is not installed and could not be built (see the line above); set TOXIPROXY_PATH');
    const toxiproxy = await startToxiproxy(binary, path.join(logDir(), `loadtest-${ctx.runId}-toxiproxy.log`));
    chaosParts.toxiproxy = toxiproxy;
    const config = loadConfig({ ...process.env, ...ctx.options.env });
    const pgPort = await toxiproxy.proxy('postgres', Number(new URL(config.databaseUrl).port || 5432));
    const redisPort = await toxiproxy.proxy('redis', Number(new URL(config.redisUrl).port || 6379));
    const pspPort = await freePort();
    const pspProxyPort = await toxiproxy.proxy('psp', pspPort);
    ctx.log(`toxiproxy on ${toxiproxy.url}: postgres :${pgPort}, redis :${redisPort}, psp :${pspProxyPort} (local stack on ${localPorts.postgres}/${localPorts.redis})`);
    const relay = await startWebhookRelay({ target: 'http://127.0.0.1:9/unset' });
    chaosParts.relay = relay;
    return {
      pspPort,
      env: {
        DATABASE_URL: withPort(config.databaseUrl, pgPort),
        REDIS_URL: withPort(config.redisUrl, redisPort),
        // A lost webhook is resolved by asking the PSP after this wait (docs/checkout-saga.md).
        PAYMENT_TIMEOUT_MS: '30000',
      },
      pspUrlForWorker: () => `http://127.0.0.1:${pspProxyPort}`,
      webhookUrl: (apiUrl) => {
        relay.retarget(`${apiUrl}/v1/webhooks/payments`);
        return relay.url;
      },
      cleanup: async () => {
        await relay.close();
        await toxiproxy.stop();
      },
    };
  },
  async run(ctx) {
    const toxiproxy = chaosParts.toxiproxy!;
    const relay = chaosParts.relay!;
    const rate = ctx.options.rate ?? 3;
    const durationMs = (ctx.options.durationS ?? 120) * 1000;
    const killEveryMs = (ctx.options.killEveryS ?? 20) * 1000;
    await prepareCatalog(ctx.api, ctx, 50_000);
    const skus = await stockOf(ctx, loadSkus);
    const arrivals = buyers(ctx, 'c', Math.max(1, Math.round((rate * durationMs) / 1000)));
    await fillCarts(ctx.api, arrivals, seedCart);
    const faultLengthMs = Math.min(4000, Math.max(1000, killEveryMs / 4));
    const kills: { atMs: number; readyAfterMs: number }[] = [];
    // Faults and kills run while arrivals do; the checkouts still in flight then finish on a healthy system.
    const faultsUntil = Date.now() + durationMs;
    let stopped = false;
    const faultsOver = (): boolean => stopped || Date.now() >= faultsUntil;
    // Worker kills: every killEveryMs, SIGKILL worker 1 and start it again 0.5 s later (npm start's first backoff).
    const killer = (async () => {
      for (let n = 1; !faultsOver(); n += 1) {
        await sleepUntil(faultsOver, killEveryMs);
        if (faultsOver()) break;
        const worker = ctx.system.workers[0]!;
        ctx.event(`SIGKILL worker (pid ${worker.child.pid})`);
        const killedAt = ctx.recorder.now();
        worker.child.kill('SIGKILL');
        await new Promise((resolve) => setTimeout(resolve, 500));
        const restarted = await ctx.system.restartWorker(0);
        kills.push({ atMs: killedAt, readyAfterMs: Math.round(ctx.recorder.now() - killedAt) });
        ctx.event(`worker restarted (pid ${restarted.child.pid}), polling after ${kills[kills.length - 1]!.readyAfterMs} ms`);
        void n;
      }
    })();
    // Faults: one after the other, each for faultLengthMs, starting half a kill period in.
    const faulter = (async () => {
      for (let i = 0; !faultsOver(); i += 1) {
        await sleepUntil(faultsOver, i === 0 ? killEveryMs / 2 : killEveryMs / 2 - faultLengthMs);
        if (faultsOver()) break;
        const fault = faults[i % faults.length]!;
        ctx.event(`fault: ${fault.what}`);
        await fault.apply(toxiproxy).catch((err: unknown) => ctx.log(`fault failed: ${(err as Error).message}`));
        await sleepUntil(() => stopped, faultLengthMs);
        await toxiproxy.reset().catch(() => undefined);
        ctx.event(`fault over: ${fault.what}`);
      }
    })();
    let faultsStoppedMs = 0;
    const faultsStopped = Promise.all([killer, faulter]).then(async () => {
      await toxiproxy.reset();
      faultsStoppedMs = ctx.recorder.now();
      ctx.event('faults stopped (arrivals over)');
    });
    const phase = await loadPhase(ctx, {
      label: 'chaos',
      ratePerSecond: rate,
      durationMs,
      buyers: arrivals,
      journey: (buyer) => ({ key: `${buyer}-k`, paymentToken: 'tok_visa', settleTimeoutMs: 330_000, retryRefusalsForMs: 60_000, duplicate: true, requestTimeoutMs: 15_000 }),
    });
    stopped = true;
    await faultsStopped;
    let recoveryMs: number | undefined;
    const mismatches = phase.outcomes.filter((o) => o.duplicateMismatch).map((o) => o.duplicateMismatch!);
    const errors = phase.outcomes.filter((o) => o.outcome.startsWith('ERROR') || o.outcome === 'UNSETTLED' || o.outcome.startsWith('5'));
    const result: ScenarioResult = {
      loadWindow: { startMs: phase.startMs, endMs: phase.endMs },
      settleBudgetMs: 300_000,
      afterSettled(settledInMs) {
        // Recovery: from the end of the faults until the last order of the run settled.
        recoveryMs = settledInMs === undefined ? undefined : Math.max(0, Math.round(ctx.recorder.now() - faultsStoppedMs));
        result.extra.recoveryMs = recoveryMs ?? null;
        result.goals.push(goal('recovery: every order settled after the faults stopped (s)', '<= 300', recoveryMs === undefined ? null : recoveryMs / 1000, (v) => v <= 300));
        result.invariants.push({ name: 'chaos: every order settled within 5 minutes of the faults stopping', ok: recoveryMs !== undefined, detail: recoveryMs === undefined ? 'not within 300 s' : `${recoveryMs} ms` });
        ctx.event(`every order settled (${recoveryMs ?? '-'} ms after the faults stopped)`);
        void relay.drain(10_000);
      },
      goals: [
        goal('worker restart until polling (ms, max)', 'reported', kills.length ? Math.max(...kills.map((k) => k.readyAfterMs)) : null, () => true),
        // api-contract.md: a dependency down is 503 with Retry-After, never a 500.
        goal('500 answers (a dependency down must be 503)', '0', count(phase.outcomes, (o) => o.outcome.startsWith('500')), (v) => v === 0),
      ],
      scope: { skus, vouchers: [] },
      invariants: [
        { name: 'chaos: a repeated POST with the same key names the same order', ok: mismatches.length === 0, detail: mismatches.length === 0 ? `${phase.outcomes.length} POSTs each sent twice` : mismatches.slice(0, 5).join('; ') },
      ],
      settings: { scenario: 'chaos', ratePerSecond: rate, seconds: durationMs / 1000, killEverySeconds: killEveryMs / 1000, faultSeconds: faultLengthMs / 1000, faults: faults.map((f) => f.what), webhookCopies: 3 },
      extra: { kills, webhooks: relay.stats(), answeredWithErrorsOrUnsettled: errors.length, errorOutcomes: [...new Set(errors.map((e) => e.outcome))] },
      notes: ['Every checkout POST sent twice with the same Idempotency-Key; every webhook delivered three times in shuffled order; the worker SIGKILLed and restarted; faults through Toxiproxy on the harness processes only.'],
    };
    return result;
  },
};

async function sleepUntil(stopped: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!stopped() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, Math.min(200, deadline - Date.now())));
}

export const scenarios: Record<ScenarioName, Scenario> = { steady, 'flash-sale': flashSale, 'voucher-storm': voucherStorm, overload, chaos };

export type { ScenarioResult };
