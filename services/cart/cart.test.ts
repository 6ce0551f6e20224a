import assert from 'node:assert/strict';
import { limits } from '../limits';
import { testPool, testRedis, uniqueId } from '../../test/support/env';
import { createCatalogService } from '../catalog';
import { makeProduct, makeSeller, rejectsValidation, rejectsWithCode } from '../catalog/test-support';
import { createVoucherService } from '../vouchers';
import { createCheckoutPricing } from '../checkout-pricing';
import { price } from '../../pricing';
import { createCartService } from './index';
import { cartKey } from './redis-cart';

describe('cart service @integration', function () {
  this.timeout(60_000);
  const pool = testPool();
  const redis = testRedis();
  const catalog = createCatalogService({ pool });
  let clockMs = Date.parse('2031-06-01T12:00:00Z');
  const now = (): Date => new Date(clockMs);
  const vouchers = createVoucherService({ pool, redis, now });
  const cart = createCartService({ redis, catalog, vouchers, now });
  let sellerId: string;

  const newUser = (): string => uniqueId('user');
  const newCode = (): string => uniqueId('C').replace(/[^A-Za-z0-9_-]/g, '');

  before(async () => {
    sellerId = await makeSeller(catalog, 300);
  });

  it('adds to an existing line, sets and removes lines, and prices from the catalog at read time', async () => {
    const user = newUser();
    const a = await makeProduct(catalog, { sellerId, unitPrice: 1000, category: 'books' });
    const b = await makeProduct(catalog, { sellerId, unitPrice: 250 });
    await cart.addItem(user, { sku: a, quantity: 1 });
    await cart.addItem(user, { sku: b, quantity: 4 });
    let view = await cart.addItem(user, { sku: a, quantity: 2 });
    assert.deepEqual(view.items, [
      { sku: a, sellerId, name: `Product ${a}`, category: 'books', unitPrice: 1000, quantity: 3 },
      { sku: b, sellerId, name: `Product ${b}`, category: 'general', unitPrice: 250, quantity: 4 },
    ]);
    assert.equal(view.pricing?.totals.merchandiseGross, 4000);
    assert.equal(view.pricing?.totals.shipping, 300);

    await catalog.upsertProduct(a, { sellerId, name: 'Renamed', category: 'books', unitPrice: 900, currency: 'USD' });
    view = await cart.get(user);
    assert.equal(view.items[0]?.unitPrice, 900, 'the price comes from the catalog at read time');
    assert.equal(view.items[0]?.name, 'Renamed');

    view = await cart.setItemQuantity(user, b, 1);
    assert.equal(view.items[1]?.quantity, 1);
    view = await cart.removeItem(user, a);
    assert.deepEqual(view.items.map((i) => i.sku), [b]);
    view = await cart.removeItem(user, a);
    assert.deepEqual(view.items.map((i) => i.sku), [b]);
    view = await cart.removeItem(user, b);
    assert.deepEqual(view, { userId: user, items: [], vouchers: [], pricing: null, currency: null, voucherIssues: [], problems: [] });
    await rejectsValidation(cart.setItemQuantity(user, b, 2), 'sku');
  });

  it('concurrent changes to one cart lose nothing', async () => {
    const user = newUser();
    const skus = await Promise.all(Array.from({ length: 10 }, () => makeProduct(catalog, { sellerId })));
    await Promise.all([
      ...Array.from({ length: 60 }, () => cart.addItem(user, { sku: skus[0] ?? '', quantity: 1 })),
      ...skus.slice(1).flatMap((sku) => Array.from({ length: 5 }, () => cart.addItem(user, { sku, quantity: 2 }))),
    ]);
    const view = await cart.get(user);
    assert.equal(view.items.length, 10);
    assert.equal(view.items.find((i) => i.sku === skus[0])?.quantity, 60);
    for (const sku of skus.slice(1)) assert.equal(view.items.find((i) => i.sku === sku)?.quantity, 10);
  });

  it('enforces the limits atomically: lines, sellers, quantity per line', async () => {
    const user = newUser();
    const skus = await Promise.all(Array.from({ length: limits.cartLinesMax + 5 }, () => makeProduct(catalog, { sellerId })));
    // 105 concurrent adds of distinct skus: exactly 100 lines, the others refused.
    const outcomes = await Promise.allSettled(skus.map((sku) => cart.addItem(user, { sku, quantity: 1 })));
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, limits.cartLinesMax);
    assert.equal((await cart.get(user)).items.length, limits.cartLinesMax);
    const extra = await makeProduct(catalog, { sellerId });
    await rejectsValidation(cart.addItem(user, { sku: extra, quantity: 1 }), 'sku');

    const other = newUser();
    const sellers = await Promise.all(Array.from({ length: limits.cartSellersMax + 1 }, () => makeSeller(catalog)));
    const perSeller = await Promise.all(sellers.map((s) => makeProduct(catalog, { sellerId: s })));
    for (const sku of perSeller.slice(0, limits.cartSellersMax)) await cart.addItem(other, { sku, quantity: 1 });
    await rejectsValidation(cart.addItem(other, { sku: perSeller[limits.cartSellersMax] ?? '', quantity: 1 }), 'sku');

    const third = newUser();
    const sku = skus[0] ?? '';
    await rejectsValidation(cart.addItem(third, { sku, quantity: 0 }), 'quantity');
    await rejectsValidation(cart.addItem(third, { sku, quantity: -1 }), 'quantity');
    await rejectsValidation(cart.addItem(third, { sku, quantity: 1000 }), 'quantity');
    await cart.addItem(third, { sku, quantity: 999 });
    await rejectsValidation(cart.addItem(third, { sku, quantity: 1 }), 'quantity');
    await rejectsValidation(cart.setItemQuantity(third, sku, 0), 'quantity');
    assert.equal((await cart.get(third)).items[0]?.quantity, 999);
  });

  it('refuses unknown skus and a second currency, changing nothing', async () => {
    const user = newUser();
    const usd = await makeProduct(catalog, { sellerId, currency: 'USD' });
    const jpy = await makeProduct(catalog, { sellerId, currency: 'JPY' });
    await cart.addItem(user, { sku: usd, quantity: 1 });
    const before = await redis.hgetall(cartKey(user));
    await rejectsValidation(cart.addItem(user, { sku: uniqueId('nosuch'), quantity: 1 }), 'sku');
    await rejectsValidation(cart.addItem(user, { sku: jpy, quantity: 1 }), 'sku');
    await rejectsValidation(cart.addItem(user, { sku: 'bad sku', quantity: 1 }), 'sku');
    assert.deepEqual(await redis.hgetall(cartKey(user)), before);
    // Once the cart is empty again, another currency is fine.
    await cart.removeItem(user, usd);
    assert.equal((await cart.addItem(user, { sku: jpy, quantity: 1 })).currency, 'JPY');
  });

  it('accepts a voucher only when the voucher service and the pricing engine accept it', async () => {
    const user = newUser();
    const sku = await makeProduct(catalog, { sellerId, unitPrice: 5000 });
    await cart.addItem(user, { sku, quantity: 1 });

    const tenOff = newCode();
    await vouchers.upsert(tenOff, { scope: 'platform', type: 'percent', rateBps: 1000, perUserLimit: 1 });
    let view = await cart.applyVoucher(user, tenOff);
    assert.deepEqual(view.vouchers, [tenOff]);
    // (Amounts are not asserted: other test runs share the database and may leave global campaigns.)
    assert.ok(!view.pricing?.rejectedVouchers.some((r) => r.code === tenOff));
    assert.deepEqual((await cart.applyVoucher(user, tenOff)).vouchers, [tenOff], 'applying twice is a no-op');
    assert.deepEqual((await vouchers.get(tenOff)).usage, { held: 0, consumed: 0 }, 'a cart takes no slot');

    const stacked = newCode();
    await vouchers.upsert(stacked, { scope: 'platform', type: 'fixed', amount: 100 });
    const stacking = await rejectsWithCode(cart.applyVoucher(user, stacked), 'VOUCHER_REJECTED');
    assert.deepEqual(stacking.details, { code: stacked, reason: 'STACKING_NOT_ALLOWED' });

    const bigSpend = newCode();
    await vouchers.upsert(bigSpend, { scope: 'shipping', type: 'free_shipping', minSpend: 1_000_000 });
    const minSpend = await rejectsWithCode(cart.applyVoucher(user, bigSpend), 'VOUCHER_REJECTED');
    assert.equal(minSpend.details.reason, 'MIN_SPEND_NOT_MET');

    const otherSeller = newCode();
    await vouchers.upsert(otherSeller, { scope: 'seller', sellerId: await makeSeller(catalog), type: 'fixed', amount: 100 });
    assert.equal((await rejectsWithCode(cart.applyVoucher(user, otherSeller), 'VOUCHER_REJECTED')).details.reason, 'NOT_APPLICABLE');

    await rejectsWithCode(cart.applyVoucher(user, newCode()), 'VOUCHER_NOT_FOUND');
    const expired = newCode();
    await vouchers.upsert(expired, { scope: 'platform', type: 'fixed', amount: 1, expiresAt: new Date(clockMs - 1000).toISOString() });
    await rejectsWithCode(cart.applyVoucher(user, expired), 'VOUCHER_EXPIRED');
    const future = newCode();
    await vouchers.upsert(future, { scope: 'platform', type: 'fixed', amount: 1, startsAt: new Date(clockMs + 60_000).toISOString() });
    await rejectsWithCode(cart.applyVoucher(user, future), 'VOUCHER_NOT_STARTED');
    const exhausted = newCode();
    await vouchers.upsert(exhausted, { scope: 'platform', type: 'fixed', amount: 1, totalLimit: 0 });
    await rejectsWithCode(cart.applyVoucher(user, exhausted), 'VOUCHER_EXHAUSTED');
    const usedUp = newCode();
    await vouchers.upsert(usedUp, { scope: 'shipping', type: 'free_shipping', perUserLimit: 1 });
    await vouchers.hold(usedUp, user, uniqueId('order'));
    await rejectsWithCode(cart.applyVoucher(user, usedUp), 'VOUCHER_USER_LIMIT');

    const empty = newUser();
    assert.equal((await rejectsWithCode(cart.applyVoucher(empty, tenOff), 'VOUCHER_REJECTED')).details.reason, 'NOT_APPLICABLE');

    assert.deepEqual((await cart.get(user)).vouchers, [tenOff], 'refused codes were not added');
    view = await cart.removeVoucher(user, tenOff);
    assert.deepEqual(view.vouchers, []);
    assert.ok(!view.pricing?.discounts.some((d) => d.source === `voucher:${tenOff}`));
  });

  it('holds at most 5 voucher codes, and reports codes that can no longer be priced', async () => {
    const user = newUser();
    const sellers = await Promise.all([0, 1, 2, 3].map(() => makeSeller(catalog)));
    for (const s of sellers) await cart.addItem(user, { sku: await makeProduct(catalog, { sellerId: s }), quantity: 1 });
    const codes = [newCode(), newCode(), newCode(), newCode(), newCode(), newCode()];
    await vouchers.upsert(codes[0] ?? '', { scope: 'platform', type: 'percent', rateBps: 100, expiresAt: new Date(clockMs + 60_000).toISOString() });
    await vouchers.upsert(codes[1] ?? '', { scope: 'shipping', type: 'free_shipping' });
    for (const [i, s] of sellers.entries()) await vouchers.upsert(codes[i + 2] ?? '', { scope: 'seller', sellerId: s, type: 'fixed', amount: 10 });
    for (const code of codes.slice(0, 5)) await cart.applyVoucher(user, code);
    await rejectsValidation(cart.applyVoucher(user, codes[5] ?? ''), 'code');
    assert.deepEqual((await cart.get(user)).vouchers, codes.slice(0, 5));

    clockMs += 60_000;
    const view = await cart.get(user);
    assert.deepEqual(view.voucherIssues, [{ code: codes[0], reason: 'VOUCHER_EXPIRED' }]);
    assert.ok(!view.pricing?.discounts.some((d) => d.source === `voucher:${codes[0]}`));
    clockMs -= 60_000;
  });

  describe('a cart beyond the pricing engine\'s amount limit (2^53 - 1)', () => {
    before(async () => {
      // The rates every test of the suite prices with (global configuration): 10 % tax.
      await catalog.putPricingConfig({ defaultTaxRateBps: 1000, taxRatesBps: {}, defaultCommissionBps: 500, commissionRatesBps: {} });
    });

    it('an add or a higher quantity that would not price is refused with nothing written', async () => {
      const user = newUser();
      const small = await makeProduct(catalog, { sellerId, unitPrice: 1000 });
      const big = await makeProduct(catalog, { sellerId, unitPrice: 2e15 });
      await cart.addItem(user, { sku: small, quantity: 1 });
      const ok = await cart.addItem(user, { sku: big, quantity: 2 });
      assert.equal(ok.pricing?.totals.merchandiseGross, 4e15 + 1000);
      const before = await redis.hgetall(cartKey(user));
      const refusal = await rejectsValidation(cart.addItem(user, { sku: big, quantity: 3 }), 'sku'); // 5 units: gross 1e16
      assert.match(refusal.message, /AMOUNT_LIMIT/);
      await rejectsValidation(cart.setItemQuantity(user, big, 5), 'quantity');
      assert.deepEqual(await redis.hgetall(cartKey(user)), before, 'nothing was written');
      const view = await cart.get(user);
      assert.deepEqual(view.items.map((i) => [i.sku, i.quantity]), [[small, 1], [big, 2]]);
      assert.deepEqual(view.problems, []);
    });

    it('a cart that stops pricing (a price raised later) stays readable with its problem lines, and can be fixed', async () => {
      const user = newUser();
      const small = await makeProduct(catalog, { sellerId, unitPrice: 1000 });
      const big = await makeProduct(catalog, { sellerId, unitPrice: 1e15 });
      await cart.addItem(user, { sku: small, quantity: 1 });
      await cart.addItem(user, { sku: big, quantity: 2 });
      // Gross 9e15 is still within the limit, but with 10 % tax the grand total is not.
      await catalog.upsertProduct(big, { sellerId, name: 'Yacht', category: 'general', unitPrice: 4.5e15, currency: 'USD' });
      let view = await cart.get(user);
      assert.equal(view.pricing, null);
      assert.deepEqual(view.items.map((i) => [i.sku, i.unitPrice, i.quantity]), [[small, 1000, 1], [big, 4.5e15, 2]]);
      assert.deepEqual(view.problems.map((p) => [p.sku, p.code]), [[big, 'AMOUNT_LIMIT']]);
      assert.match(view.problems[0]?.message ?? '', /limit/);

      await rejectsValidation(cart.addItem(user, { sku: small, quantity: 1 }), 'sku');
      await rejectsValidation(cart.setItemQuantity(user, big, 3), 'quantity');
      view = await cart.setItemQuantity(user, big, 1); // lowering is how the buyer fixes it
      assert.deepEqual(view.problems, []);
      assert.equal(view.pricing?.totals.merchandiseGross, 4.5e15 + 1000);

      // Too large even for one unit: removing the line fixes it.
      await catalog.upsertProduct(big, { sellerId, name: 'Yacht', category: 'general', unitPrice: 9e15, currency: 'USD' });
      view = await cart.setItemQuantity(user, big, 1);
      assert.deepEqual(view.problems.map((p) => [p.sku, p.code]), [[big, 'AMOUNT_LIMIT']]);
      view = await cart.removeItem(user, big);
      assert.deepEqual(view.problems, []);
      assert.equal(view.pricing?.totals.merchandiseGross, 1000);
    });

    it('lines that only together exceed the limit name the largest line', async () => {
      const user = newUser();
      const [a, b] = await Promise.all([makeProduct(catalog, { sellerId, unitPrice: 4e15 }), makeProduct(catalog, { sellerId, unitPrice: 2e15 })]);
      await cart.addItem(user, { sku: a, quantity: 1 });
      await cart.addItem(user, { sku: b, quantity: 1 });
      await catalog.upsertProduct(b, { sellerId, name: 'B', category: 'general', unitPrice: 5e15, currency: 'USD' });
      const view = await cart.get(user);
      assert.deepEqual(view.problems.map((p) => [p.sku, p.code]), [[b, 'CART_AMOUNT_LIMIT']]);
    });

    it('a product moved to another currency is a problem line, not an unreadable cart', async () => {
      const user = newUser();
      const [usd, other] = await Promise.all([makeProduct(catalog, { sellerId }), makeProduct(catalog, { sellerId })]);
      await cart.addItem(user, { sku: usd, quantity: 1 });
      await cart.addItem(user, { sku: other, quantity: 1 });
      await catalog.upsertProduct(other, { sellerId, name: 'Moved', category: 'general', unitPrice: 100, currency: 'JPY' });
      const view = await cart.get(user);
      assert.equal(view.pricing, null);
      assert.equal(view.currency, 'USD');
      assert.deepEqual(view.problems.map((p) => [p.sku, p.code]), [[other, 'CURRENCY_MISMATCH']]);
      assert.deepEqual((await cart.removeItem(user, other)).problems, []);
    });
  });

  it('prices vouchers with the checkout\'s rule: a code outside its window is left out by the cart and refused by the checkout', async () => {
    const checkoutPricing = createCheckoutPricing({ catalog, vouchers, now });
    const user = newUser();
    const sku = await makeProduct(catalog, { sellerId, unitPrice: 5000 });
    const code = newCode();
    await vouchers.upsert(code, { scope: 'platform', type: 'fixed', amount: 100, expiresAt: new Date(clockMs + 60_000).toISOString() });
    await cart.addItem(user, { sku, quantity: 1 });
    await cart.applyVoucher(user, code);
    const snapshot = await cart.snapshot(user);
    const inWindow = await checkoutPricing.buildPricingInput(snapshot.lines, snapshot.vouchers);
    assert.deepEqual((inWindow.vouchers ?? []).map((v) => v.code), [code]);
    assert.equal(price(inWindow).totals.grandTotal, (await cart.get(user)).pricing?.totals.grandTotal, 'the same price');

    clockMs += 60_000; // the voucher's expiry: from this instant on it is outside its window
    try {
      const view = await cart.get(user);
      assert.deepEqual(view.voucherIssues, [{ code, reason: 'VOUCHER_EXPIRED' }]);
      assert.ok(!view.pricing?.discounts.some((d) => d.source === `voucher:${code}`));
      const refusal = await rejectsWithCode(checkoutPricing.buildPricingInput(snapshot.lines, snapshot.vouchers), 'VOUCHER_EXPIRED');
      assert.equal(refusal.details.code, code);
    } finally {
      clockMs -= 60_000;
    }
  });

  it('lives 24 hours after its last change: every change refreshes the lifetime, a read does not', async () => {
    const user = newUser();
    const sku = await makeProduct(catalog, { sellerId });
    await cart.addItem(user, { sku, quantity: 1 });
    const ttl = await redis.pttl(cartKey(user));
    assert.ok(ttl > limits.cartTtlMs - 60_000 && ttl <= limits.cartTtlMs, `ttl ${ttl}`);

    await redis.pexpire(cartKey(user), 5_000); // as if almost a day had passed
    await cart.get(user);
    assert.ok((await redis.pttl(cartKey(user))) <= 5_000, 'reading does not extend the lifetime');
    await cart.setItemQuantity(user, sku, 2);
    assert.ok((await redis.pttl(cartKey(user))) > limits.cartTtlMs - 60_000);

    await redis.pexpire(cartKey(user), 5_000);
    await cart.addItem(user, { sku, quantity: 1 });
    assert.ok((await redis.pttl(cartKey(user))) > limits.cartTtlMs - 60_000);

    const snapshot = await cart.snapshot(user);
    assert.deepEqual(snapshot, { userId: user, lines: [{ sku, quantity: 3 }], vouchers: [], entries: { lines: [{ sku, seq: 1, quantity: 3 }], vouchers: [] } });
    await cart.clear(user);
    assert.equal(await redis.exists(cartKey(user)), 0);
  });
});
