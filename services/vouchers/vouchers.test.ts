import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { BusinessError, NotFoundError } from '../../lib/errors';
import { createRedis } from '../../lib/redis';
import { exclusiveRedisUrl, testPool, testRedis, uniqueId } from '../../test/support/env';
import { createCatalogService } from '../catalog';
import { makeSeller, rejectsValidation, rejectsWithCode } from '../catalog/test-support';
import { createVoucherService, type VoucherHold, type VoucherService } from './index';
import { voucherKeys } from './redis-state';

/** Redis logical database this file may flush (never the shared test database). */
const flushableRedisDb = 11;

const start = Date.parse('2031-03-01T00:00:00Z');

function newCode(): string {
  return uniqueId('V').replace(/[^A-Za-z0-9_-]/g, '');
}

async function liveUsages(code: string): Promise<{ total: number; maxPerUser: number }> {
  const { rows } = await testPool().query<{ user_id: string; n: string }>(
    `SELECT user_id, count(*) AS n FROM voucher_usages WHERE code = $1 AND status IN ('held', 'consumed') GROUP BY user_id`,
    [code],
  );
  return { total: rows.reduce((s, r) => s + Number(r.n), 0), maxPerUser: Math.max(0, ...rows.map((r) => Number(r.n))) };
}

async function holdStorm(vouchers: VoucherService, code: string, holds: number, users: number, onStarted?: () => void) {
  const calls = Array.from({ length: holds }, (_, i) => vouchers.hold(code, `user-${i % users}`, `${code}-order-${i}`));
  onStarted?.();
  const outcomes = await Promise.allSettled(calls);
  const held = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const refusals = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
  return { held, refusals };
}

function settle<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );
}

function assertTypedRefusals(refusals: unknown[], codes: string[]): void {
  for (const err of refusals) {
    assert.ok(err instanceof BusinessError && codes.includes(err.code), `untyped failure: ${String(err)}`);
  }
}

describe('voucher service @integration', function () {
  this.timeout(60_000);
  const pool = testPool();
  const redis = testRedis();
  let clockMs = start;
  const now = (): Date => new Date(clockMs);
  const holdTimeoutMs = 15 * 60 * 1000;
  const vouchers = createVoucherService({ pool, redis, now, holdTimeoutMs });

  beforeEach(() => {
    clockMs = start;
  });

  it('1,000 concurrent holds of a voucher limited to 50 (1 per user, 200 users): exactly 50 holds', async () => {
    const code = newCode();
    await vouchers.upsert(code, { scope: 'platform', type: 'percent', rateBps: 1000, totalLimit: 50, perUserLimit: 1 });
    const { held, refusals } = await holdStorm(vouchers, code, 1000, 200);
    assert.equal(held.length, 50);
    assert.equal(refusals.length, 950);
    assertTypedRefusals(refusals, ['VOUCHER_EXHAUSTED', 'VOUCHER_USER_LIMIT']);
    assert.equal(new Set(held.map((h) => h.userId)).size, 50, 'no user holds twice');
    assert.deepEqual(await liveUsages(code), { total: 50, maxPerUser: 1 });
    assert.deepEqual((await vouchers.get(code)).usage, { held: 50, consumed: 0 });
  });

  describe('with a Redis that is flushed mid-run', () => {
    let flushable: Redis;
    before(async () => {
      flushable = createRedis(exclusiveRedisUrl(flushableRedisDb), 'voucher-flush-test');
      await flushable.flushdb();
    });
    after(async () => {
      await flushable.flushdb();
      await flushable.quit();
    });

    it('1,000 concurrent holds still give exactly 50, and no user exceeds its limit', async () => {
      const service = createVoucherService({ pool, redis: flushable, now, holdTimeoutMs });
      const code = newCode();
      await service.upsert(code, { scope: 'platform', type: 'percent', rateBps: 1000, totalLimit: 50, perUserLimit: 1 });
      const hold = (i: number): Promise<VoucherHold> => service.hold(code, `user-${i % 200}`, `${code}-order-${i}`);
      // A first wave; once some of it has landed, flush while the rest is in flight, then a second
      // wave (which finds no state and rebuilds it from Postgres) and another flush during it.
      let firstLanded = (): void => undefined;
      const landed = new Promise<void>((resolve) => (firstLanded = resolve));
      // Each call's outcome is captured at once, so no rejection is ever left unhandled meanwhile.
      const calls = Array.from({ length: 300 }, (_, i) => settle(hold(i).finally(() => firstLanded())));
      await landed;
      await flushable.flushdb();
      calls.push(...Array.from({ length: 700 }, (_, i) => settle(hold(300 + i))));
      const secondFlush = new Promise((resolve) => setTimeout(resolve, 5)).then(() => flushable.flushdb());
      const outcomes = await Promise.all(calls);
      await secondFlush;
      const held = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const refusals = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      assertTypedRefusals(refusals, ['VOUCHER_EXHAUSTED', 'VOUCHER_USER_LIMIT']);
      assert.equal(held.length, 50);
      assert.deepEqual(await liveUsages(code), { total: 50, maxPerUser: 1 });

      // After the flush the state is rebuilt from Postgres: the voucher stays exhausted.
      await flushable.flushdb();
      await rejectsWithCode(service.hold(code, 'user-new', `${code}-late`), 'VOUCHER_EXHAUSTED');
      await rejectsWithCode(service.hold(code, held[0]?.userId ?? '', `${code}-late-2`), 'VOUCHER_USER_LIMIT');
      assert.deepEqual(await liveUsages(code), { total: 50, maxPerUser: 1 });
    });
  });

  it('a retried hold returns the same hold and takes no second slot', async () => {
    const code = newCode();
    await vouchers.upsert(code, { scope: 'platform', type: 'fixed', amount: 100, totalLimit: 2 });
    const orderId = uniqueId('order');
    const first = await vouchers.hold(code, 'alice', orderId);
    const retries = await Promise.all(Array.from({ length: 10 }, () => vouchers.hold(code, 'alice', orderId)));
    for (const r of retries) assert.deepEqual(r, first);
    // The retry is answered from Postgres even when Redis lost its state.
    await vouchers.resync(code);
    await redis.del(...voucherKeys(code));
    assert.deepEqual(await vouchers.hold(code, 'alice', orderId), first);
    assert.deepEqual(await liveUsages(code), { total: 1, maxPerUser: 1 });
    await rejectsWithCode(vouchers.hold(code, 'bob', orderId), 'HOLD_CONFLICT');
  });

  it('consume and release are idempotent; release frees the slot, consume keeps it', async () => {
    const code = newCode();
    await vouchers.upsert(code, { scope: 'shipping', type: 'free_shipping', totalLimit: 1 });
    const a = uniqueId('order');
    await vouchers.hold(code, 'alice', a);
    await rejectsWithCode(vouchers.hold(code, 'bob', uniqueId('order')), 'VOUCHER_EXHAUSTED');

    const released = await vouchers.release(a);
    assert.deepEqual(released.map((h) => h.status), ['released']);
    assert.deepEqual(await vouchers.release(a), released);
    assert.deepEqual((await vouchers.get(code)).usage, { held: 0, consumed: 0 });
    await rejectsWithCode(vouchers.consume(a), 'INVALID_STATE');
    // A late duplicate of the hold after its compensation takes nothing.
    assert.equal((await vouchers.hold(code, 'alice', a)).status, 'released');

    const b = uniqueId('order');
    await vouchers.hold(code, 'bob', b);
    const consumed = await vouchers.consume(b);
    assert.deepEqual(consumed.map((h) => h.status), ['consumed']);
    assert.deepEqual(await vouchers.consume(b), consumed);
    assert.deepEqual(await vouchers.release(b), consumed, 'a redemption is not released');
    assert.deepEqual((await vouchers.get(code)).usage, { held: 0, consumed: 1 });
    await rejectsWithCode(vouchers.hold(code, 'carol', uniqueId('order')), 'VOUCHER_EXHAUSTED');
    // Orders without vouchers: nothing to do.
    assert.deepEqual(await vouchers.consume(uniqueId('order')), []);
  });

  it('a hold released before it was taken (compensation first) is refused later', async () => {
    const code = newCode();
    await vouchers.upsert(code, { scope: 'platform', type: 'percent', rateBps: 500 });
    const orderId = uniqueId('order');
    assert.deepEqual(await vouchers.release(orderId), []);
    await rejectsWithCode(vouchers.hold(code, 'alice', orderId), 'INVALID_STATE');
    assert.deepEqual(await liveUsages(code), { total: 0, maxPerUser: 0 });
  });

  it('an expired hold frees its slot; consuming it afterwards is refused', async () => {
    const code = newCode();
    await vouchers.upsert(code, { scope: 'platform', type: 'percent', rateBps: 500, totalLimit: 1, perUserLimit: 1 });
    const crashed = uniqueId('order');
    const stale: VoucherHold = await vouchers.hold(code, 'alice', crashed);
    assert.equal(Date.parse(stale.expiresAt) - Date.parse(stale.heldAt), holdTimeoutMs);
    await rejectsWithCode(vouchers.hold(code, 'bob', uniqueId('order')), 'VOUCHER_EXHAUSTED');
    await rejectsWithCode(vouchers.hold(code, 'alice', uniqueId('order')), 'VOUCHER_USER_LIMIT');

    clockMs += holdTimeoutMs; // exactly at expiry the hold no longer counts
    assert.deepEqual((await vouchers.get(code)).usage, { held: 0, consumed: 0 });
    const next = await vouchers.hold(code, 'alice', uniqueId('order'));
    assert.equal(next.status, 'held');
    await rejectsWithCode(vouchers.consume(crashed), 'VOUCHER_HOLD_EXPIRED');
    assert.deepEqual(await liveUsages(code), { total: 1, maxPerUser: 1 });
  });

  it('consuming an order\'s vouchers is all or nothing: one hold ran out -> nothing consumed, counts unchanged', async () => {
    const [fresh, stale] = [newCode(), newCode()];
    await vouchers.upsert(fresh, { scope: 'platform', type: 'percent', rateBps: 500, totalLimit: 10, perUserLimit: 1 });
    await vouchers.upsert(stale, { scope: 'shipping', type: 'free_shipping', totalLimit: 10, perUserLimit: 1 });
    const orderId = uniqueId('order');
    await vouchers.hold(stale, 'alice', orderId);
    clockMs += holdTimeoutMs / 2;
    await vouchers.hold(fresh, 'alice', orderId);
    clockMs += holdTimeoutMs / 2; // the first hold has just run out, the second has half its time left
    const before = [await vouchers.get(fresh), await vouchers.get(stale)].map((v) => v.usage);
    assert.deepEqual(before, [{ held: 1, consumed: 0 }, { held: 0, consumed: 0 }]);

    const refusal = await rejectsWithCode(vouchers.consume(orderId), 'VOUCHER_HOLD_EXPIRED');
    assert.deepEqual(refusal.details.codes, [stale]);
    await rejectsWithCode(vouchers.consume(orderId), 'VOUCHER_HOLD_EXPIRED'); // a retry: the same verdict
    assert.deepEqual([await vouchers.get(fresh), await vouchers.get(stale)].map((v) => v.usage), before, 'nothing consumed');
    const { rows } = await pool.query<{ code: string; status: string }>('SELECT code, status FROM voucher_usages WHERE order_id = $1 ORDER BY code', [orderId]);
    assert.deepEqual(
      Object.fromEntries(rows.map((r) => [r.code, r.status])),
      { [fresh]: 'held', [stale]: 'expired' },
    );
    // The saga then compensates: the surviving hold is released, so the failed order keeps no
    // redemption and no per-user slot.
    await vouchers.release(orderId);
    assert.deepEqual((await vouchers.get(fresh)).usage, { held: 0, consumed: 0 });
    assert.equal((await vouchers.hold(fresh, 'alice', uniqueId('order'))).status, 'held', "alice's slot is free again");
  });

  it('consume refuses and consumes nothing when one of the order\'s holds was released; consuming twice is one effect', async () => {
    const [a, b] = [newCode(), newCode()];
    await vouchers.upsert(a, { scope: 'platform', type: 'percent', rateBps: 500, perUserLimit: 1 });
    await vouchers.upsert(b, { scope: 'shipping', type: 'free_shipping', perUserLimit: 1 });
    const gone = uniqueId('order');
    await vouchers.hold(a, 'bob', gone);
    await vouchers.hold(b, 'bob', gone);
    // One hold ended behind the order's back (as a concurrent compensation would end it).
    await pool.query(`UPDATE voucher_usages SET status = 'released', ended_at = now() WHERE order_id = $1 AND code = $2`, [gone, b]);
    await rejectsWithCode(vouchers.consume(gone), 'INVALID_STATE');
    assert.deepEqual((await vouchers.get(a)).usage, { held: 1, consumed: 0 }, 'the other hold was not consumed');
    await vouchers.release(gone);

    const ok = uniqueId('order');
    await vouchers.hold(a, 'carol', ok);
    await vouchers.hold(b, 'carol', ok);
    const first = await vouchers.consume(ok);
    assert.deepEqual(first.map((h) => [h.code, h.status]), [a, b].sort().map((code) => [code, 'consumed']));
    clockMs += 1000;
    assert.deepEqual(await vouchers.consume(ok), first, 'a repeat changes nothing (same consumedAt)');
    assert.deepEqual([await vouchers.get(a), await vouchers.get(b)].map((v) => v.usage.consumed), [1, 1]);
    // The redemptions are final: even after the hold time they are not reclaimed.
    clockMs += holdTimeoutMs * 2;
    await rejectsWithCode(vouchers.hold(a, 'carol', uniqueId('order')), 'VOUCHER_USER_LIMIT');
  });

  it('the expiry sweep ends expired holds', async () => {
    // A clock long before any other test's: the sweep (oldest due first, in bounded batches, over
    // the whole shared test database) then finds this test's holds and no one else's.
    clockMs = Date.parse('2001-01-01T00:00:00Z');
    const code = newCode();
    await vouchers.upsert(code, { scope: 'platform', type: 'percent', rateBps: 500, totalLimit: 3 });
    const orders = [uniqueId('order'), uniqueId('order')];
    for (const o of orders) await vouchers.hold(code, 'alice', o);
    clockMs += holdTimeoutMs + 1;
    // The shared test database may hold older expired holds of other tests: a sweep takes a bounded
    // batch, oldest first, so sweep until this voucher's holds are reached (bounded).
    let swept = 0;
    for (let batch = 0; batch < 100; batch++) {
      const ended = await vouchers.expireHolds();
      swept += ended;
      const { rows: live } = await pool.query("SELECT 1 FROM voucher_usages WHERE code = $1 AND status = 'held'", [code]);
      if (live.length === 0 || ended === 0) break;
    }
    assert.ok(swept >= 2);
    const { rows } = await pool.query<{ status: string }>('SELECT status FROM voucher_usages WHERE code = $1', [code]);
    assert.deepEqual(rows.map((r) => r.status), ['expired', 'expired']);
    const after = await Promise.all([1, 2, 3].map((i) => vouchers.hold(code, `u${i}`, uniqueId('order'))));
    assert.equal(after.length, 3);
  });

  it('checks the validity window with the injected clock', async () => {
    const code = newCode();
    await vouchers.upsert(code, {
      scope: 'platform',
      type: 'percent',
      rateBps: 500,
      startsAt: new Date(start + 60_000).toISOString(),
      expiresAt: new Date(start + 120_000).toISOString(),
    });
    await rejectsWithCode(vouchers.hold(code, 'alice', uniqueId('order')), 'VOUCHER_NOT_STARTED');
    await rejectsWithCode(vouchers.check(code, 'alice'), 'VOUCHER_NOT_STARTED');
    clockMs = start + 60_000;
    assert.equal((await vouchers.hold(code, 'alice', uniqueId('order'))).status, 'held');
    assert.equal((await vouchers.check(code, 'alice')).code, code);
    clockMs = start + 120_000;
    await rejectsWithCode(vouchers.hold(code, 'alice', uniqueId('order')), 'VOUCHER_EXPIRED');
    await rejectsWithCode(vouchers.check(code, 'alice'), 'VOUCHER_EXPIRED');
  });

  it('unknown codes are VOUCHER_NOT_FOUND; check() is read-only and applies both limits', async () => {
    const unknown = newCode();
    await rejectsWithCode(vouchers.hold(unknown, 'alice', uniqueId('order')), 'VOUCHER_NOT_FOUND');
    await rejectsWithCode(vouchers.check(unknown, 'alice'), 'VOUCHER_NOT_FOUND');
    await assert.rejects(vouchers.get(unknown), NotFoundError);

    const code = newCode();
    await vouchers.upsert(code, { scope: 'platform', type: 'percent', rateBps: 500, totalLimit: 2, perUserLimit: 1 });
    await vouchers.check(code, 'alice');
    await vouchers.check(code, 'alice');
    assert.deepEqual((await vouchers.get(code)).usage, { held: 0, consumed: 0 });
    await vouchers.hold(code, 'alice', uniqueId('order'));
    await rejectsWithCode(vouchers.check(code, 'alice'), 'VOUCHER_USER_LIMIT');
    await vouchers.hold(code, 'bob', uniqueId('order'));
    await rejectsWithCode(vouchers.check(code, 'carol'), 'VOUCHER_EXHAUSTED');
  });

  it('raising the limit of an exhausted voucher opens it again (the Redis state follows the definition)', async () => {
    const code = newCode();
    await vouchers.upsert(code, { scope: 'platform', type: 'fixed', amount: 50, totalLimit: 1 });
    await vouchers.hold(code, 'alice', uniqueId('order'));
    await rejectsWithCode(vouchers.hold(code, 'bob', uniqueId('order')), 'VOUCHER_EXHAUSTED');
    const updated = await vouchers.upsert(code, { scope: 'platform', type: 'fixed', amount: 50, totalLimit: 2 });
    assert.equal(updated.version, 2);
    assert.equal((await vouchers.hold(code, 'bob', uniqueId('order'))).status, 'held');
    await rejectsWithCode(vouchers.hold(code, 'carol', uniqueId('order')), 'VOUCHER_EXHAUSTED');
  });

  it('refuses invalid definitions and hold arguments, writing nothing', async () => {
    const sellerId = await makeSeller(createCatalogService({ pool }));
    const cases: [Record<string, unknown>, string][] = [
      [{ scope: 'platform', type: 'free_shipping' }, 'type'],
      [{ scope: 'shipping', type: 'percent', rateBps: 100 }, 'type'],
      [{ scope: 'seller', type: 'fixed', amount: 100 }, 'sellerId'],
      [{ scope: 'platform', type: 'percent' }, 'rateBps'],
      [{ scope: 'platform', type: 'percent', rateBps: 10_001 }, 'rateBps'],
      [{ scope: 'platform', type: 'fixed', amount: -1 }, 'amount'],
      [{ scope: 'platform', type: 'fixed', amount: 1, totalLimit: -1 }, 'totalLimit'],
      [{ scope: 'platform', type: 'fixed', amount: 1, perUserLimit: 1.5 }, 'perUserLimit'],
      [{ scope: 'platform', type: 'fixed', amount: 1, startsAt: '2031-01-02T00:00:00Z', expiresAt: '2031-01-01T00:00:00Z' }, 'expiresAt'],
      [{ scope: 'platform', type: 'fixed', amount: 1, startsAt: 'yesterday' }, 'startsAt'],
      [{ scope: 'seller', sellerId: uniqueId('nosuch'), type: 'fixed', amount: 1 }, 'sellerId'],
    ];
    for (const [input, path] of cases) {
      const code = newCode();
      await rejectsValidation(vouchers.upsert(code, input as never), path);
      await assert.rejects(vouchers.get(code), NotFoundError);
    }
    const ok = newCode();
    await vouchers.upsert(ok, { scope: 'seller', sellerId, category: 'books', type: 'fixed', amount: 200, minSpend: 1000 });
    await rejectsValidation(vouchers.upsert('bad code!', { scope: 'platform', type: 'fixed', amount: 1 }), 'code');
    await rejectsValidation(vouchers.hold(ok, '', uniqueId('order')), 'userId');
    await rejectsValidation(vouchers.hold(ok, 'alice', ''), 'orderId');
  });
});
