/**
 * Issue #12.7: no order is left without a saga. With the Temporal dev server stopped mid-run, a
 * checkout is answered 503 with Retry-After (its order row stays, PROCESSING, with the saga's input);
 * once Temporal is back, the worker's reconciler starts that saga and the order completes, charged
 * once. A client that retries its key meanwhile gets the same order, never a second one.
 */
import assert from 'node:assert/strict';
import { stackDown, stackUp } from '../scripts/stack/index';
import { testPool, uniqueId } from '../test/support/env';
import { reconcileOnce } from '../workers/reconciler';
import { createScenario, fillCart, startStack, waitFor, type Stack } from './test-support';

describe('orders accepted while Temporal is down @integration', function () {
  this.timeout(240_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack({ config: { checkoutWaitMs: 3000 } });
  });
  after(async () => {
    // Whatever happened, Temporal is running again for the rest of the suite.
    await stackUp({ forTests: true });
    await stack?.close();
  });

  it('answers 503 with Retry-After while Temporal is down; the reconciler starts the saga once it is back; the order completes once', async () => {
    const h = stack.harness;
    const scenario = await createScenario(h);
    const buyerId = uniqueId('buyer');
    const token = h.token('buyer', buyerId);
    await fillCart(h, token, [{ sku: scenario.skus.a, quantity: 1 }], [scenario.vouchers.platform10]);
    const key = uniqueId('key');
    const post = () => h.request('POST', '/v1/checkouts', { token, headers: { 'Idempotency-Key': key }, body: { paymentMethod: { token: 'tok_visa' } } });

    await stackDown(['temporal']);
    const refused = await post();
    assert.equal(refused.status, 503, refused.text);
    assert.ok(Number(refused.headers.get('retry-after')) > 0, 'Retry-After is set');
    assert.equal((refused.body as { error: { code: string } }).error.code, 'SERVICE_UNAVAILABLE');
    const { rows } = await testPool().query<{ order_id: string; status: string; pricing: unknown }>('SELECT order_id, status, pricing FROM orders WHERE buyer_id = $1', [buyerId]);
    assert.equal(rows.length, 1, 'the order row was accepted');
    const orderId = rows[0]!.order_id;
    assert.deepEqual([rows[0]!.status, rows[0]!.pricing], ['PROCESSING', null]);

    await stackUp({ forTests: true });
    // The worker's sweep (workers/reconciler.ts) with no grace period, as it runs every few seconds.
    const started = await waitFor(
      () => reconcileOnce({ client: stack.client, orders: stack.services.orders, taskQueue: stack.taskQueue, intervalMs: 0, graceMs: 0 }).catch(() => -1),
      (n) => n >= 1,
      60_000,
    );
    assert.ok(started >= 1);
    const order = await waitFor(
      async () => (await h.request('GET', `/v1/orders/${orderId}`, { token })).body as { status: string },
      (o) => o.status === 'COMPLETED' || o.status === 'FAILED',
      60_000,
    );
    assert.equal(order.status, 'COMPLETED');

    // The client's retry of its key: the same order, 200, no second saga or charge.
    const retried = await post();
    assert.equal(retried.status, 200, retried.text);
    assert.equal((retried.body as { orderId: string }).orderId, orderId);
    const charges = await testPool().query("SELECT 1 FROM payments WHERE order_id = $1 AND status = 'succeeded'", [orderId]);
    assert.equal(charges.rowCount, 1, 'charged once');
    const pending = await stack.services.orders.ordersAwaitingSaga(0, 1000);
    assert.ok(!pending.some((o) => o.orderId === orderId), 'the order no longer waits for a saga');
  });
});
