/**
 * Every failure code of api-contract.md reached through the HTTP API against the running stack:
 * refusals before anything is written (400/409/422/429), refusals of the cart, and checkout sagas
 * that end FAILED with a specific code after compensating (stock and voucher holds returned).
 */
import assert from 'node:assert/strict';
import { stockGateKeys } from '../services/inventory';
import { testPool, testRedis, uniqueId } from '../test/support/env';
import { createScenario, fillCart, startStack, waitFor, type Scenario, type Stack } from './test-support';

interface Order {
  orderId: string;
  status: string;
  failure?: { code: string; message: string; details: Record<string, unknown> };
  saga: { steps: { name: string; status: string }[]; compensations: { name: string; status: string }[] };
}
interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}
const codeOf = (body: unknown): string => (body as ErrorBody).error.code;

describe('failure codes over HTTP @integration', function () {
  this.timeout(120_000);
  let stack: Stack;
  let scenario: Scenario;

  before(async () => {
    stack = await startStack();
    scenario = await createScenario(stack.harness);
  });
  after(async () => {
    await stack?.close();
  });

  const h = (): Stack['harness'] => stack.harness;
  const admin = (): string => h().token('admin', 'ops');
  const buyer = (): { id: string; token: string } => {
    const id = uniqueId('buyer');
    return { id, token: h().token('buyer', id) };
  };
  const checkout = (token: string, paymentToken = 'tok_visa', extra: Record<string, unknown> = {}) =>
    h().request('POST', '/v1/checkouts', { token, headers: { 'Idempotency-Key': uniqueId('key') }, body: { paymentMethod: { token: paymentToken }, ...extra } });

  async function settled(token: string, res: { status: number; body: unknown }): Promise<Order> {
    assert.ok([201, 202].includes(res.status), JSON.stringify(res.body));
    const orderId = (res.body as { orderId: string }).orderId;
    return waitFor(
      async () => (await h().request('GET', `/v1/orders/${orderId}`, { token })).body as Order,
      (o) => o.status === 'COMPLETED' || o.status === 'FAILED',
    );
  }

  async function stockOf(sku: string): Promise<{ onHand: number; reserved: number; sold: number }> {
    return ((await h().request('GET', `/v1/admin/products/${sku}`, { token: admin() })).body as { stock: { onHand: number; reserved: number; sold: number } }).stock;
  }
  async function usageOf(code: string): Promise<{ held: number; consumed: number }> {
    return ((await h().request('GET', `/v1/admin/vouchers/${code}`, { token: admin() })).body as { usage: { held: number; consumed: number } }).usage;
  }

  /** A fresh voucher (10 % off the platform) under a unique code. */
  async function voucher(body: Record<string, unknown> = {}): Promise<string> {
    const code = uniqueId('V').replace(/-/g, '_');
    const res = await h().request('PUT', `/v1/admin/vouchers/${code}`, { token: admin(), body: { scope: 'platform', type: 'percent', rateBps: 1000, ...body } });
    assert.equal(res.status, 200, res.text);
    return code;
  }

  /** A fresh product of seller X with `stock` units. */
  async function product(stock: number): Promise<string> {
    const sku = uniqueId('sku');
    const res = await h().request('PUT', `/v1/admin/products/${sku}`, {
      token: admin(),
      body: { sellerId: scenario.sellers.x, name: 'Gadget', category: 'electronics', unitPrice: 1000, currency: 'USD', stock },
    });
    assert.equal(res.status, 200, res.text);
    return sku;
  }

  describe('refused before anything is written', () => {
    it('CART_EMPTY (422) for an empty cart; no order is created', async () => {
      const b = buyer();
      const res = await checkout(b.token);
      assert.equal(res.status, 422);
      assert.equal(codeOf(res.body), 'CART_EMPTY');
      assert.equal((await testPool().query('SELECT 1 FROM orders WHERE buyer_id = $1', [b.id])).rowCount, 0);
    });

    it('VALIDATION_FAILED (400) for a missing, empty or too long Idempotency-Key', async () => {
      const b = buyer();
      await fillCart(h(), b.token, [{ sku: scenario.skus.c, quantity: 1 }]);
      for (const headers of [{}, { 'Idempotency-Key': '' }, { 'Idempotency-Key': 'k'.repeat(256) }] as Record<string, string>[]) {
        const res = await h().request('POST', '/v1/checkouts', { token: b.token, headers, body: { paymentMethod: { token: 'tok_visa' } } });
        assert.equal(res.status, 400, JSON.stringify(headers));
        assert.equal(codeOf(res.body), 'VALIDATION_FAILED');
        assert.deepEqual(((res.body as ErrorBody).error.details.issues as { path: string }[]).map((i) => i.path), ['header.idempotency-key']);
      }
      const ok = await h().request('POST', '/v1/checkouts', { token: b.token, headers: { 'Idempotency-Key': 'k'.repeat(255) }, body: { paymentMethod: { token: 'tok_visa' } } });
      assert.ok([201, 202].includes(ok.status), ok.text);
    });

    it('IDEMPOTENCY_KEY_REUSED (409) for the same key with another body', async () => {
      const b = buyer();
      await fillCart(h(), b.token, [{ sku: scenario.skus.c, quantity: 1 }]);
      const key = uniqueId('key');
      const first = await h().request('POST', '/v1/checkouts', { token: b.token, headers: { 'Idempotency-Key': key }, body: { paymentMethod: { token: 'tok_visa' } } });
      assert.ok([201, 202].includes(first.status));
      const reused = await h().request('POST', '/v1/checkouts', { token: b.token, headers: { 'Idempotency-Key': key }, body: { paymentMethod: { token: 'tok_chargeDeclined' } } });
      assert.equal(reused.status, 409);
      assert.equal(codeOf(reused.body), 'IDEMPOTENCY_KEY_REUSED');
      assert.equal((reused.body as ErrorBody).error.details.orderId, (first.body as { orderId: string }).orderId);
      // Keys are per buyer: another buyer may use the same key.
      const other = buyer();
      assert.equal((await h().request('POST', '/v1/checkouts', { token: other.token, headers: { 'Idempotency-Key': key }, body: { paymentMethod: { token: 'tok_visa' } } })).status, 422);
    });

    it('a repeated key answers 200 from its order even after the cart was emptied (no CART_EMPTY)', async () => {
      const b = buyer();
      await fillCart(h(), b.token, [{ sku: scenario.skus.c, quantity: 1 }]);
      const key = uniqueId('key');
      const body = { paymentMethod: { token: 'tok_visa' } };
      const first = await h().request('POST', '/v1/checkouts', { token: b.token, headers: { 'Idempotency-Key': key }, body });
      assert.ok([201, 202].includes(first.status));
      await h().request('DELETE', `/v1/cart/items/${scenario.skus.c}`, { token: b.token });
      const again = await h().request('POST', '/v1/checkouts', { token: b.token, headers: { 'Idempotency-Key': key }, body });
      assert.equal(again.status, 200, again.text);
      assert.equal((again.body as { orderId: string }).orderId, (first.body as { orderId: string }).orderId);
      assert.equal(again.headers.get('location'), `/v1/orders/${(first.body as { orderId: string }).orderId}`);
    });

    it('RATE_LIMITED (429) beyond the per-user checkout limit, in the error shape', async () => {
      const limited = await startStack({ config: { checkoutRateLimit: { limit: 2, windowMs: 60_000 } } });
      try {
        const token = limited.harness.token('buyer', uniqueId('buyer'));
        const statuses: number[] = [];
        for (let i = 0; i < 3; i++) {
          statuses.push((await limited.harness.request('POST', '/v1/checkouts', { token, headers: { 'Idempotency-Key': uniqueId('k') }, body: { paymentMethod: { token: 'tok_visa' } } })).status);
        }
        assert.deepEqual(statuses, [422, 422, 429]);
        const res = await limited.harness.request('POST', '/v1/checkouts', { token, headers: { 'Idempotency-Key': uniqueId('k') }, body: { paymentMethod: { token: 'tok_visa' } } });
        assert.equal(codeOf(res.body), 'RATE_LIMITED');
        // Another user has a budget of their own.
        const other = await limited.harness.request('POST', '/v1/checkouts', { token: limited.harness.token('buyer', uniqueId('buyer')), headers: { 'Idempotency-Key': uniqueId('k') }, body: { paymentMethod: { token: 'tok_visa' } } });
        assert.equal(other.status, 422);
      } finally {
        await limited.close();
      }
    });
  });

  describe('refused by the cart (422 VOUCHER_*)', () => {
    const cases: [string, () => Promise<string>][] = [
      ['VOUCHER_NOT_FOUND', () => Promise.resolve(uniqueId('NOPE').replace(/-/g, '_'))],
      ['VOUCHER_EXPIRED', () => voucher({ startsAt: '2020-01-01T00:00:00Z', expiresAt: '2020-02-01T00:00:00Z' })],
      ['VOUCHER_NOT_STARTED', () => voucher({ startsAt: '2099-01-01T00:00:00Z' })],
      ['VOUCHER_EXHAUSTED', () => voucher({ totalLimit: 0 })],
      ['VOUCHER_USER_LIMIT', () => voucher({ perUserLimit: 0 })],
      ['VOUCHER_REJECTED', () => voucher({ minSpend: 1_000_000 })],
    ];
    for (const [code, make] of cases) {
      it(code, async () => {
        const b = buyer();
        await fillCart(h(), b.token, [{ sku: scenario.skus.c, quantity: 1 }]);
        const res = await h().request('POST', '/v1/cart/vouchers', { token: b.token, body: { code: await make() } });
        assert.equal(res.status, 422, res.text);
        assert.equal(codeOf(res.body), code);
        const cart = await h().request('GET', '/v1/cart', { token: b.token });
        assert.deepEqual((cart.body as { vouchers: string[] }).vouchers, []);
      });
    }
  });

  describe('checkouts that end FAILED, compensated', () => {
    it('INSUFFICIENT_STOCK with {sku, requested, available} per line; nothing stays reserved', async () => {
      const sku = await product(1);
      const b = buyer();
      await fillCart(h(), b.token, [{ sku, quantity: 2 }, { sku: scenario.skus.c, quantity: 1 }]);
      // Known short (the Redis gate): 422 before anything is written (api/prechecks.test.ts has more).
      const upFront = await checkout(b.token);
      assert.equal(upFront.status, 422, upFront.text);
      assert.equal(codeOf(upFront.body), 'INSUFFICIENT_STOCK');
      assert.deepEqual((upFront.body as ErrorBody).error.details, { lines: [{ sku, requested: 2, available: 1 }] });
      // Not known (the gate's entry gone, as after a Redis flush): the saga finds out and compensates.
      await testRedis().hdel(stockGateKeys.avail, sku);
      const order = await settled(b.token, await checkout(b.token));
      assert.equal(order.status, 'FAILED');
      assert.equal(order.failure?.code, 'INSUFFICIENT_STOCK');
      assert.deepEqual(order.failure?.details.lines, [{ sku, requested: 2, available: 1 }]);
      assert.deepEqual(await stockOf(sku), { onHand: 1, reserved: 0, sold: 0, available: 1 });
      assert.ok(order.saga.compensations.some((c) => c.name === 'releaseStock'));
    });

    it('PAYMENT_DECLINED (tok_chargeDeclined): stock and voucher holds are given back', async () => {
      const sku = await product(5);
      const code = await voucher();
      const b = buyer();
      await fillCart(h(), b.token, [{ sku, quantity: 2 }], [code]);
      const order = await settled(b.token, await checkout(b.token, 'tok_chargeDeclined'));
      assert.equal(order.status, 'FAILED');
      assert.equal(order.failure?.code, 'PAYMENT_DECLINED');
      assert.deepEqual(await stockOf(sku), { onHand: 5, reserved: 0, sold: 0, available: 5 });
      assert.deepEqual(await usageOf(code), { held: 0, consumed: 0 });
      assert.deepEqual(order.saga.compensations.map((c) => c.name).sort(), ['refundCharge', 'releaseStock', 'releaseVouchers'].sort());
    });

    it('PAYMENT_DECLINED by webhook (tok_asyncFail): the PSP calls back through this API', async () => {
      const b = buyer();
      await fillCart(h(), b.token, [{ sku: scenario.skus.a, quantity: 1 }]);
      const order = await settled(b.token, await checkout(b.token, 'tok_asyncFail'));
      assert.equal(order.status, 'FAILED');
      assert.equal(order.failure?.code, 'PAYMENT_DECLINED');
    });

    it('an asynchronous payment (tok_async) completes when its webhook arrives', async () => {
      const b = buyer();
      await fillCart(h(), b.token, [{ sku: scenario.skus.a, quantity: 1 }]);
      const order = await settled(b.token, await checkout(b.token, 'tok_async'));
      assert.equal(order.status, 'COMPLETED');
    });

    it('a charge whose answer timed out (tok_timeout) completes with exactly one charge', async () => {
      const b = buyer();
      await fillCart(h(), b.token, [{ sku: scenario.skus.a, quantity: 1 }]);
      const order = await settled(b.token, await checkout(b.token, 'tok_timeout'));
      assert.equal(order.status, 'COMPLETED');
      const { rows } = await testPool().query<{ n: string }>('SELECT count(*) AS n FROM payments WHERE order_id = $1', [order.orderId]);
      assert.equal(rows[0]!.n, '1');
    });

    it('VOUCHER_EXPIRED / VOUCHER_NOT_STARTED (422, before anything is written) when the voucher changed after it was applied', async () => {
      for (const [failure, change] of [
        ['VOUCHER_EXPIRED', { startsAt: '2020-01-01T00:00:00Z', expiresAt: '2020-02-01T00:00:00Z' }],
        ['VOUCHER_NOT_STARTED', { startsAt: '2099-01-01T00:00:00Z' }],
      ] as const) {
        const code = await voucher();
        const b = buyer();
        await fillCart(h(), b.token, [{ sku: scenario.skus.c, quantity: 1 }], [code]);
        await h().request('PUT', `/v1/admin/vouchers/${code}`, { token: admin(), body: { scope: 'platform', type: 'percent', rateBps: 1000, ...change } });
        const res = await checkout(b.token);
        assert.equal(res.status, 422, `${failure}: ${res.text}`);
        assert.equal(codeOf(res.body), failure);
        assert.equal((res.body as ErrorBody).error.details.code, code);
        const { rows } = await testPool().query('SELECT 1 FROM orders WHERE buyer_id = $1', [b.id]);
        assert.equal(rows.length, 0, 'no order row');
      }
    });

    it('VOUCHER_REJECTED when pricing no longer applies the voucher (its minimum spend rose)', async () => {
      const code = await voucher();
      const b = buyer();
      await fillCart(h(), b.token, [{ sku: scenario.skus.c, quantity: 1 }], [code]);
      await h().request('PUT', `/v1/admin/vouchers/${code}`, { token: admin(), body: { scope: 'platform', type: 'percent', rateBps: 1000, minSpend: 1_000_000 } });
      const order = await settled(b.token, await checkout(b.token));
      assert.equal(order.status, 'FAILED');
      assert.equal(order.failure?.code, 'VOUCHER_REJECTED');
      assert.equal(order.failure?.details.reason, 'MIN_SPEND_NOT_MET');
    });

    it('VOUCHER_EXHAUSTED and VOUCHER_USER_LIMIT when a pending order already holds the last use', async () => {
      // tok_async keeps the first order AWAITING_PAYMENT with its voucher held, long enough to race it.
      for (const [failure, limit, sameBuyer] of [
        ['VOUCHER_EXHAUSTED', { totalLimit: 1 }, false],
        ['VOUCHER_USER_LIMIT', { perUserLimit: 1 }, true],
      ] as const) {
        const code = await voucher(limit);
        const first = buyer();
        const second = sameBuyer ? first : buyer();
        await fillCart(h(), first.token, [{ sku: scenario.skus.c, quantity: 1 }], [code]);
        if (!sameBuyer) await fillCart(h(), second.token, [{ sku: scenario.skus.c, quantity: 1 }], [code]);
        const pending = await checkout(first.token, 'tok_async');
        assert.ok([201, 202].includes(pending.status));
        await waitFor(() => usageOf(code), (u) => u.held + u.consumed === 1);
        const cart = (await h().request('GET', '/v1/cart', { token: second.token })).body as { items: unknown[] };
        if (cart.items.length === 0) {
          // The buyer's own first order completed already and took its lines and voucher out of the
          // cart: applying the voucher again is refused by the cart itself, with the same code.
          await fillCart(h(), second.token, [{ sku: scenario.skus.c, quantity: 1 }]);
          const applied = await h().request('POST', '/v1/cart/vouchers', { token: second.token, body: { code } });
          assert.equal(applied.status, 422, applied.text);
          assert.equal(codeOf(applied.body), failure);
          continue;
        }
        const order = await settled(second.token, await checkout(second.token));
        assert.equal(order.status, 'FAILED', failure);
        assert.equal(order.failure?.code, failure);
        assert.equal((await settled(first.token, pending)).status, 'COMPLETED');
      }
    });
  });

  describe('PAYMENT_TIMEOUT', () => {
    it('answers 202 while the saga runs, then fails the order when no payment outcome arrives within the configured wait', async () => {
      // The PSP settles asynchronous payments after 2.5 s; the saga waits only one second (the late charge is refunded).
      // The API waits only 200 ms, so the request is answered 202 while the saga still runs.
      const slow = await startStack({ config: { checkoutSettings: { paymentTimeout: 1000 }, checkoutWaitMs: 200 }, psp: { asyncDelayMs: 2500 } });
      try {
        const slowScenario = await createScenario(slow.harness);
        const token = slow.harness.token('buyer', uniqueId('buyer'));
        await fillCart(slow.harness, token, [{ sku: slowScenario.skus.a, quantity: 1 }]);
        const res = await slow.harness.request('POST', '/v1/checkouts', { token, headers: { 'Idempotency-Key': uniqueId('k') }, body: { paymentMethod: { token: 'tok_async' } } });
        assert.equal(res.status, 202, res.text);
        const orderId = (res.body as { orderId: string }).orderId;
        assert.ok(['PROCESSING', 'AWAITING_PAYMENT'].includes((res.body as { status: string }).status));
        assert.deepEqual(Object.keys(res.body as object).sort(), ['orderId', 'status']);
        assert.equal(res.headers.get('location'), `/v1/orders/${orderId}`);
        const order = await waitFor(
          async () => (await slow.harness.request('GET', `/v1/orders/${orderId}`, { token })).body as Order,
          (o) => o.status === 'FAILED' || o.status === 'COMPLETED',
        );
        assert.equal(order.status, 'FAILED');
        assert.equal(order.failure?.code, 'PAYMENT_TIMEOUT');
      } finally {
        await slow.close();
      }
    });
  });
});
