/**
 * The measured journeys of bench:checkout over HTTP: cart adds, one-at-a-time checkouts (success
 * and declined) and closed-loop throughput. Every checkout is made by a fresh buyer (so per-user
 * voucher limits and the per-user checkout rate limit never bite) on the seed cart, filled first
 * and not timed. A checkout is timed from the request until its 201; when the API answers 202 (the
 * saga took longer than its wait), the client waits for the order to settle and the latency runs
 * until the order's terminal status was written (orders.updated_at), read from the database.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import { type ApiClient, type OrderBody, seedSkus, wrongOutcome } from './http';

export interface JourneyContext {
  api: ApiClient;
  pool: Pool;
  runId: string;
  /** Wrong outcomes and unexpected errors, in order (each makes the bench exit non-zero). */
  errors: string[];
  log: (line: string) => void;
}

export type Expected = { status: 'COMPLETED' } | { status: 'FAILED'; code: string };

export interface CheckoutResult {
  buyer: string;
  orderId: string;
  /** 201, or 202 (then settled later). */
  answered: number;
  latencyMs: number;
  /** Wall clock (ms since epoch) of the request. */
  requestedAt: number;
  ok: boolean;
}

let buyerSeq = 0;
export function newBuyer(ctx: JourneyContext, tag: string): string {
  buyerSeq += 1;
  return `bench-${ctx.runId}-${tag}-${buyerSeq}`;
}


/** Waits until the order's status is terminal (database poll); returns when it was written (wall ms). */
async function settledAt(ctx: JourneyContext, orderId: string, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await ctx.pool.query<{ status: string; updated_at: Date }>('SELECT status, updated_at FROM orders WHERE order_id = $1', [orderId]);
    const row = rows[0];
    if (row && (row.status === 'COMPLETED' || row.status === 'FAILED')) return row.updated_at.getTime();
    await sleep(50);
  }
  return undefined;
}

/** One checkout of a buyer whose cart is filled: timed, its outcome checked. */
export async function timedCheckout(ctx: JourneyContext, buyer: string, token: string, expected: Expected, key: string): Promise<CheckoutResult> {
  const requestedAt = Date.now();
  const started = performance.now();
  const reply = await ctx.api.checkout(buyer, key, token);
  const body = (reply.body ?? {}) as OrderBody;
  const orderId = body.orderId ?? '';
  const fail = (why: string): CheckoutResult => {
    ctx.errors.push(`checkout ${key} (${buyer}${orderId ? `, ${orderId}` : ''}): ${why}`);
    return { buyer, orderId, answered: reply.status, latencyMs: performance.now() - started, requestedAt, ok: false };
  };
  if (reply.status === 201) {
    const wrong = wrongOutcome(body, expected);
    if (wrong) return fail(wrong);
    return { buyer, orderId, answered: 201, latencyMs: reply.ms, requestedAt, ok: true };
  }
  if (reply.status !== 202 || !orderId) return fail(`HTTP ${reply.status}: ${JSON.stringify(reply.body).slice(0, 300)}`);
  const at = await settledAt(ctx, orderId, 120_000);
  if (at === undefined) return fail('answered 202 and did not settle within 120 s');
  const order = await ctx.api.order(buyer, orderId);
  if (order.status !== 200) return fail(`GET order: HTTP ${order.status}`);
  const wrong = wrongOutcome(order.body as OrderBody, expected);
  if (wrong) return fail(`${wrong} (after 202)`);
  return { buyer, orderId, answered: 202, latencyMs: Math.max(reply.ms, at - requestedAt), requestedAt, ok: true };
}

/** `count` checkouts one after another, each by a fresh buyer with a freshly filled cart. */
export async function sequentialCheckouts(
  ctx: JourneyContext,
  options: { count: number; token: string; expected: Expected; tag: string; clearAfter: boolean },
): Promise<CheckoutResult[]> {
  const results: CheckoutResult[] = [];
  let failuresInARow = 0;
  for (let i = 0; i < options.count; i += 1) {
    const buyer = newBuyer(ctx, options.tag);
    try {
      await ctx.api.fillSeedCart(buyer);
      const result = await timedCheckout(ctx, buyer, options.token, options.expected, `${ctx.runId}-${options.tag}-${i}`);
      results.push(result);
      failuresInARow = result.ok ? 0 : failuresInARow + 1;
      // A failed checkout leaves the cart as it was: empty it (not timed).
      if (options.clearAfter) await ctx.api.clearSeedCart(buyer);
    } catch (err) {
      ctx.errors.push(`${options.tag} #${i} (${buyer}): ${(err as Error).message}`);
      failuresInARow += 1;
    }
    if (failuresInARow >= 5) {
      ctx.log(`${options.tag}: 5 failures in a row, phase abandoned`);
      break;
    }
    if ((i + 1) % 20 === 0 || i + 1 === options.count) ctx.log(`${options.tag}: ${i + 1}/${options.count}`);
  }
  return results;
}

/** Runs `worker(index)` on `concurrency` workers at once and returns when all have returned. */
async function parallel(concurrency: number, worker: (index: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
}

export interface ThroughputResult {
  concurrency: number;
  durationMs: number;
  /** From the first request until the last client's checkout had settled. */
  elapsedMs: number;
  completed: number;
  wrong: number;
  answered201: number;
  answered202: number;
  latenciesMs: number[];
  cartsPrepared: number;
  /** Carts filled inside the loop because the prepared ones ran out (that time counts in elapsedMs). */
  cartsFilledInLoop: number;
}

/**
 * Closed loop: `concurrency` clients, each checking out one prepared cart after the other (one
 * checkout in flight per client; after a 202 the client waits for the order to settle) until
 * `durationMs` has passed. Carts are filled before the clock starts (an estimate of how many will
 * be needed, from the one-at-a-time latency, filled within 5 s); when they run out, clients fill
 * carts in the loop (counted, and their time counts); unused ones are emptied afterwards.
 */
export async function throughput(ctx: JourneyContext, options: { concurrency: number; durationMs: number; latencyEstimateMs: number }): Promise<ThroughputResult> {
  const { concurrency, durationMs } = options;
  const estimate = Math.ceil((concurrency * durationMs * 1.5) / Math.max(20, options.latencyEstimateMs)) + concurrency;
  const cartsPrepared = Math.min(4000, Math.max(concurrency * 4, estimate));
  const fillBudgetMs = 5_000;
  const carts: string[] = [];
  const fillStarted = performance.now();
  const fillDeadline = fillStarted + fillBudgetMs;
  let filled = 0;
  await parallel(concurrency, async () => {
    // At least a few carts per client; then as many as the estimate asks, within the time budget.
    while (filled < cartsPrepared && (filled < concurrency * 4 || performance.now() < fillDeadline)) {
      filled += 1;
      const buyer = newBuyer(ctx, 'tput');
      await ctx.api.fillSeedCart(buyer);
      carts.push(buyer);
    }
  });
  ctx.log(`throughput: ${carts.length} carts filled in ${Math.round(performance.now() - fillStarted)} ms; ${concurrency} clients for ${durationMs / 1000} s`);

  const result: ThroughputResult = { concurrency, durationMs, elapsedMs: 0, completed: 0, wrong: 0, answered201: 0, answered202: 0, latenciesMs: [], cartsPrepared: carts.length, cartsFilledInLoop: 0 };
  const started = performance.now();
  const deadline = started + durationMs;
  let seq = 0;
  let failuresInARow = 0;
  await parallel(concurrency, async () => {
    while (performance.now() < deadline && failuresInARow < 20) {
      let buyer = carts.pop();
      try {
        if (!buyer) {
          buyer = newBuyer(ctx, 'tput');
          await ctx.api.fillSeedCart(buyer);
          result.cartsFilledInLoop += 1;
        }
        seq += 1;
        const checkout = await timedCheckout(ctx, buyer, 'tok_visa', { status: 'COMPLETED' }, `${ctx.runId}-tput-${seq}`);
        if (checkout.answered === 201) result.answered201 += 1;
        if (checkout.answered === 202) result.answered202 += 1;
        if (checkout.ok) {
          result.completed += 1;
          result.latenciesMs.push(checkout.latencyMs);
          failuresInARow = 0;
        } else {
          result.wrong += 1;
          failuresInARow += 1;
        }
      } catch (err) {
        ctx.errors.push(`throughput (${buyer ?? '?'}): ${(err as Error).message}`);
        result.wrong += 1;
        failuresInARow += 1;
      }
    }
  });
  result.elapsedMs = performance.now() - started;
  if (failuresInARow >= 20) ctx.log('throughput: 20 failures in a row, phase abandoned');
  const unused = carts.splice(0);
  await parallel(concurrency, async () => {
    for (let buyer = unused.pop(); buyer; buyer = unused.pop()) await ctx.api.clearSeedCart(buyer).catch(() => undefined);
  });
  return result;
}

/** POST /v1/cart/items, one at a time: skus cycling, quantity 1, a fresh buyer per round of the three skus (emptied afterwards, not timed). */
export async function cartAdds(ctx: JourneyContext, count: number): Promise<number[]> {
  const latencies: number[] = [];
  const warmup = 15;
  let buyer = newBuyer(ctx, 'cart');
  for (let i = 0; i < warmup + count; i += 1) {
    const sku = seedSkus[i % seedSkus.length]!;
    const reply = await ctx.api.call('POST', '/v1/cart/items', ctx.api.token(buyer), { sku, quantity: 1 + (i % 2) });
    if (reply.status !== 200) {
      ctx.errors.push(`cart add ${sku} (${buyer}): HTTP ${reply.status}: ${JSON.stringify(reply.body).slice(0, 300)}`);
    } else if (i >= warmup) {
      latencies.push(reply.ms);
    }
    if (i % seedSkus.length === seedSkus.length - 1) {
      await ctx.api.clearSeedCart(buyer);
      buyer = newBuyer(ctx, 'cart');
    }
  }
  await ctx.api.clearSeedCart(buyer);
  return latencies;
}
