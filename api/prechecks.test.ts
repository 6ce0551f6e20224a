/**
 * Over HTTP against the running stack: what is refused before anything is written, and a cart that
 * can no longer be priced.
 *
 * - A cart add or quantity change that would leave the cart beyond the pricing engine's amount
 *   limit is 400 with nothing written; a cart that stops pricing later (a price raised) reads 200
 *   with `pricing: null` and `problems`, and PATCH/DELETE fix it.
 * - A voucher outside its window: the checkout is 422 VOUCHER_EXPIRED / VOUCHER_NOT_STARTED at once,
 *   no order row, nothing reserved.
 * - A SKU known to be sold out (the Redis gate): 422 INSUFFICIENT_STOCK with every short line, no
 *   order row, no saga; a release (a failed checkout), a refund or a restock makes the unit
 *   sellable again at once; a missing gate entry lets the saga decide.
 */
import assert from 'node:assert/strict';
import { stockGateKeys } from '../services/inventory';
import { testPool, testRedis, uniqueId } from '../test/support/env';
import { createScenario, fillCart, startStack, waitFor, type Scenario, type Stack } from './test-support';
import { wireCheckout } from './wiring';

interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}
interface CartBody {
  items: { sku: string; quantity: number; unitPrice: number }[];
  pricing: { totals: { grandTotal: number; merchandiseGross: number } } | null;
  vouchers: string[];
  voucherIssues: { code: string; reason: string }[];
  problems: { sku: string; code: string; message: string }[];
}
interface Order {
  orderId: string;
  status: string;
  failure?: { code: string; details: Record<string, unknown> };
}

describe('pre-checks and unpriceable carts over HTTP @integration', function () {
  this.timeout(120_000);
  let stack: Stack;
  let scenario: Scenario;

  before(async () => {
    stack = await startStack();
    scenario = await createScenario(stack.harness); // also sets 10 % tax, 5 % commission
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
  const cartOf = async (token: string): Promise<CartBody> => {
    const res = await h().request('GET', '/v1/cart', { token });
    assert.equal(res.status, 200, res.text);
    return res.body as CartBody;
  };
  const checkout = (token: string, paymentToken = 'tok_visa') =>
    h().request('POST', '/v1/checkouts', { token, headers: { 'Idempotency-Key': uniqueId('key') }, body: { paymentMethod: { token: paymentToken } } });
  const ordersOf = async (buyerId: string): Promise<number> => {
    const { rows } = await testPool().query<{ n: string }>('SELECT count(*) AS n FROM orders WHERE buyer_id = $1', [buyerId]);
    return Number(rows[0]?.n);
  };
  const stockOf = async (sku: string): Promise<{ onHand: number; reserved: number; sold: number; available: number }> =>
    ((await h().request('GET', `/v1/admin/products/${sku}`, { token: admin() })).body as { stock: { onHand: number; reserved: number; sold: number; available: number } }).stock;
  const putProduct = async (sku: string, unitPrice: number, stock?: number): Promise<void> => {
    const body = { sellerId: scenario.sellers.x, name: `Product ${sku}`, category: 'electronics', unitPrice, currency: 'USD', ...(stock === undefined ? {} : { stock }) };
    const res = await h().request('PUT', `/v1/admin/products/${sku}`, { token: admin(), body });
    assert.equal(res.status, 200, res.text);
  };
  const settled = async (token: string, res: { status: number; body: unknown; text: string }): Promise<Order> => {
    assert.ok([201, 202].includes(res.status), res.text);
    const orderId = (res.body as Order).orderId;
    return waitFor(
      async () => (await h().request('GET', `/v1/orders/${orderId}`, { token })).body as Order,
      (o) => o.status === 'COMPLETED' || o.status === 'FAILED',
    );
  };

  describe('a cart beyond the pricing limits (2^53 - 1 minor units)', () => {
    it('an add that would overflow is 400 with nothing written; a cart that stops pricing reads 200 with problems; PATCH and DELETE fix it', async () => {
      const big = uniqueId('sku_big');
      await putProduct(big, 2e15, 10);
      const b = buyer();
      await fillCart(h(), b.token, [{ sku: scenario.skus.a, quantity: 1 }, { sku: big, quantity: 2 }]);
      const before = await cartOf(b.token);
      assert.equal(before.pricing?.totals.merchandiseGross, 4e15 + 1000);

      // 5 units: a gross of 1e16. Refused, and the cart stays readable and unchanged.
      const refused = await h().request('POST', '/v1/cart/items', { token: b.token, body: { sku: big, quantity: 3 } });
      assert.equal(refused.status, 400, refused.text);
      assert.equal((refused.body as ErrorBody).error.code, 'VALIDATION_FAILED');
      assert.deepEqual(await cartOf(b.token), before);
      const higher = await h().request('PATCH', `/v1/cart/items/${big}`, { token: b.token, body: { quantity: 5 } });
      assert.equal(higher.status, 400, higher.text);
      assert.deepEqual(await cartOf(b.token), before);

      // An administrator raises the price: 2 x 4.5e15 plus 10 % tax is beyond the limit.
      await putProduct(big, 4.5e15);
      const broken = await cartOf(b.token);
      assert.equal(broken.pricing, null);
      assert.deepEqual(broken.items.map((i) => [i.sku, i.unitPrice, i.quantity]), [[scenario.skus.a, 1000, 1], [big, 4.5e15, 2]]);
      assert.deepEqual(broken.problems.map((p) => [p.sku, p.code]), [[big, 'AMOUNT_LIMIT']]);
      // Such a cart cannot be checked out: refused before anything is written.
      const attempt = await checkout(b.token);
      assert.equal(attempt.status, 400, attempt.text);
      assert.equal(await ordersOf(b.id), 0);

      const fixed = await h().request('PATCH', `/v1/cart/items/${big}`, { token: b.token, body: { quantity: 1 } });
      assert.equal(fixed.status, 200, fixed.text);
      assert.deepEqual((fixed.body as CartBody).problems, []);
      assert.equal((fixed.body as CartBody).pricing?.totals.merchandiseGross, 4.5e15 + 1000);

      await putProduct(big, 9e15); // too large even for one unit with its tax
      assert.deepEqual((await cartOf(b.token)).problems.map((p) => [p.sku, p.code]), [[big, 'AMOUNT_LIMIT']]);
      const removed = await h().request('DELETE', `/v1/cart/items/${big}`, { token: b.token });
      assert.equal(removed.status, 200, removed.text);
      assert.deepEqual((removed.body as CartBody).problems, []);
      assert.equal((removed.body as CartBody).pricing?.totals.merchandiseGross, 1000);
    });
  });

  describe('a voucher outside its window', () => {
    for (const [failure, window] of [
      ['VOUCHER_EXPIRED', { startsAt: '2020-01-01T00:00:00Z', expiresAt: new Date(Date.now() - 60_000).toISOString() }],
      ['VOUCHER_NOT_STARTED', { startsAt: '2099-01-01T00:00:00Z' }],
    ] as const) {
      it(`${failure} (422) at once: the cart leaves it out, the checkout writes and reserves nothing`, async () => {
        const sku = uniqueId('sku_v');
        await putProduct(sku, 5000, 5);
        const code = uniqueId('V').replace(/-/g, '_');
        const put = (extra: Record<string, unknown>) =>
          h().request('PUT', `/v1/admin/vouchers/${code}`, { token: admin(), body: { scope: 'platform', type: 'percent', rateBps: 1000, ...extra } });
        assert.equal((await put({})).status, 200);
        const b = buyer();
        await fillCart(h(), b.token, [{ sku, quantity: 1 }], [code]);
        const withVoucher = (await cartOf(b.token)).pricing?.totals.grandTotal;

        const changed = await put(window);
        assert.equal(changed.status, 200, changed.text);
        const cart = await cartOf(b.token);
        assert.deepEqual(cart.vouchers, [code]);
        assert.deepEqual(cart.voucherIssues, [{ code, reason: failure }]);
        assert.ok((cart.pricing?.totals.grandTotal ?? 0) > (withVoucher ?? 0), 'the cart no longer prices it in');

        const res = await checkout(b.token);
        assert.equal(res.status, 422, res.text);
        assert.equal((res.body as ErrorBody).error.code, failure);
        assert.equal((res.body as ErrorBody).error.details.code, code);
        assert.equal(await ordersOf(b.id), 0, 'no order row');
        assert.deepEqual(await stockOf(sku), { onHand: 5, reserved: 0, sold: 0, available: 5 }, 'nothing reserved');
        const usage = (await h().request('GET', `/v1/admin/vouchers/${code}`, { token: admin() })).body as { usage: unknown };
        assert.deepEqual(usage.usage, { held: 0, consumed: 0 });
      });
    }
  });

  describe('a SKU known to be sold out', () => {
    it('422 INSUFFICIENT_STOCK listing every short line, fast, with no order and no saga; a restock sells at once', async () => {
      const [soldOut, short, plenty] = [uniqueId('sku_s'), uniqueId('sku_s'), uniqueId('sku_s')];
      await putProduct(soldOut, 1000, 0);
      await putProduct(short, 1000, 1);
      await putProduct(plenty, 1000, 10);
      const b = buyer();
      await fillCart(h(), b.token, [{ sku: plenty, quantity: 1 }, { sku: soldOut, quantity: 1 }, { sku: short, quantity: 2 }]);

      const started = process.hrtime.bigint();
      const res = await checkout(b.token);
      const httpMs = Number(process.hrtime.bigint() - started) / 1e6;
      assert.equal(res.status, 422, res.text);
      const error = (res.body as ErrorBody).error;
      assert.equal(error.code, 'INSUFFICIENT_STOCK');
      assert.deepEqual(error.details, {
        lines: [
          { sku: soldOut, requested: 1, available: 0 },
          { sku: short, requested: 2, available: 1 },
        ],
      });
      assert.equal(await ordersOf(b.id), 0, 'no order row');
      const workflows = stack.client.workflow.list({ query: `TaskQueue = '${stack.taskQueue}' AND BuyerId = '${b.id}'` });
      for await (const execution of workflows) assert.fail(`a saga was started: ${execution.workflowId}`);

      // Measured, not asserted (a shared machine): the whole refused request, and the port's
      // pre-check alone (snapshot excluded), which is what the API adds before any write.
      const http: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t0 = process.hrtime.bigint();
        assert.equal((await checkout(b.token)).status, 422);
        http.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      const port = wireCheckout(stack.services.cart, stack.services.checkoutPricing, stack.services.stockGate);
      const snapshot = await port.snapshot(b.id);
      const precheck: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t0 = process.hrtime.bigint();
        await assert.rejects(port.precheck(b.id, snapshot), (err: { code?: string }) => err.code === 'INSUFFICIENT_STOCK');
        precheck.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      const summary = (xs: number[]): string => {
        const sorted = [...xs].sort((x, y) => x - y);
        return `p50 ${sorted[10]?.toFixed(2)} ms, max ${sorted[19]?.toFixed(2)} ms`;
      };
      console.log(`      [measure] sold-out checkout: HTTP 422 first ${httpMs.toFixed(2)} ms, then ${summary(http)}; CheckoutPort.precheck ${summary(precheck)}`);

      await putProduct(soldOut, 1000, 1);
      await putProduct(short, 1000, 2);
      const order = await settled(b.token, await checkout(b.token));
      assert.equal(order.status, 'COMPLETED', JSON.stringify(order.failure));
    });

    it('a failed checkout releases its unit: the next buyer can buy it at once', async () => {
      const sku = uniqueId('sku_r');
      await putProduct(sku, 1000, 1);
      const first = buyer();
      const second = buyer();
      await fillCart(h(), first.token, [{ sku, quantity: 1 }]);
      await fillCart(h(), second.token, [{ sku, quantity: 1 }]);
      // Declined payment: the unit was reserved (the gate saw 0 available), then released.
      const declined = await settled(first.token, await checkout(first.token, 'tok_chargeDeclined'));
      assert.equal(declined.status, 'FAILED');
      assert.equal(declined.failure?.code, 'PAYMENT_DECLINED');
      const order = await settled(second.token, await checkout(second.token));
      assert.equal(order.status, 'COMPLETED', JSON.stringify(order.failure));
      // Now it is sold: a third buyer is refused up front.
      const third = buyer();
      await fillCart(h(), third.token, [{ sku, quantity: 1 }]);
      const refused = await checkout(third.token);
      assert.equal(refused.status, 422, refused.text);
      assert.equal((refused.body as ErrorBody).error.code, 'INSUFFICIENT_STOCK');
    });

    it('a refunded parcel returns its unit at once', async () => {
      const sku = uniqueId('sku_f');
      await putProduct(sku, 1000, 1);
      const first = buyer();
      await fillCart(h(), first.token, [{ sku, quantity: 1 }]);
      const order = await settled(first.token, await checkout(first.token));
      assert.equal(order.status, 'COMPLETED', JSON.stringify(order.failure));
      const second = buyer();
      await fillCart(h(), second.token, [{ sku, quantity: 1 }]);
      assert.equal((await checkout(second.token)).status, 422);
      const refund = await h().request('POST', `/v1/orders/${order.orderId}/parcels/${scenario.sellers.x}/refund`, { token: first.token, body: { reason: 'changed my mind' } });
      assert.equal(refund.status, 200, refund.text);
      await waitFor(() => stockOf(sku), (s) => s.available === 1);
      const again = await settled(second.token, await checkout(second.token));
      assert.equal(again.status, 'COMPLETED', JSON.stringify(again.failure));
    });

    it('without a gate entry (Redis flushed) nothing is refused up front: the saga decides, and tells the gate', async () => {
      const sku = uniqueId('sku_u');
      await putProduct(sku, 1000, 0);
      await testRedis().hdel(stockGateKeys.avail, sku);
      const b = buyer();
      await fillCart(h(), b.token, [{ sku, quantity: 1 }]);
      const order = await settled(b.token, await checkout(b.token));
      assert.equal(order.status, 'FAILED');
      assert.equal(order.failure?.code, 'INSUFFICIENT_STOCK');
      assert.deepEqual(order.failure?.details.lines, [{ sku, requested: 1, available: 0 }]);
      const next = await checkout(b.token);
      assert.equal(next.status, 422, 'the saga\'s refused reservation refreshed the gate');
    });
  });
});
