/**
 * Issue #12 through the HTTP API: the cart a completed order empties, and concurrent parcel actions
 * that are applied one at a time (no 5xx, one winner, every view in agreement).
 */
import assert from 'node:assert/strict';
import { checkoutWorkflowId, parcelOfOrderQuery, type ParcelState } from '../workflows/contract';
import { testPool, uniqueId } from '../test/support/env';
import { createScenario, fillCart, startStack, waitFor, type Scenario, type Stack } from './test-support';

interface CartBody {
  items: { sku: string; quantity: number }[];
  vouchers: string[];
}
interface OrderBody {
  orderId: string;
  status: string;
  parcels: { sellerId: string; status: string; customerPaid: number; payout: number }[];
}

describe('a completed order empties the cart of what it bought @integration', function () {
  this.timeout(120_000);
  let stack: Stack;
  let scenario: Scenario;
  before(async () => {
    // tok_async settles 1.5 s later and the API answers after 200 ms: the cart can change meanwhile.
    stack = await startStack({ config: { checkoutWaitMs: 200 }, psp: { asyncDelayMs: 1500 } });
    scenario = await createScenario(stack.harness, { stock: 100 });
  });
  after(async () => {
    await stack?.close();
  });

  const h = () => stack.harness;
  const cartOf = async (token: string): Promise<CartBody> => (await h().request('GET', '/v1/cart', { token })).body as CartBody;
  const checkout = (token: string, paymentToken: string) =>
    h().request('POST', '/v1/checkouts', { token, headers: { 'Idempotency-Key': uniqueId('key') }, body: { paymentMethod: { token: paymentToken } } });
  const settledOrder = (token: string, orderId: string): Promise<OrderBody> =>
    waitFor(async () => (await h().request('GET', `/v1/orders/${orderId}`, { token })).body as OrderBody, (o) => o.status === 'COMPLETED' || o.status === 'FAILED');

  it('removes exactly the ordered lines and vouchers; a second checkout of the emptied cart is 422 CART_EMPTY, nothing written', async () => {
    const buyerId = uniqueId('buyer');
    const token = h().token('buyer', buyerId);
    const { skus, vouchers } = scenario;
    await fillCart(h(), token, [{ sku: skus.a, quantity: 1 }, { sku: skus.b, quantity: 1 }, { sku: skus.c, quantity: 1 }], [vouchers.x2off, vouchers.platform10, vouchers.freeship]);
    const res = await checkout(token, 'tok_visa');
    assert.ok([201, 202].includes(res.status), res.text);
    const order = await settledOrder(token, (res.body as OrderBody).orderId);
    assert.equal(order.status, 'COMPLETED');
    const emptied = await cartOf(token);
    assert.deepEqual([emptied.items, emptied.vouchers], [[], []]);
    const again = await checkout(token, 'tok_visa');
    assert.equal(again.status, 422, again.text);
    assert.equal((again.body as { error: { code: string } }).error.code, 'CART_EMPTY');
    const { rows } = await testPool().query('SELECT order_id FROM orders WHERE buyer_id = $1', [buyerId]);
    assert.equal(rows.length, 1, 'the refused second checkout wrote no order');
  });

  it('keeps a line added and a line changed while the saga ran', async () => {
    const token = h().token('buyer', uniqueId('buyer'));
    const { skus, vouchers } = scenario;
    await fillCart(h(), token, [{ sku: skus.a, quantity: 1 }, { sku: skus.b, quantity: 1 }], [vouchers.platform10]);
    const res = await checkout(token, 'tok_async');
    assert.equal(res.status, 202, res.text);
    // While the payment is pending: a new line, and an ordered line changed.
    assert.equal((await h().request('POST', '/v1/cart/items', { token, body: { sku: skus.c, quantity: 2 } })).status, 200);
    assert.equal((await h().request('PATCH', `/v1/cart/items/${skus.b}`, { token, body: { quantity: 3 } })).status, 200);
    const order = await settledOrder(token, (res.body as OrderBody).orderId);
    assert.equal(order.status, 'COMPLETED');
    const cart = await cartOf(token);
    assert.deepEqual(cart.items.map((i) => [i.sku, i.quantity]).sort(), [[skus.b, 3], [skus.c, 2]].sort(), 'only the unchanged ordered line left');
    assert.deepEqual(cart.vouchers, [], 'the ordered voucher left with the order');
  });

  it('a failed checkout leaves the cart as it was', async () => {
    const token = h().token('buyer', uniqueId('buyer'));
    const { skus, vouchers } = scenario;
    await fillCart(h(), token, [{ sku: skus.a, quantity: 2 }], [vouchers.platform10]);
    const before = await cartOf(token);
    const res = await checkout(token, 'tok_chargeDeclined');
    const order = await settledOrder(token, (res.body as OrderBody).orderId);
    assert.equal(order.status, 'FAILED');
    const after = await cartOf(token);
    assert.deepEqual([after.items, after.vouchers], [before.items, before.vouchers]);
  });
});

describe('concurrent parcel actions over HTTP @integration', function () {
  this.timeout(300_000);
  let stack: Stack;
  let scenario: Scenario;
  before(async () => {
    stack = await startStack();
    scenario = await createScenario(stack.harness, { stock: 500 });
  });
  after(async () => {
    await stack?.close();
  });

  it('deliver, confirm-receipt and refund at once on 50 shipped parcels: no 5xx, one of confirm/refund wins, the other 409; every view agrees', async () => {
    const h = stack.harness;
    const { skus, sellers } = scenario;
    const admin = h.token('admin', 'ops');
    const seller = h.token('seller', 'seller-user', sellers.x);
    const orders: { orderId: string; token: string }[] = [];
    for (let i = 0; i < 50; i++) {
      const token = h.token('buyer', uniqueId('buyer'));
      await fillCart(h, token, [{ sku: skus.a, quantity: 1 }]);
      const res = await h.request('POST', '/v1/checkouts', { token, headers: { 'Idempotency-Key': uniqueId('key') }, body: { paymentMethod: { token: 'tok_visa' } } });
      assert.equal(res.status, 201, res.text);
      const orderId = (res.body as OrderBody).orderId;
      const shipped = await h.request('POST', `/v1/orders/${orderId}/parcels/${sellers.x}/ship`, { token: seller });
      assert.equal(shipped.status, 200, shipped.text);
      orders.push({ orderId, token });
    }

    const outcomes = await Promise.all(
      orders.map(async ({ orderId, token }) => {
        const path = (action: string) => `/v1/orders/${orderId}/parcels/${sellers.x}/${action}`;
        const [deliver, confirm, refund] = await Promise.all([
          h.request('POST', path('deliver'), { token: admin }),
          h.request('POST', path('confirm-receipt'), { token }),
          h.request('POST', path('refund'), { token, body: { reason: 'race' } }),
        ]);
        return { orderId, deliver, confirm, refund };
      }),
    );

    for (const { orderId, deliver, confirm, refund } of outcomes) {
      for (const res of [deliver, confirm, refund]) assert.ok(res.status < 500, `${orderId}: ${res.status} ${res.text}`);
      assert.ok([200, 409].includes(deliver.status), deliver.text);
      const winners = [confirm, refund].filter((r) => r.status === 200);
      const losers = [confirm, refund].filter((r) => r.status === 409);
      assert.equal(winners.length, 1, `${orderId}: exactly one of confirm/refund wins (${confirm.status}, ${refund.status})`);
      assert.equal(losers.length, 1);
      assert.equal((losers[0]!.body as { error: { code: string } }).error.code, 'INVALID_STATE');
      const expected = confirm.status === 200 ? 'RELEASED' : 'REFUNDED';

      const view = (await h.request('GET', `/v1/orders/${orderId}`, { token: admin })).body as OrderBody;
      const row = await testPool().query<{ status: string }>('SELECT status FROM order_parcels WHERE order_id = $1', [orderId]);
      const workflow = (await stack.client.workflow.getHandle(checkoutWorkflowId(orderId)).query(parcelOfOrderQuery, sellers.x)) as ParcelState;
      assert.deepEqual([view.parcels[0]?.status, row.rows[0]?.status, workflow.status], [expected, expected, expected], orderId);
      const escrow = await stack.services.ledger.balanceOf('order_escrow', orderId, 'USD');
      assert.equal(escrow, 0, `${orderId}: the escrow is settled`);
      const payment = await stack.services.payments.getPayment(orderId, { refresh: false });
      assert.equal(payment?.refundedMinor, expected === 'REFUNDED' ? view.parcels[0]!.customerPaid : 0, `${orderId}: refunded exactly when refunded`);
    }
  });
});
