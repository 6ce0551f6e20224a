import assert from 'node:assert/strict';
import { NotFoundError } from '../../lib/errors';
import { testPool, uniqueId } from '../../test/support/env';
import { price } from '../../pricing';
import { createCatalogService } from './index';
import { makeProduct, makeSeller, rejectsValidation } from './test-support';

describe('catalog service @integration', function () {
  this.timeout(30_000);
  const pool = testPool();
  const catalog = createCatalogService({ pool });

  it('upserts sellers and products; a product reads back with its stock', async () => {
    const sellerId = await makeSeller(catalog, 450);
    assert.deepEqual(await catalog.getSeller(sellerId), { sellerId, name: `Seller ${sellerId}`, shippingFee: 450 });
    const sku = uniqueId('sku');
    const body = { sellerId, name: 'Phone', category: 'electronics', unitPrice: 19_999, currency: 'USD', stock: 12 };
    const created = await catalog.upsertProduct(sku, body);
    assert.deepEqual(created, {
      sku,
      sellerId,
      name: 'Phone',
      category: 'electronics',
      unitPrice: 19_999,
      currency: 'USD',
      stock: { onHand: 12, reserved: 0, sold: 0, available: 12 },
    });
    // PUT semantics: repeating changes nothing; without `stock` the stock is kept.
    assert.deepEqual(await catalog.upsertProduct(sku, body), created);
    const { stock: _stock, ...withoutStock } = body;
    const renamed = await catalog.upsertProduct(sku, { ...withoutStock, name: 'Phone 2', unitPrice: 17_999 });
    assert.equal(renamed.name, 'Phone 2');
    assert.equal(renamed.unitPrice, 17_999);
    assert.deepEqual(renamed.stock, created.stock);
    await assert.rejects(catalog.getProduct(uniqueId('nosuch')), NotFoundError);
  });

  it('refuses invalid input with the fields named, and writes nothing', async () => {
    const sellerId = await makeSeller(catalog);
    const good = { sellerId, name: 'Lamp', category: 'home', unitPrice: 500, currency: 'USD', stock: 1 };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, unitPrice: -1 }, 'unitPrice'],
      [{ ...good, unitPrice: 1.5 }, 'unitPrice'],
      [{ ...good, unitPrice: 2 ** 53 }, 'unitPrice'],
      [{ ...good, currency: 'usd' }, 'currency'],
      [{ ...good, currency: 'XYZ' }, 'currency'],
      [{ ...good, stock: -3 }, 'stock'],
      [{ ...good, name: '' }, 'name'],
      [{ ...good, sellerId: uniqueId('nosuch') }, 'sellerId'],
      [{ ...good, colour: 'red' }, ''],
    ];
    for (const [input, path] of cases) {
      const sku = uniqueId('sku');
      await rejectsValidation(catalog.upsertProduct(sku, input as never), path);
      await assert.rejects(catalog.getProduct(sku), NotFoundError);
    }
    await rejectsValidation(catalog.upsertProduct('no spaces allowed', good), 'sku');
    await rejectsValidation(catalog.upsertSeller(uniqueId('seller'), { name: 'x', shippingFee: -5 }), 'shippingFee');
    await rejectsValidation(catalog.upsertPromotion(uniqueId('promo'), { sellerId, type: 'percent', rateBps: 20_000 } as never), 'rateBps');
    await rejectsValidation(catalog.upsertPromotion(uniqueId('promo'), { sellerId, type: 'bogus' } as never), 'type');
    await rejectsValidation(catalog.upsertCampaign(uniqueId('camp'), { type: 'fixed', amount: 5 } as never), 'fundedBy');
    await rejectsValidation(catalog.putPricingConfig({ defaultTaxRateBps: -1, defaultCommissionBps: 0 }), 'defaultTaxRateBps');
  });

  it('builds the pricing input from catalog prices, promotions, campaigns and rates', async () => {
    const x = await makeSeller(catalog, 300);
    const y = await makeSeller(catalog, 500);
    const category = uniqueId('cat');
    const a = await makeProduct(catalog, { sellerId: x, unitPrice: 1000, category });
    const b = await makeProduct(catalog, { sellerId: y, unitPrice: 2000, category: 'books' });
    const promo = await catalog.upsertPromotion(uniqueId('promo'), { sellerId: x, skus: [a], type: 'percent', rateBps: 500 });
    await catalog.upsertPromotion(uniqueId('promo'), { sellerId: x, type: 'fixed_per_unit', amount: 1, active: false });
    const campaign = await catalog.upsertCampaign(uniqueId('camp'), { category, type: 'fixed', amount: 100, fundedBy: 'platform' });
    const config = await catalog.getPricingConfig();
    // Re-putting the current configuration is a no-op (tests share the one configuration row).
    assert.deepEqual(await catalog.putPricingConfig(config), config);

    const { input, products } = await catalog.buildPricingInput(
      [
        { sku: b, quantity: 2 },
        { sku: a, quantity: 1 },
      ],
      [{ code: 'TEN', scope: 'platform', type: 'percent', rateBps: 1000 }],
    );
    assert.deepEqual(products.map((p) => p.sku), [b, a]);
    assert.equal(input.currency, 'USD');
    assert.deepEqual(input.lines, [
      { lineId: b, sku: b, sellerId: y, category: 'books', unitPrice: 2000, quantity: 2 },
      { lineId: a, sku: a, sellerId: x, category, unitPrice: 1000, quantity: 1 },
    ]);
    assert.deepEqual(input.shippingFees, { [y]: 500, [x]: 300 });
    const { active: _a, ...promoInput } = promo;
    assert.deepEqual(input.sellerPromotions, [promoInput], 'only the active promotions of the cart’s sellers');
    const { active: _c, ...campaignInput } = campaign;
    assert.ok(input.categoryCampaigns?.some((c) => c.id === campaign.id));
    assert.deepEqual(input.categoryCampaigns?.find((c) => c.id === campaign.id), campaignInput);
    assert.deepEqual(input.vouchers, [{ code: 'TEN', scope: 'platform', type: 'percent', rateBps: 1000 }]);
    assert.equal(typeof input.defaultTaxRateBps, 'number');
    assert.equal(input.loyalty, undefined);
    // The engine accepts what the catalog builds.
    const breakdown = price(input);
    assert.equal(breakdown.lines.length, 2);
    assert.ok(breakdown.discounts.some((d) => d.source === `promotion:${promo.id}`));
  });

  it('refuses unknown skus, duplicate lines and mixed currencies', async () => {
    const sellerId = await makeSeller(catalog);
    const usd = await makeProduct(catalog, { sellerId, currency: 'USD' });
    const jpy = await makeProduct(catalog, { sellerId, currency: 'JPY' });
    await rejectsValidation(catalog.buildPricingInput([{ sku: usd, quantity: 1 }, { sku: uniqueId('nosuch'), quantity: 1 }]), 'lines[1].sku');
    await rejectsValidation(catalog.buildPricingInput([{ sku: usd, quantity: 1 }, { sku: usd, quantity: 2 }]), 'lines[1].sku');
    await rejectsValidation(catalog.buildPricingInput([{ sku: usd, quantity: 1 }, { sku: jpy, quantity: 1 }]), 'lines[1].sku');
    await rejectsValidation(catalog.buildPricingInput([{ sku: usd, quantity: 0 }]), 'lines[0].quantity');
    await rejectsValidation(catalog.buildPricingInput([]), 'lines');
    await rejectsValidation(catalog.buildPricingInput(Array.from({ length: 101 }, (_, i) => ({ sku: `s${i}`, quantity: 1 }))), 'lines');
  });
});
