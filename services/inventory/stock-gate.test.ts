import assert from 'node:assert/strict';
import { testPool, testRedis, uniqueId } from '../../test/support/env';
import { createCatalogService } from '../catalog';
import { makeProduct, makeSeller, rejectsWithCode } from '../catalog/test-support';
import { createInventoryService, createStockGate, stockGateKeys, type StockGate } from './index';

describe('sold-out gate @integration', function () {
  this.timeout(60_000);
  const pool = testPool();
  const redis = testRedis();
  const gate = createStockGate({ pool, redis });
  const catalog = createCatalogService({ pool, stockGate: gate });
  const inventory = createInventoryService({ pool, stockGate: gate });
  let sellerId: string;

  const known = async (sku: string): Promise<number | undefined> => (await gate.read([sku])).get(sku);

  before(async () => {
    sellerId = await makeSeller(catalog);
  });

  it('follows every availability change at once: stock set, reserve, refused reserve, release, commit, restock, rebalance', async () => {
    const sku = await makeProduct(catalog, { sellerId, stock: 3 });
    assert.equal(await known(sku), 3, 'the admin stock change refreshed it');

    const first = uniqueId('order');
    await inventory.reserve(first, [{ sku, quantity: 3 }]);
    assert.equal(await known(sku), 0);
    assert.deepEqual(await gate.shortLines([{ sku, quantity: 1 }]), [{ sku, requested: 1, available: 0 }]);

    await rejectsWithCode(inventory.reserve(uniqueId('order'), [{ sku, quantity: 1 }]), 'INSUFFICIENT_STOCK');
    assert.equal(await known(sku), 0);

    await inventory.release(first);
    assert.equal(await known(sku), 3, 'a release makes the units sellable at once');
    assert.deepEqual(await gate.shortLines([{ sku, quantity: 3 }]), []);

    const sold = uniqueId('order');
    await inventory.reserve(sold, [{ sku, quantity: 2 }]);
    assert.equal(await known(sku), 1);
    await inventory.commit(sold);
    assert.equal(await known(sku), 1, 'a commit moves reserved units to sold: availability unchanged');
    await inventory.restock(sold, sellerId);
    assert.equal(await known(sku), 3, 'a refunded parcel returns its units at once');

    await inventory.setStock(sku, 7);
    assert.equal(await known(sku), 7);
    await inventory.setBucketCount(sku, 4);
    await inventory.rebalance(sku);
    assert.equal(await known(sku), 7);
    await catalog.upsertProduct(sku, { sellerId, name: 'Restocked', category: 'general', unitPrice: 1000, currency: 'USD', stock: 0 });
    assert.equal(await known(sku), 0);
    await catalog.upsertProduct(sku, { sellerId, name: 'Restocked', category: 'general', unitPrice: 1000, currency: 'USD', stock: 5 });
    assert.equal(await known(sku), 5);
  });

  it('lists every short line, and never refuses on missing data', async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => makeProduct(catalog, { sellerId, stock: 1 })));
    const lines = [
      { sku: a!, quantity: 2 },
      { sku: b!, quantity: 1 },
      { sku: c!, quantity: 5 },
      { sku: uniqueId('nosuch'), quantity: 1 },
    ];
    assert.deepEqual(await gate.shortLines(lines), [
      { sku: a, requested: 2, available: 1 },
      { sku: c, requested: 5, available: 1 },
    ]);
    // An entry gone (Redis flushed, evicted) is unknown: nothing is refused for it.
    await redis.hdel(stockGateKeys.avail, a!, c!);
    assert.deepEqual(await gate.shortLines(lines), []);
    // Malformed entries are unknown too.
    await redis.hset(stockGateKeys.avail, c!, 'garbage');
    assert.deepEqual(await gate.shortLines(lines), []);
  });

  it('an entry older than the backstop age is unknown', async () => {
    const sku = await makeProduct(catalog, { sellerId, stock: 0 });
    let clock = Date.now();
    const aging = createStockGate({ pool, redis, nowMs: () => clock, ageMsMax: 60_000 });
    await aging.refreshSkus([sku]);
    assert.deepEqual(await aging.shortLines([{ sku, quantity: 1 }]), [{ sku, requested: 1, available: 0 }]);
    clock += 60_001;
    assert.deepEqual(await aging.shortLines([{ sku, quantity: 1 }]), []);
  });

  it('a refresh that read Postgres earlier never overwrites a later one', async () => {
    const sku = await makeProduct(catalog, { sellerId, stock: 4 });
    // As if a refresh numbered after every other one had recorded 9 units.
    const gen = Number(await redis.get(stockGateKeys.gen)) + 1_000_000;
    await redis.hset(stockGateKeys.avail, sku, `9|${gen}|${Date.now()}`);
    await gate.refreshSkus([sku]);
    assert.equal(await known(sku), 9, 'the lower-numbered refresh was ignored');
    await redis.hdel(stockGateKeys.avail, sku);
    await gate.refreshSkus([sku]);
    assert.equal(await known(sku), 4);
  });

  it('concurrent refreshes settle on the final availability', async () => {
    const sku = await makeProduct(catalog, { sellerId, stock: 50 });
    await Promise.all(Array.from({ length: 40 }, () => inventory.reserve(uniqueId('order'), [{ sku, quantity: 1 }])));
    assert.equal(await known(sku), 10);
  });

  it('a failed refresh never fails a reserve or commit; it fails a release, whose retry refreshes', async () => {
    const sku = await makeProduct(catalog, { sellerId, stock: 2 });
    const broken: Pick<StockGate, 'refreshSkus' | 'refreshOrder'> = {
      refreshSkus: () => Promise.reject(new Error('redis down')),
      refreshOrder: () => Promise.reject(new Error('redis down')),
    };
    const withBrokenGate = createInventoryService({ pool, stockGate: broken });
    const stale = uniqueId('order');
    await withBrokenGate.reserve(stale, [{ sku, quantity: 1 }]);
    assert.equal(await known(sku), 2, 'stale (too optimistic) until the next refresh: the saga decides meanwhile');
    await withBrokenGate.commit(stale);
    await inventory.restock(stale, sellerId);
    assert.equal(await known(sku), 2);

    const orderId = uniqueId('order');
    await inventory.reserve(orderId, [{ sku, quantity: 2 }]);
    assert.equal(await known(sku), 0);
    await assert.rejects(withBrokenGate.release(orderId), /redis down/);
    assert.equal(await known(sku), 0, 'the units are back in Postgres, the gate does not know yet');
    assert.deepEqual((await inventory.release(orderId)).lines, [], 'the retry moves nothing');
    assert.equal(await known(sku), 2, 'but refreshes');
  });
});
