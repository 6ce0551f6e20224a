import assert from 'node:assert/strict';
import { BusinessError, NotFoundError } from '../../lib/errors';
import { testPool, uniqueId } from '../../test/support/env';
import { createCatalogService } from '../catalog';
import { makeProduct, makeSeller, rejectsValidation, rejectsWithCode } from '../catalog/test-support';
import { createInventoryService, type InventoryService, type ShortLine } from './index';

interface Audit {
  onHand: number;
  reserved: number;
  sold: number;
  /** Units of the SKU's reservation lines by status. */
  lines: Record<string, number>;
}

/** The bucket sums of a SKU next to what its reservation lines say: they must agree. */
async function audit(sku: string): Promise<Audit> {
  const pool = testPool();
  const buckets = await pool.query<{ on_hand: string; reserved: string; sold: string }>(
    'SELECT sum(on_hand) AS on_hand, sum(reserved) AS reserved, sum(sold) AS sold FROM inventory_buckets WHERE sku = $1',
    [sku],
  );
  const lines = await pool.query<{ status: string; units: string }>(
    'SELECT status, sum(quantity) AS units FROM inventory_reservations WHERE sku = $1 GROUP BY status',
    [sku],
  );
  const b = buckets.rows[0];
  return {
    onHand: Number(b?.on_hand ?? 0),
    reserved: Number(b?.reserved ?? 0),
    sold: Number(b?.sold ?? 0),
    lines: Object.fromEntries(lines.rows.map((r) => [r.status, Number(r.units)])),
  };
}

async function reservationRows(orderId: string): Promise<number> {
  const { rows } = await testPool().query<{ n: string }>('SELECT count(*) AS n FROM inventory_reservations WHERE order_id = $1', [orderId]);
  return Number(rows[0]?.n ?? 0);
}

async function concurrentSingleUnitReservations(inventory: InventoryService, sku: string, attempts: number) {
  const outcomes = await Promise.allSettled(
    Array.from({ length: attempts }, (_, i) => inventory.reserve(uniqueId(`order-${i}`), [{ sku, quantity: 1 }])),
  );
  const succeeded = outcomes.filter((o) => o.status === 'fulfilled').length;
  const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
  return { succeeded, failures };
}

describe('inventory service @integration', function () {
  this.timeout(60_000);
  const pool = testPool();
  const catalog = createCatalogService({ pool });
  const inventory = createInventoryService({ pool });
  let sellerId: string;

  before(async () => {
    sellerId = await makeSeller(catalog);
  });

  for (const bucketCount of [1, 8]) {
    const layout = bucketCount === 1 ? 'a single row' : `${bucketCount} buckets`;
    it(`500 concurrent reservations of one unit of a 100-unit SKU (${layout}): exactly 100 succeed`, async () => {
      const sku = await makeProduct(catalog, { sellerId, stock: 100 });
      if (bucketCount > 1) await inventory.setBucketCount(sku, bucketCount);
      const { succeeded, failures } = await concurrentSingleUnitReservations(inventory, sku, 500);
      assert.equal(succeeded, 100);
      assert.equal(failures.length, 400);
      for (const err of failures) {
        assert.ok(err instanceof BusinessError && err.code === 'INSUFFICIENT_STOCK', String(err));
        const lines = err.details.lines as ShortLine[];
        assert.deepEqual(lines, [{ sku, requested: 1, available: 0 }]);
      }
      assert.deepEqual(await audit(sku), { onHand: 100, reserved: 100, sold: 0, lines: { reserved: 100, rejected: 400 } });
      assert.equal((await inventory.getStock(sku)).available, 0);
    });
  }

  it('reserves all lines of a call or none, and lists every short line', async () => {
    const [a, b, c] = [
      await makeProduct(catalog, { sellerId, stock: 5 }),
      await makeProduct(catalog, { sellerId, stock: 1 }),
      await makeProduct(catalog, { sellerId, stock: 2 }),
    ];
    const orderId = uniqueId('order');
    const err = await rejectsWithCode(
      inventory.reserve(orderId, [
        { sku: a, quantity: 3 },
        { sku: b, quantity: 2 },
        { sku: c, quantity: 3 },
      ]),
      'INSUFFICIENT_STOCK',
    );
    const short = (err.details.lines as ShortLine[]).sort((x, y) => x.sku.localeCompare(y.sku));
    assert.deepEqual(short, [{ sku: b, requested: 2, available: 1 }, { sku: c, requested: 3, available: 2 }].sort((x, y) => x.sku.localeCompare(y.sku)));
    for (const [sku, onHand] of [[a, 5], [b, 1], [c, 2]] as const) {
      assert.deepEqual(await inventory.getStock(sku), { onHand, reserved: 0, sold: 0, available: onHand });
    }
  });

  it('a retry with the same order id returns the same outcome and never reserves twice', async () => {
    const sku = await makeProduct(catalog, { sellerId, stock: 10 });
    const orderId = uniqueId('order');
    const first = await inventory.reserve(orderId, [{ sku, quantity: 4 }]);
    const again = await Promise.all(Array.from({ length: 10 }, () => inventory.reserve(orderId, [{ sku, quantity: 4 }])));
    for (const r of again) assert.deepEqual(r, first);
    assert.equal((await inventory.getStock(sku)).reserved, 4);

    // A refused call stays refused, even once stock arrives.
    const refusedOrder = uniqueId('order');
    await rejectsWithCode(inventory.reserve(refusedOrder, [{ sku, quantity: 7 }]), 'INSUFFICIENT_STOCK');
    await inventory.setStock(sku, 100);
    const err = await rejectsWithCode(inventory.reserve(refusedOrder, [{ sku, quantity: 7 }]), 'INSUFFICIENT_STOCK');
    assert.deepEqual(err.details.lines, [{ sku, requested: 7, available: 6 }]);
    assert.equal((await inventory.getStock(sku)).reserved, 4);

    // The same order with other lines is a conflict, not a second reservation.
    await rejectsWithCode(inventory.reserve(orderId, [{ sku, quantity: 5 }]), 'RESERVATION_CONFLICT');
  });

  it('concurrent duplicates of one multi-line call reserve once', async () => {
    const a = await makeProduct(catalog, { sellerId, stock: 3 });
    const b = await makeProduct(catalog, { sellerId, stock: 3 });
    const orderId = uniqueId('order');
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        inventory.reserve(orderId, [
          { sku: a, quantity: 2 },
          { sku: b, quantity: 1 },
        ]),
      ),
    );
    const expected = [
      { sku: a, quantity: 2, status: 'reserved' },
      { sku: b, quantity: 1, status: 'reserved' },
    ].sort((x, y) => (x.sku < y.sku ? -1 : 1));
    for (const r of results) assert.deepEqual(r.lines, expected);
    assert.equal((await inventory.getStock(a)).reserved, 2);
    assert.equal((await inventory.getStock(b)).reserved, 1);
  });

  it('release, commit and restock are idempotent', async () => {
    const otherSeller = await makeSeller(catalog);
    const mine = await makeProduct(catalog, { sellerId, stock: 10 });
    const theirs = await makeProduct(catalog, { sellerId: otherSeller, stock: 10 });
    const orderId = uniqueId('order');
    await inventory.reserve(orderId, [{ sku: mine, quantity: 2 }]);
    await inventory.reserve(orderId, [{ sku: theirs, quantity: 3 }]);

    const committed = await inventory.commit(orderId);
    assert.deepEqual(committed.lines.map((l) => l.quantity).sort(), [2, 3]);
    assert.deepEqual((await inventory.commit(orderId)).lines, []);
    assert.deepEqual(await inventory.getStock(mine), { onHand: 8, reserved: 0, sold: 2, available: 8 });

    const restocked = await inventory.restock(orderId, otherSeller);
    assert.deepEqual(restocked.lines, [{ sku: theirs, quantity: 3 }]);
    assert.deepEqual((await inventory.restock(orderId, otherSeller)).lines, []);
    assert.deepEqual(await inventory.getStock(theirs), { onHand: 10, reserved: 0, sold: 0, available: 10 });
    assert.deepEqual(await inventory.getStock(mine), { onHand: 8, reserved: 0, sold: 2, available: 8 });

    // Release after commit returns nothing: sold units come back only through restock.
    assert.deepEqual((await inventory.release(orderId)).lines, []);
    assert.equal((await inventory.getStock(mine)).sold, 2);
  });

  it('release returns the units, is a no-op the second time, and closes the order', async () => {
    const sku = await makeProduct(catalog, { sellerId, stock: 5 });
    const orderId = uniqueId('order');
    await inventory.reserve(orderId, [{ sku, quantity: 5 }]);
    assert.deepEqual((await inventory.release(orderId)).lines, [{ sku, quantity: 5 }]);
    assert.deepEqual((await inventory.release(orderId)).lines, []);
    assert.deepEqual(await inventory.getStock(sku), { onHand: 5, reserved: 0, sold: 0, available: 5 });
    // A late duplicate of the reserve call reports the recorded reservation (now released) and takes nothing.
    const late = await inventory.reserve(orderId, [{ sku, quantity: 5 }]);
    assert.deepEqual(late.lines, [{ sku, quantity: 5, status: 'released' }]);
    assert.equal((await inventory.getStock(sku)).reserved, 0);
    // New lines for a released order are refused; a released order cannot be committed.
    const other = await makeProduct(catalog, { sellerId, stock: 5 });
    await rejectsWithCode(inventory.reserve(orderId, [{ sku: other, quantity: 1 }]), 'INVALID_STATE');
    await rejectsWithCode(inventory.commit(orderId), 'INVALID_STATE');
  });

  it('release before reserve (a compensation that overtook its action) leaves the order closed', async () => {
    const sku = await makeProduct(catalog, { sellerId, stock: 5 });
    const orderId = uniqueId('order');
    assert.deepEqual((await inventory.release(orderId)).lines, []);
    await rejectsWithCode(inventory.reserve(orderId, [{ sku, quantity: 1 }]), 'INVALID_STATE');
    assert.equal((await inventory.getStock(sku)).reserved, 0);
    assert.equal(await reservationRows(orderId), 0);
  });

  it('refuses invalid input with a typed validation error and writes nothing', async () => {
    const sku = await makeProduct(catalog, { sellerId, stock: 5 });
    const cases: [string, { sku: string; quantity: number }[], string][] = [
      ['zero quantity', [{ sku, quantity: 0 }], 'lines[0].quantity'],
      ['negative quantity', [{ sku, quantity: -2 }], 'lines[0].quantity'],
      ['fractional quantity', [{ sku, quantity: 1.5 }], 'lines[0].quantity'],
      ['unknown sku', [{ sku, quantity: 1 }, { sku: uniqueId('nosuch'), quantity: 1 }], 'lines[1].sku'],
      ['duplicate sku', [{ sku, quantity: 1 }, { sku, quantity: 1 }], 'lines[1].sku'],
      ['101 lines', Array.from({ length: 101 }, (_, i) => ({ sku: `${sku}-${i}`, quantity: 1 })), 'lines'],
      ['no lines', [], 'lines'],
    ];
    for (const [name, lines, path] of cases) {
      const orderId = uniqueId('order');
      await rejectsValidation(inventory.reserve(orderId, lines), path).catch((err: Error) => assert.fail(`${name}: ${err.message}`));
      assert.equal(await reservationRows(orderId), 0, name);
    }
    await rejectsValidation(inventory.reserve('', [{ sku, quantity: 1 }]), 'orderId');
    assert.deepEqual(await inventory.getStock(sku), { onHand: 5, reserved: 0, sold: 0, available: 5 });
  });

  it('database constraints refuse negative or inconsistent quantities even from a buggy caller', async () => {
    const sku = await makeProduct(catalog, { sellerId, stock: 3 });
    const violations = [
      'UPDATE inventory_buckets SET reserved = on_hand + 1 WHERE sku = $1',
      'UPDATE inventory_buckets SET on_hand = -1 WHERE sku = $1',
      'UPDATE inventory_buckets SET sold = -1 WHERE sku = $1',
      'UPDATE inventory_buckets SET reserved = -1 WHERE sku = $1',
      `INSERT INTO inventory_reservations (order_id, sku, seller_id, quantity, status, bucket_nos, bucket_quantities)
       VALUES ('bad-' || $1, $1, 'x', 0, 'reserved', '{0}', '{0}')`,
      `INSERT INTO inventory_reservations (order_id, sku, seller_id, quantity, status, bucket_nos, bucket_quantities)
       VALUES ('bad-' || $1, $1, 'x', 3, 'reserved', '{0}', '{2}')`,
    ];
    for (const sql of violations) {
      await assert.rejects(pool.query(sql, [sku]), (err: { code?: string }) => err.code === '23514', sql);
    }
    assert.deepEqual(await inventory.getStock(sku), { onHand: 3, reserved: 0, sold: 0, available: 3 });
  });

  it('stock cannot be set below the reserved units; bucket changes and rebalancing lose nothing', async () => {
    const sku = await makeProduct(catalog, { sellerId, stock: 20 });
    await inventory.reserve(uniqueId('order'), [{ sku, quantity: 7 }]);
    await rejectsValidation(inventory.setStock(sku, 6), 'onHand');
    await rejectsValidation(catalog.upsertProduct(sku, { sellerId, name: 'x', category: 'general', unitPrice: 1, currency: 'USD', stock: 6 }), 'stock');
    assert.deepEqual(await inventory.getStock(sku), { onHand: 20, reserved: 7, sold: 0, available: 13 });

    const layout = await inventory.setBucketCount(sku, 4);
    assert.equal(layout.bucketCount, 4);
    assert.deepEqual(layout.stock, { onHand: 20, reserved: 7, sold: 0, available: 13 });
    const available = layout.buckets.map((b) => b.onHand - b.reserved);
    assert.ok(Math.max(...available) - Math.min(...available) <= 1, `uneven: ${JSON.stringify(layout.buckets)}`);

    for (let i = 0; i < 5; i += 1) await inventory.reserve(uniqueId('order'), [{ sku, quantity: 2 }]);
    const back = await inventory.setBucketCount(sku, 1);
    assert.deepEqual(back.stock, { onHand: 20, reserved: 17, sold: 0, available: 3 });
    // Buckets beyond the count keep their reserved units until those are released or committed.
    assert.equal(back.buckets.filter((b) => b.bucketNo > 0).reduce((s, b) => s + b.onHand - b.reserved, 0), 0);
    const after = await inventory.reserve(uniqueId('order'), [{ sku, quantity: 3 }]);
    assert.equal(after.lines[0]?.status, 'reserved');
    assert.equal((await inventory.rebalance(sku)).stock.available, 0);
  });

  it('a line larger than any single bucket is split across buckets (near sell-out)', async () => {
    const sku = await makeProduct(catalog, { sellerId, stock: 10 });
    await inventory.setBucketCount(sku, 4);
    const orderId = uniqueId('order');
    await inventory.reserve(orderId, [{ sku, quantity: 9 }]);
    assert.deepEqual(await audit(sku), { onHand: 10, reserved: 9, sold: 0, lines: { reserved: 9 } });
    await rejectsWithCode(inventory.reserve(uniqueId('order'), [{ sku, quantity: 2 }]), 'INSUFFICIENT_STOCK');
    await inventory.commit(orderId);
    assert.deepEqual(await inventory.getStock(sku), { onHand: 1, reserved: 0, sold: 9, available: 1 });
    await inventory.restock(orderId, sellerId);
    assert.deepEqual(await inventory.getStock(sku), { onHand: 10, reserved: 0, sold: 0, available: 10 });
  });

  it('unknown skus are not found for the stock operations', async () => {
    await assert.rejects(inventory.getStock(uniqueId('nosuch')), NotFoundError);
    await assert.rejects(inventory.setBucketCount(uniqueId('nosuch'), 2), NotFoundError);
  });
});
