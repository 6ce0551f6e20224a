/**
 * Authorisation on every endpoint: each declared route is called without a token (401), with every
 * role it does not admit (403) and with the roles it admits (never 401/403 for a valid token);
 * then ownership: a buyer's cart and orders are invisible to another buyer. (Parcel ownership per
 * action is in orders.test.ts; the journey shows the allowed paths end to end.)
 */
import assert from 'node:assert/strict';
import { createSimulatorGateway } from '../services/payments';
import { devServerClient } from '../test/support/temporal';
import { testConfig, testPool, testRedis, uniqueId } from '../test/support/env';
import type { Role } from './auth';
import { createScenario, fillCart, startHarness, type Harness, type Scenario } from './test-support';
import { wireServices } from './wiring';

describe('authorisation on every endpoint @integration', function () {
  this.timeout(60_000);
  let harness: Harness;
  let closeTemporal: () => Promise<void>;
  let scenario: Scenario;

  before(async () => {
    const { client, close } = await devServerClient();
    closeTemporal = close;
    const gateway = createSimulatorGateway({ baseUrl: 'http://127.0.0.1:9', webhookSecret: testConfig.webhookSecret });
    harness = await startHarness({ probes: {}, config: { checkoutRateLimit: { limit: 1000, windowMs: 60_000 } }, ...wireServices({ pool: testPool(), redis: testRedis(), temporal: client, gateway }) });
    scenario = await createScenario(harness);
  });
  after(async () => {
    await harness.close();
    await closeTemporal();
  });

  /** A concrete path for a template: unknown but well-formed ids, so no handler can succeed by accident. */
  const concrete = (template: string): string =>
    template
      .replace('{orderId}', 'ord_doesnotexist000')
      .replace('{sellerId}', 'seller_nobody')
      .replace('{sku}', uniqueId('sku'))
      .replace('{code}', 'NOSUCHCODE')
      .replace('{id}', uniqueId('id'));

  const tokenFor = (role: Role): string => (role === 'seller' ? harness.token('seller', 'u-seller', 'seller_nobody') : harness.token(role, uniqueId(role)));

  it('answers 401 without a token and 403 for every role a route does not admit', async () => {
    let checked = 0;
    for (const route of harness.routes) {
      if (typeof route.auth !== 'object') continue;
      const path = concrete(route.path);
      const body = route.body ? { body: {} } : {};
      const anonymous = await harness.request(route.method, path, { ...body, headers: { 'Idempotency-Key': 'k' } });
      assert.equal(anonymous.status, 401, `${route.method} ${route.path} without a token`);
      for (const role of ['buyer', 'seller', 'admin'] as const) {
        const admitted = role === 'admin' || route.auth.roles.includes(role);
        const res = await harness.request(route.method, path, { token: tokenFor(role), ...body, headers: { 'Idempotency-Key': uniqueId('k') } });
        if (admitted) assert.ok(![401, 403].includes(res.status), `${route.method} ${route.path} as ${role}: ${res.status} ${res.text}`);
        else assert.equal(res.status, 403, `${route.method} ${route.path} as ${role}: ${res.text}`);
        checked++;
      }
    }
    assert.ok(checked >= 3 * 20, `only ${checked} checks`);
  });

  it("keeps each buyer's cart their own", async () => {
    const a = harness.token('buyer', uniqueId('buyer'));
    const b = harness.token('buyer', uniqueId('buyer'));
    await fillCart(harness, a, [{ sku: scenario.skus.a, quantity: 2 }], [scenario.vouchers.platform10]);
    const bCart = (await harness.request('GET', '/v1/cart', { token: b })).body as { items: unknown[]; vouchers: string[] };
    assert.deepEqual([bCart.items, bCart.vouchers], [[], []]);
    // B's deletes act on B's own (empty) cart; A's cart is untouched.
    await harness.request('DELETE', `/v1/cart/items/${scenario.skus.a}`, { token: b });
    await harness.request('DELETE', `/v1/cart/vouchers/${scenario.vouchers.platform10}`, { token: b });
    const aCart = (await harness.request('GET', '/v1/cart', { token: a })).body as { items: { sku: string; quantity: number }[]; vouchers: string[] };
    assert.deepEqual(aCart.items.map((i) => [i.sku, i.quantity]), [[scenario.skus.a, 2]]);
    assert.deepEqual(aCart.vouchers, [scenario.vouchers.platform10]);
  });

  it('a seller token cannot use the cart or check out (buyer endpoints)', async () => {
    const seller = harness.token('seller', 'u-x', scenario.sellers.x);
    assert.equal((await harness.request('GET', '/v1/cart', { token: seller })).status, 403);
    assert.equal((await harness.request('POST', '/v1/cart/items', { token: seller, body: { sku: scenario.skus.a, quantity: 1 } })).status, 403);
    assert.equal((await harness.request('POST', '/v1/checkouts', { token: seller, headers: { 'Idempotency-Key': 'k' }, body: { paymentMethod: { token: 'tok_visa' } } })).status, 403);
  });
});
