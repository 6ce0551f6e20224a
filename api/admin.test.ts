/** Catalog administration over HTTP (role admin): sellers, products with stock, vouchers, promotions, campaigns. */
import assert from 'node:assert/strict';
import { createSimulatorGateway } from '../services/payments';
import { devServerClient } from '../test/support/temporal';
import { testConfig, testPool, testRedis, uniqueId } from '../test/support/env';
import { startHarness, type Harness } from './test-support';
import { wireServices } from './wiring';

interface ErrorBody {
  error: { code: string; details: { issues?: { path: string }[] } };
}
const codeOf = (body: unknown): string => (body as ErrorBody).error.code;
const issuePaths = (body: unknown): string[] => ((body as ErrorBody).error.details.issues ?? []).map((i) => i.path);

describe('catalog administration over HTTP @integration', () => {
  let harness: Harness;
  let closeTemporal: () => Promise<void>;
  let admin: string;

  before(async () => {
    const { client, close } = await devServerClient();
    closeTemporal = close;
    const gateway = createSimulatorGateway({ baseUrl: 'http://127.0.0.1:9', webhookSecret: testConfig.webhookSecret });
    harness = await startHarness({ probes: {}, ...wireServices({ pool: testPool(), redis: testRedis(), temporal: client, gateway }) });
    admin = harness.token('admin', 'ops');
  });
  after(async () => {
    await harness.close();
    await closeTemporal();
  });

  it('creates a seller and a product with stock, and reads the stock back', async () => {
    const sellerId = uniqueId('seller');
    const sku = uniqueId('sku');
    const seller = await harness.request('PUT', `/v1/admin/sellers/${sellerId}`, { token: admin, body: { name: 'Seller X', shippingFee: 300 } });
    assert.equal(seller.status, 200);
    assert.deepEqual(seller.body, { sellerId, name: 'Seller X', shippingFee: 300 });
    const withAccount = await harness.request('PUT', `/v1/admin/sellers/${sellerId}`, { token: admin, body: { name: 'Seller X', shippingFee: 300, stripeAccountId: 'acct_1TestSellerX' } });
    assert.equal(withAccount.status, 200);
    const read = await harness.request('GET', `/v1/admin/sellers/${sellerId}`, { token: admin });
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, { sellerId, name: 'Seller X', shippingFee: 300, stripeAccountId: 'acct_1TestSellerX' }, 'the admin read shows the connected account');
    assert.equal((await harness.request('GET', `/v1/admin/sellers/${uniqueId('nobody')}`, { token: admin })).status, 404);
    const product = await harness.request('PUT', `/v1/admin/products/${sku}`, {
      token: admin,
      body: { sellerId, name: 'Headphones', category: 'electronics', unitPrice: 1000, currency: 'USD', stock: 7 },
    });
    assert.equal(product.status, 200);
    const got = await harness.request('GET', `/v1/admin/products/${sku}`, { token: admin });
    assert.equal(got.status, 200);
    assert.deepEqual((got.body as { stock: unknown }).stock, { onHand: 7, reserved: 0, sold: 0, available: 7 });
    // PUT is idempotent: the same body again changes nothing.
    const again = await harness.request('PUT', `/v1/admin/products/${sku}`, {
      token: admin,
      body: { sellerId, name: 'Headphones', category: 'electronics', unitPrice: 1000, currency: 'USD', stock: 7 },
    });
    assert.deepEqual(again.body, got.body);
  });

  it('creates vouchers and shows their usage', async () => {
    const code = uniqueId('V').replace(/-/g, '_');
    const res = await harness.request('PUT', `/v1/admin/vouchers/${code}`, {
      token: admin,
      body: { scope: 'platform', type: 'percent', rateBps: 1000, maxDiscount: 15000, totalLimit: 100, perUserLimit: 1 },
    });
    assert.equal(res.status, 200);
    const got = await harness.request('GET', `/v1/admin/vouchers/${code}`, { token: admin });
    assert.equal(got.status, 200);
    assert.deepEqual((got.body as { usage: unknown }).usage, { held: 0, consumed: 0 });
    assert.equal((got.body as { rateBps: number }).rateBps, 1000);
  });

  it('sets promotions, campaigns and the pricing configuration', async () => {
    const sellerId = uniqueId('seller');
    await harness.request('PUT', `/v1/admin/sellers/${sellerId}`, { token: admin, body: { name: 'S', shippingFee: 0 } });
    const promo = await harness.request('PUT', `/v1/admin/promotions/${uniqueId('promo')}`, { token: admin, body: { sellerId, type: 'percent', rateBps: 500, active: false } });
    assert.equal(promo.status, 200);
    const campaign = await harness.request('PUT', `/v1/admin/campaigns/${uniqueId('camp')}`, {
      token: admin,
      body: { category: uniqueId('cat'), sellerId: null, type: 'percent', rateBps: 500, maxDiscount: null, minSpend: 0, fundedBy: 'platform', active: false },
    });
    assert.equal(campaign.status, 200);
    // The pricing configuration is global and shared with other test files: read it, write it back unchanged.
    const current = await testPool().query<{ default_tax_rate_bps: number; tax_rates_bps: Record<string, number>; default_commission_bps: number; commission_rates_bps: Record<string, number> }>(
      'SELECT * FROM pricing_config',
    );
    const row = current.rows[0]!;
    const config = await harness.request('PUT', '/v1/admin/pricing-config', {
      token: admin,
      body: { defaultTaxRateBps: row.default_tax_rate_bps, taxRatesBps: row.tax_rates_bps, defaultCommissionBps: row.default_commission_bps, commissionRatesBps: row.commission_rates_bps },
    });
    assert.equal(config.status, 200);
  });

  it('is for admin only: buyers and sellers get 403, no token 401', async () => {
    const path = `/v1/admin/sellers/${uniqueId('seller')}`;
    for (const token of [harness.token('buyer', 'b'), harness.token('seller', 's', 'seller_x')]) {
      const res = await harness.request('PUT', path, { token, body: { name: 'S', shippingFee: 0 } });
      assert.equal(res.status, 403);
    }
    assert.equal((await harness.request('PUT', path, { body: { name: 'S', shippingFee: 0 } })).status, 401);
    assert.equal((await harness.request('GET', `/v1/admin/products/${uniqueId('sku')}`, { token: harness.token('buyer', 'b') })).status, 403);
  });

  it('answers 404 for an unknown product, voucher, or the seller of a new product', async () => {
    assert.equal((await harness.request('GET', `/v1/admin/products/${uniqueId('sku')}`, { token: admin })).status, 404);
    assert.equal((await harness.request('GET', `/v1/admin/vouchers/${uniqueId('V')}`, { token: admin })).status, 404);
    const res = await harness.request('PUT', `/v1/admin/products/${uniqueId('sku')}`, {
      token: admin,
      body: { sellerId: uniqueId('nobody'), name: 'x', category: 'c', unitPrice: 1, currency: 'USD', stock: 1 },
    });
    assert.ok([404, 400].includes(res.status), String(res.status));
  });

  it('validates every body and names the bad fields; a refused write changes nothing', async () => {
    const sellerId = uniqueId('seller');
    const cases: [string, string, unknown, string[]][] = [
      ['PUT', `/v1/admin/sellers/${sellerId}`, { name: '', shippingFee: -1 }, ['body.name', 'body.shippingFee']],
      ['PUT', `/v1/admin/sellers/${sellerId}`, { name: 'S', shippingFee: 1.5 }, ['body.shippingFee']],
      ['PUT', `/v1/admin/sellers/${sellerId}`, { name: 'S', shippingFee: 2 ** 53 }, ['body.shippingFee']],
      ['PUT', `/v1/admin/sellers/${sellerId}`, { name: 'S', shippingFee: '300' }, ['body.shippingFee']],
      ['PUT', `/v1/admin/sellers/${sellerId}`, { name: 'S', shippingFee: 3, extra: true }, ['body.extra']],
      ['PUT', `/v1/admin/sellers/bad%20id`, { name: 'S', shippingFee: 3 }, ['path.sellerId']],
      ['PUT', `/v1/admin/products/${uniqueId('sku')}`, { sellerId, name: 'x', category: 'c', unitPrice: 1, currency: 'usd', stock: -1 }, ['body.currency', 'body.stock']],
      ['PUT', `/v1/admin/vouchers/${uniqueId('V')}`, { scope: 'shipping', type: 'percent', rateBps: 100 }, ['body.type']],
      ['PUT', `/v1/admin/vouchers/${uniqueId('V')}`, { scope: 'platform', type: 'percent', rateBps: 10001 }, ['body.rateBps']],
      ['PUT', `/v1/admin/vouchers/${uniqueId('V')}`, { scope: 'seller', type: 'fixed', amount: 200 }, ['body.sellerId']],
      ['PUT', `/v1/admin/vouchers/${uniqueId('V')}`, { scope: 'platform', type: 'fixed', amount: 1, expiresAt: 'tomorrow' }, ['body.expiresAt']],
      ['PUT', '/v1/admin/pricing-config', { defaultTaxRateBps: -1, defaultCommissionBps: 500 }, ['body.defaultTaxRateBps']],
    ];
    for (const [method, path, body, fields] of cases) {
      const res = await harness.request(method, path, { token: admin, body });
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}: ${res.text}`);
      assert.equal(codeOf(res.body), 'VALIDATION_FAILED');
      for (const field of fields) assert.ok(issuePaths(res.body).includes(field), `${JSON.stringify(body)}: expected ${field} in ${JSON.stringify(issuePaths(res.body))}`);
    }
    const { rows } = await testPool().query('SELECT 1 FROM sellers WHERE seller_id = $1', [sellerId]);
    assert.equal(rows.length, 0);
  });
});
