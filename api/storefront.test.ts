/**
 * The storefront's API: the public catalog read (GET /v1/products) against the test database, the
 * dev sign-in (tokens only for the configured demo users; absent with NODE_ENV=production, from
 * the routes and the OpenAPI document), and the bundle served under `/` with helmet's CSP.
 */
import assert from 'node:assert/strict';
import { buildStorefront } from '../web/build';
import { testPool, uniqueId } from '../test/support/env';
import { authenticate } from './auth';
import { createCatalogView } from './catalog-view';
import { demoUsers, devRoutesEnabled } from './routes/dev';
import { startHarness, type Harness } from './test-support';
import { createCatalogService } from '../services/catalog';

describe('storefront API @integration', function () {
  this.timeout(30_000);
  let harness: Harness;
  const secret = 'storefront-test-secret';
  const sellers = { a: uniqueId('sf_a'), b: uniqueId('sf_b') }; // a's skus sort before b's

  before(async () => {
    await buildStorefront({ ifStale: true, quiet: true });
    const catalog = createCatalogService({ pool: testPool() });
    await catalog.upsertSeller(sellers.a, { name: 'Shop A', shippingFee: 300 });
    await catalog.upsertSeller(sellers.b, { name: 'Shop B', shippingFee: 0 });
    for (let i = 0; i < 3; i++) {
      await catalog.upsertProduct(`${sellers.a}-p${i}`, { sellerId: sellers.a, name: `A ${i}`, category: 'books', unitPrice: 1000 + i, currency: 'USD', stock: 5 + i });
    }
    await catalog.upsertProduct(`${sellers.b}-p0`, { sellerId: sellers.b, name: 'B 0', category: 'toys', unitPrice: 250, currency: 'JPY', stock: 0 });
    harness = await startHarness({ probes: {}, config: { jwtSecret: secret }, catalogView: createCatalogView(testPool()) });
  });
  after(async () => {
    await harness?.close();
  });

  it('lists products with seller, shipping fee and available stock, filtered and paged', async () => {
    const first = await harness.request('GET', `/v1/products?sellerId=${sellers.a},${sellers.b}&limit=2`);
    assert.equal(first.status, 200, first.text);
    const page1 = first.body as { products: { sku: string; sellerName: string; shippingFee: number; available: number; unitPrice: number }[]; nextCursor?: string };
    assert.deepEqual(page1.products.map((p) => [p.sku, p.sellerName, p.shippingFee, p.available, p.unitPrice]), [
      [`${sellers.a}-p0`, 'Shop A', 300, 5, 1000],
      [`${sellers.a}-p1`, 'Shop A', 300, 6, 1001],
    ]);
    assert.ok(page1.nextCursor);
    const second = await harness.request('GET', `/v1/products?sellerId=${sellers.a},${sellers.b}&limit=2&cursor=${page1.nextCursor}`);
    const page2 = second.body as { products: { sku: string; available: number; currency: string }[]; nextCursor?: string };
    assert.deepEqual(page2.products.map((p) => [p.sku, p.available, p.currency]), [[`${sellers.a}-p2`, 7, 'USD'], [`${sellers.b}-p0`, 0, 'JPY']]);
    assert.equal(page2.nextCursor, undefined);
    for (const bad of ['sellerId=a,,b', 'limit=0', 'limit=101', 'cursor=not-a-cursor!', 'other=1']) {
      const res = await harness.request('GET', `/v1/products?${bad}`);
      assert.equal(res.status, 400, `${bad}: ${res.text}`);
      assert.equal((res.body as { error: { code: string } }).error.code, 'VALIDATION_FAILED');
    }
  });

  it('signs dev tokens for the demo users only', async () => {
    const users = await harness.request('GET', '/v1/dev/users');
    assert.equal(users.status, 200);
    assert.deepEqual((users.body as { users: unknown[] }).users, demoUsers);
    const res = await harness.request('POST', '/v1/dev/tokens', { body: { userId: 'demo-seller-y' } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(authenticate(`Bearer ${(res.body as { token: string }).token}`, secret), { userId: 'demo-seller-y', role: 'seller', sellerId: 'seller_y' });
    const unknown = await harness.request('POST', '/v1/dev/tokens', { body: { userId: 'someone-else' } });
    assert.equal(unknown.status, 404);
    assert.equal((await harness.request('POST', '/v1/dev/tokens', { body: { userId: 'demo-admin', role: 'admin' } })).status, 400);
  });

  it('with NODE_ENV=production the dev sign-in is not mounted nor documented', async () => {
    assert.equal(devRoutesEnabled({ NODE_ENV: 'production' }), false);
    assert.equal(devRoutesEnabled({ NODE_ENV: 'development' }), true);
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    let prod: Harness;
    try {
      prod = await startHarness({ probes: {}, config: { jwtSecret: secret } });
    } finally {
      if (saved === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = saved;
    }
    try {
      assert.ok(!prod.routes.some((r) => r.path.startsWith('/v1/dev/')));
      const res = await prod.request('POST', '/v1/dev/tokens', { body: { userId: 'demo-admin' } });
      assert.equal(res.status, 404);
      assert.equal((res.body as { error: { code: string } }).error.code, 'NOT_FOUND');
      const doc = (await prod.request('GET', '/v1/openapi.json')).body as { paths: Record<string, unknown> };
      assert.deepEqual(Object.keys(doc.paths).filter((p) => p.startsWith('/v1/dev')), []);
      const devDoc = (await harness.request('GET', '/v1/openapi.json')).body as { paths: Record<string, unknown> };
      assert.ok(devDoc.paths['/v1/dev/tokens'] && devDoc.paths['/v1/products']);
    } finally {
      await prod.close();
    }
  });

  it('serves the storefront under / with a CSP that allows no inline script', async () => {
    const res = await fetch(`${harness.url}/`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<script defer src="\/app.js"><\/script>/);
    assert.doesNotMatch(html.replace(/<script[^>]*src=[^>]*><\/script>/g, ''), /<script/);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const js = await fetch(`${harness.url}/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    // API paths keep the API's 404 in the error shape.
    const missing = await fetch(`${harness.url}/v1/nothing-here`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  });
});
