/**
 * The whole journey over HTTP against the running stack (real services, PSP simulator, Temporal
 * worker): cart -> vouchers -> checkout -> COMPLETED -> ship -> deliver -> confirm -> RELEASED, with
 * stock, voucher usage and the ledger checked; then the idempotency cases: a double click (10
 * concurrent POSTs with one key) and a tampered expected total.
 */
import assert from 'node:assert/strict';
import { testPool, uniqueId } from '../test/support/env';
import { createLogger } from './observability';
import { createScenario, fillCart, startStack, waitFor, type Scenario, type Stack } from './test-support';
import { checkoutWorkflowId } from '../lib/vocabulary';

interface Order {
  orderId: string;
  userId: string;
  status: string;
  failure?: { code: string; details: Record<string, unknown> };
  pricing: { totals: { grandTotal: number }; sellers: Record<string, { customerPaid: number; payout: number }> } | null;
  parcels: { sellerId: string; status: string; customerPaid: number; payout: number; shipBy?: string; autoReleaseAt?: string }[];
  saga: { steps: { name: string; status: string }[]; compensations: { name: string; status: string }[] };
}

describe('checkout journey over HTTP @integration', function () {
  this.timeout(120_000);
  let stack: Stack;
  let scenario: Scenario;

  const logLines: Record<string, unknown>[] = [];

  before(async () => {
    const destination = { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) };
    stack = await startStack({ logger: createLogger({ level: 'info', destination }) });
    scenario = await createScenario(stack.harness);
  });
  after(async () => {
    await stack?.close();
  });

  const h = (): Stack['harness'] => stack.harness;
  const admin = (): string => h().token('admin', 'ops');

  async function stockOf(sku: string): Promise<{ onHand: number; reserved: number; sold: number; available: number }> {
    const res = await h().request('GET', `/v1/admin/products/${sku}`, { token: admin() });
    return (res.body as { stock: { onHand: number; reserved: number; sold: number; available: number } }).stock;
  }
  async function usageOf(code: string): Promise<{ held: number; consumed: number }> {
    const res = await h().request('GET', `/v1/admin/vouchers/${code}`, { token: admin() });
    return (res.body as { usage: { held: number; consumed: number } }).usage;
  }
  const allItems = (): { sku: string; quantity: number }[] => [
    { sku: scenario.skus.a, quantity: 1 },
    { sku: scenario.skus.b, quantity: 1 },
    { sku: scenario.skus.c, quantity: 1 },
  ];
  const allVouchers = (): string[] => [scenario.vouchers.x2off, scenario.vouchers.platform10, scenario.vouchers.freeship];

  it('cart -> vouchers -> checkout -> COMPLETED -> ship -> deliver -> confirm -> RELEASED', async () => {
    const buyerId = uniqueId('buyer');
    const buyer = h().token('buyer', buyerId);
    await fillCart(h(), buyer, allItems(), allVouchers());
    const cart = await h().request('GET', '/v1/cart', { token: buyer });
    assert.equal((cart.body as { pricing: { totals: { grandTotal: number } } }).pricing.totals.grandTotal, 7722);

    const key = uniqueId('key');
    const res = await h().request('POST', '/v1/checkouts', {
      token: buyer,
      headers: { 'Idempotency-Key': key },
      body: { paymentMethod: { token: 'tok_visa' }, expectedGrandTotal: 7722 },
    });
    assert.equal(res.status, 201, res.text);
    const order = res.body as Order;
    assert.equal(order.status, 'COMPLETED');
    assert.equal(res.headers.get('location'), `/v1/orders/${order.orderId}`);
    assert.equal(order.pricing?.totals.grandTotal, 7722);
    assert.deepEqual(order.parcels.map((p) => p.status), ['HELD', 'HELD', 'HELD']);
    // The saga's progress comes from the workflow query: every step completed, in order.
    assert.ok(order.saga.steps.every((step) => step.status === 'completed'), JSON.stringify(order.saga.steps));
    const names = order.saga.steps.map((step) => step.name);
    for (const step of ['priceCart', 'reserveOrderStock', 'holdOrderVouchers', 'chargePayment', 'confirmOrder']) assert.ok(names.includes(step), `${step} missing from ${names.join(', ')}`);
    assert.ok(names.indexOf('reserveOrderStock') < names.indexOf('chargePayment') && names.indexOf('chargePayment') < names.indexOf('confirmOrder'));
    assert.deepEqual(order.saga.compensations, []);
    // The request's log line carries the request id, the order id and the saga's workflow id.
    const line = logLines.find((l) => l.msg === 'request' && l.route === '/v1/checkouts' && l.orderId === order.orderId);
    assert.ok(line, 'no log line for the checkout');
    assert.equal(line.workflowId, checkoutWorkflowId(order.orderId));
    assert.equal(line.userId, buyerId);
    assert.equal(line.requestId, res.headers.get('x-request-id'));
    assert.equal(line.status, 201);

    // The same key and body again: the same order, 200, no second saga.
    const again = await h().request('POST', '/v1/checkouts', {
      token: buyer,
      headers: { 'Idempotency-Key': key },
      body: { expectedGrandTotal: 7722, paymentMethod: { token: 'tok_visa' } },
    });
    assert.equal(again.status, 200);
    assert.equal((again.body as Order).orderId, order.orderId);

    // Stock: one unit of each sold; vouchers: one redemption each.
    for (const sku of Object.values(scenario.skus)) assert.deepEqual(await stockOf(sku), { onHand: 9, reserved: 0, sold: 1, available: 9 });
    for (const code of allVouchers()) assert.deepEqual(await usageOf(code), { held: 0, consumed: 1 });

    // Seller X ships (twice: the repeat is a no-op), admin delivers, the buyer confirms.
    const x = scenario.sellers.x;
    const parcelPath = (action: string): string => `/v1/orders/${order.orderId}/parcels/${x}/${action}`;
    const sellerX = h().token('seller', 'u-x', x);
    const shipped = await h().request('POST', parcelPath('ship'), { token: sellerX });
    assert.equal(shipped.status, 200, shipped.text);
    assert.equal((shipped.body as { status: string }).status, 'SHIPPED');
    assert.equal((await h().request('POST', parcelPath('ship'), { token: sellerX })).status, 200);
    const delivered = await h().request('POST', parcelPath('deliver'), { token: admin() });
    assert.equal(delivered.status, 200, delivered.text);
    assert.equal((delivered.body as { status: string; autoReleaseAt?: string }).status, 'DELIVERED');
    assert.ok((delivered.body as { autoReleaseAt?: string }).autoReleaseAt);
    const released = await h().request('POST', parcelPath('confirm-receipt'), { token: buyer });
    assert.equal(released.status, 200, released.text);
    assert.equal((released.body as { status: string }).status, 'RELEASED');
    // Repeating a confirmation that happened is a no-op 200; shipping a released parcel is too.
    assert.equal((await h().request('POST', parcelPath('confirm-receipt'), { token: buyer })).status, 200);

    const after = (await h().request('GET', `/v1/orders/${order.orderId}`, { token: buyer })).body as Order;
    assert.equal(after.parcels.find((p) => p.sellerId === x)?.status, 'RELEASED');

    // The buyer refunds Y's parcel; its stock returns.
    const refunded = await h().request('POST', `/v1/orders/${order.orderId}/parcels/${scenario.sellers.y}/refund`, { token: buyer, body: { reason: 'wrong size' } });
    assert.equal(refunded.status, 200, refunded.text);
    assert.equal((refunded.body as { status: string }).status, 'REFUNDED');
    assert.deepEqual(await stockOf(scenario.skus.b), { onHand: 10, reserved: 0, sold: 0, available: 10 });
    // A released parcel can no longer be refunded by the buyer.
    const late = await h().request('POST', parcelPath('refund'), { token: buyer, body: { reason: 'too late' } });
    assert.equal(late.status, 409);

    // Admin refunds Z's parcel: every parcel is settled, the order's escrow is back to exactly zero.
    const z = await h().request('POST', `/v1/orders/${order.orderId}/parcels/${scenario.sellers.z}/refund`, { token: admin(), body: { reason: 'lost in transit' } });
    assert.equal(z.status, 200, z.text);
    const statement = await waitFor(() => stack.services.ledger.statement(order.orderId), (s) => s.parcels.every((p) => p.state !== 'held'));
    assert.equal(statement.escrowBalanceMinor, 0);
    assert.deepEqual(
      statement.parcels.map((p) => [p.sellerId, p.state]).sort(),
      [[x, 'released'], [scenario.sellers.y, 'refunded'], [scenario.sellers.z, 'refunded']].sort(),
    );
    const released7722 = statement.parcels.reduce((sum, p) => sum + p.customerPaidMinor, 0);
    assert.equal(released7722, 7722);
  });

  it('double click: 10 concurrent POSTs with one key make one order and one charge', async () => {
    const buyerId = uniqueId('buyer');
    const buyer = h().token('buyer', buyerId);
    await fillCart(h(), buyer, [{ sku: scenario.skus.c, quantity: 1 }]);
    const key = uniqueId('key');
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        h().request('POST', '/v1/checkouts', { token: buyer, headers: { 'Idempotency-Key': key }, body: { paymentMethod: { token: 'tok_visa' } } }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    assert.ok(statuses.every((s) => [200, 201, 202].includes(s)), JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 201 || s === 202).length, 1, JSON.stringify(statuses));
    const orderIds = new Set(responses.map((r) => (r.body as { orderId: string }).orderId));
    assert.equal(orderIds.size, 1);
    const orderId = [...orderIds][0]!;
    const orders = await testPool().query('SELECT order_id FROM orders WHERE buyer_id = $1', [buyerId]);
    assert.equal(orders.rowCount, 1);
    const final = await waitFor(
      async () => (await h().request('GET', `/v1/orders/${orderId}`, { token: buyer })).body as Order,
      (o) => o.status === 'COMPLETED',
    );
    assert.equal(final.status, 'COMPLETED');
    const payments = await testPool().query<{ n: string }>('SELECT count(*) AS n FROM payments WHERE order_id = $1', [orderId]);
    assert.equal(payments.rows[0]!.n, '1');
  });

  it('tampering: a wrong expectedGrandTotal is 409 PRICE_CHANGED with the fresh breakdown; nothing is reserved or charged', async () => {
    const buyerId = uniqueId('buyer');
    const buyer = h().token('buyer', buyerId);
    await fillCart(h(), buyer, allItems(), allVouchers());
    const stockBefore = await Promise.all(Object.values(scenario.skus).map(stockOf));
    const usageBefore = await Promise.all(allVouchers().map(usageOf));
    const res = await h().request('POST', '/v1/checkouts', {
      token: buyer,
      headers: { 'Idempotency-Key': uniqueId('key') },
      body: { paymentMethod: { token: 'tok_visa' }, expectedGrandTotal: 1 },
    });
    assert.equal(res.status, 409);
    const error = (res.body as { error: { code: string; details: { expectedGrandTotal: number; grandTotal: number; pricing: { totals: { grandTotal: number } } } } }).error;
    assert.equal(error.code, 'PRICE_CHANGED');
    assert.equal(error.details.expectedGrandTotal, 1);
    assert.equal(error.details.grandTotal, 7722);
    assert.equal(error.details.pricing.totals.grandTotal, 7722);
    assert.deepEqual(await Promise.all(Object.values(scenario.skus).map(stockOf)), stockBefore);
    assert.deepEqual(await Promise.all(allVouchers().map(usageOf)), usageBefore);
    const orders = await testPool().query('SELECT 1 FROM orders WHERE buyer_id = $1', [buyerId]);
    assert.equal(orders.rowCount, 0);
    const payments = await testPool().query("SELECT 1 FROM payments p JOIN orders o USING (order_id) WHERE o.buyer_id = $1", [buyerId]);
    assert.equal(payments.rowCount, 0);
  });
});
