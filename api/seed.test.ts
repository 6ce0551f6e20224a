/**
 * scripts/seed.ts: the demo scenario is seeded into a throwaway database of its own (the seed writes
 * fixed ids such as seller_x, which must not collide with the shared test database), prices to
 * the brief's 7722, and seedIfEmpty seeds only once. The walkthrough's tokens verify with the secret.
 */
import assert from 'node:assert/strict';
import { createPool } from '../db/pool';
import { demoGrandTotalMinor, demoProducts, demoVouchers, seed, seedIfEmpty, walkthrough } from '../scripts/seed';
import { price } from '../pricing';
import { createServices } from '../services';
import { createSimulatorGateway } from '../services/payments';
import { exclusiveRedisUrl } from '../test/support/env';
import { createRedis } from '../lib/redis';
import { authenticate } from './auth';
import { createScratchDatabase, type ScratchDatabase } from './test-support';

describe('demo seed @integration', function () {
  this.timeout(60_000);
  let database: ScratchDatabase;

  before(async () => {
    database = await createScratchDatabase('checkout_seed');
  });
  after(async () => {
    await database?.drop();
  });

  it('seeds the scenario once; it prices to 7722 with every item and voucher', async () => {
    const pool = createPool(database.url, { max: 4 });
    // A Redis database of its own, flushed: the seed's voucher codes are fixed.
    const redis = createRedis(exclusiveRedisUrl(13), 'seed-test');
    try {
      await redis.flushdb();
      assert.equal(await seedIfEmpty({ pool, redis }), true);
      assert.equal(await seedIfEmpty({ pool, redis }), false);
      await seed({ pool, redis }); // explicit re-seed: idempotent upserts
      const services = createServices({ pool, redis, gateway: createSimulatorGateway({ baseUrl: 'http://127.0.0.1:9', webhookSecret: 'x' }) });
      const input = await services.checkoutPricing.buildPricingInput(
        Object.keys(demoProducts).map((sku) => ({ sku, quantity: 1 })),
        ['X2OFF', 'VOUCHER10', 'FREESHIP'],
      );
      const breakdown = price(input);
      assert.equal(breakdown.totals.grandTotal, demoGrandTotalMinor);
      assert.deepEqual(breakdown.rejectedVouchers, []);
      assert.deepEqual(breakdown.splits.sellers, { seller_x: 1060, seller_y: 2200, seller_z: 5250 });
      assert.equal(Object.keys(demoVouchers).length, 3);
      assert.equal((await services.catalog.getProduct('sku-a')).stock.onHand, 100);
    } finally {
      await pool.end();
      redis.disconnect();
    }
  });

  it('prints a walkthrough whose tokens the API accepts', () => {
    const text = walkthrough({ apiUrl: 'http://localhost:3000', jwtSecret: 'secret-1' });
    const token = (name: string): string => new RegExp(`export ${name}='([^']+)'`).exec(text)![1]!;
    assert.deepEqual(authenticate(`Bearer ${token('BUYER')}`, 'secret-1'), { userId: 'demo-buyer', role: 'buyer' });
    assert.deepEqual(authenticate(`Bearer ${token('SELLER_X')}`, 'secret-1'), { userId: 'demo-seller-x', role: 'seller', sellerId: 'seller_x' });
    assert.equal(authenticate(`Bearer ${token('ADMIN')}`, 'secret-1').role, 'admin');
    assert.throws(() => authenticate(`Bearer ${token('BUYER')}`, 'another'), { code: 'UNAUTHENTICATED' });
    assert.match(text, /Idempotency-Key/);
    assert.match(text, /confirm-receipt/);
  });
});
