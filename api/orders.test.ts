/**
 * Order reads and parcel-action authorisation over HTTP, on orders written straight through
 * services/orders (no saga needed): ownership, pagination, the database fallback when there is no
 * workflow to query, and who may act on which parcel.
 */
import assert from 'node:assert/strict';
import { price } from '../pricing';
import { createLedgerService } from '../services/ledger';
import { createOrdersService } from '../services/orders';
import { createSimulatorGateway } from '../services/payments';
import { devServerClient } from '../test/support/temporal';
import { testConfig, testPool, testRedis, uniqueId } from '../test/support/env';
import { newOrderId } from './checkout';
import { startHarness, type Harness } from './test-support';
import { wireServices } from './wiring';

interface ErrorBody {
  error: { code: string; details: Record<string, unknown> };
}
const codeOf = (body: unknown): string => (body as ErrorBody).error.code;

function pricingFor(sellers: string[]): ReturnType<typeof price> {
  return price({
    currency: 'USD',
    lines: sellers.map((sellerId, i) => ({ lineId: String(i), sku: `sku-${i}`, sellerId, category: 'books', unitPrice: 1000, quantity: 1 })),
    defaultTaxRateBps: 1000,
    defaultCommissionBps: 500,
  });
}

describe('orders and parcels over HTTP @integration', () => {
  let harness: Harness;
  let closeTemporal: () => Promise<void>;
  const orders = createOrdersService({ pool: testPool() });
  const ledger = createLedgerService({ pool: testPool() });

  before(async () => {
    const { client, close } = await devServerClient();
    closeTemporal = close;
    const gateway = createSimulatorGateway({ baseUrl: 'http://127.0.0.1:9', webhookSecret: testConfig.webhookSecret });
    harness = await startHarness({ probes: {}, config: { queryTimeoutMs: 500 }, ...wireServices({ pool: testPool(), redis: testRedis(), temporal: client, gateway }) });
  });
  after(async () => {
    await harness.close();
    await closeTemporal();
  });

  /** An order as the API would have accepted it (PROCESSING, not yet priced). */
  async function acceptedOrder(buyerId: string): Promise<string> {
    const orderId = newOrderId();
    await orders.acceptCheckoutRequest({ orderId, buyerId, idempotencyKey: uniqueId('key'), requestHash: 'h' });
    return orderId;
  }

  /**
   * A completed order with one HELD parcel per seller (no escrow workflows behind it). Its escrow is
   * posted like the saga's, so the invariant audit that ends the suite still holds.
   */
  async function completedOrder(buyerId: string, sellers: string[]): Promise<string> {
    const orderId = await acceptedOrder(buyerId);
    const pricing = pricingFor(sellers);
    await orders.recordOrder({ orderId, buyerId, pricing });
    await ledger.createEscrow(orderId, pricing);
    await orders.createParcels(
      orderId,
      sellers.map((sellerId) => ({ sellerId, customerPaid: pricing.sellers[sellerId]!.customerPaid, payout: pricing.sellers[sellerId]!.payout, shipBy: new Date(Date.now() + 86_400_000).toISOString() })),
    );
    await orders.setStatus(orderId, buyerId, 'COMPLETED');
    return orderId;
  }

  describe('GET /v1/orders/{orderId}', () => {
    it('shows the buyer their order, with empty saga arrays when there is no workflow to ask', async () => {
      const buyer = uniqueId('buyer');
      const orderId = await acceptedOrder(buyer);
      const res = await harness.request('GET', `/v1/orders/${orderId}`, { token: harness.token('buyer', buyer) });
      assert.equal(res.status, 200);
      const body = res.body as { orderId: string; userId: string; status: string; pricing: unknown; parcels: unknown[]; saga: { steps: unknown[]; compensations: unknown[] } };
      assert.equal(body.orderId, orderId);
      assert.equal(body.userId, buyer);
      assert.equal(body.status, 'PROCESSING');
      assert.equal(body.pricing, null);
      assert.deepEqual(body.saga, { steps: [], compensations: [] });
    });

    it('shows a completed order with its pricing and parcels', async () => {
      const buyer = uniqueId('buyer');
      const orderId = await completedOrder(buyer, ['seller_a', 'seller_b']);
      const res = await harness.request('GET', `/v1/orders/${orderId}`, { token: harness.token('buyer', buyer) });
      assert.equal(res.status, 200);
      const body = res.body as { status: string; pricing: { totals: { grandTotal: number } }; parcels: { sellerId: string; status: string; customerPaid: number }[] };
      assert.equal(body.status, 'COMPLETED');
      assert.equal(body.pricing.totals.grandTotal, 2200);
      assert.deepEqual(body.parcels.map((p) => [p.sellerId, p.status, p.customerPaid]), [['seller_a', 'HELD', 1100], ['seller_b', 'HELD', 1100]]);
    });

    it("refuses another buyer's order with 403, and lets admin and the order's sellers read it", async () => {
      const buyer = uniqueId('buyer');
      const orderId = await completedOrder(buyer, ['seller_a']);
      const other = await harness.request('GET', `/v1/orders/${orderId}`, { token: harness.token('buyer', uniqueId('buyer')) });
      assert.equal(other.status, 403);
      assert.equal(codeOf(other.body), 'FORBIDDEN');
      const otherSeller = await harness.request('GET', `/v1/orders/${orderId}`, { token: harness.token('seller', 'u-s', 'seller_zz') });
      assert.equal(otherSeller.status, 403);
      assert.equal((await harness.request('GET', `/v1/orders/${orderId}`, { token: harness.token('seller', 'u-s', 'seller_a') })).status, 200);
      assert.equal((await harness.request('GET', `/v1/orders/${orderId}`, { token: harness.token('admin', 'ops') })).status, 200);
    });

    it('answers 404 NOT_FOUND for an unknown order and 400 for an id that cannot be one', async () => {
      const token = harness.token('buyer', uniqueId('buyer'));
      const missing = await harness.request('GET', `/v1/orders/${newOrderId()}`, { token });
      assert.equal(missing.status, 404);
      assert.equal(codeOf(missing.body), 'NOT_FOUND');
      for (const bad of ['a'.repeat(65), 'x%20y', 'caf%C3%A9', '%F0%9F%92%A9']) {
        const res = await harness.request('GET', `/v1/orders/${bad}`, { token });
        assert.equal(res.status, 400, bad);
        assert.equal(codeOf(res.body), 'VALIDATION_FAILED');
        assert.deepEqual((res.body as ErrorBody).error.details.issues, [{ path: 'path.orderId', message: 'must be 1-64 letters, digits, _ or -' }]);
      }
    });
  });

  describe('GET /v1/orders', () => {
    it("pages through the caller's orders, newest first, and shows no one else's", async () => {
      const buyer = uniqueId('buyer');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await acceptedOrder(buyer));
      await acceptedOrder(uniqueId('buyer'));
      const token = harness.token('buyer', buyer);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${encodeURIComponent(cursor)}`;
        const res = await harness.request('GET', `/v1/orders${query}`, { token });
        assert.equal(res.status, 200);
        const page = res.body as { orders: { orderId: string; userId: string }[]; nextCursor: string | null };
        assert.ok(page.orders.length <= 2);
        for (const o of page.orders) assert.equal(o.userId, buyer);
        seen.push(...page.orders.map((o) => o.orderId));
        cursor = page.nextCursor;
      } while (cursor !== null);
      assert.deepEqual(seen, [...ids].reverse());
    });

    it('refuses a bad limit or cursor with 400 VALIDATION_FAILED naming the field', async () => {
      const token = harness.token('buyer', uniqueId('buyer'));
      for (const [query, field] of [
        ['limit=0', 'query.limit'],
        ['limit=101', 'query.limit'],
        ['limit=-1', 'query.limit'],
        ['limit=abc', 'query.limit'],
        ['limit=1.5', 'query.limit'],
        ['limit=99999999999999999999', 'query.limit'],
        ['cursor=not-a-cursor', 'cursor'],
        ['cursor=', 'query.cursor'],
        ['unknown=1', 'query.unknown'],
      ] as const) {
        const res = await harness.request('GET', `/v1/orders?${query}`, { token });
        assert.equal(res.status, 400, query);
        assert.equal(codeOf(res.body), 'VALIDATION_FAILED', query);
        const paths = ((res.body as ErrorBody).error.details.issues as { path: string }[]).map((i) => i.path);
        assert.ok(paths.includes(field), `${query}: ${JSON.stringify(paths)}`);
      }
    });
  });

  describe('parcel actions: who may do what', () => {
    let buyer: string;
    let orderId: string;
    before(async () => {
      buyer = uniqueId('buyer');
      orderId = await completedOrder(buyer, ['seller_a', 'seller_b']);
    });
    const act = (action: string, token: string, sellerId = 'seller_a', body?: unknown) =>
      harness.request('POST', `/v1/orders/${orderId}/parcels/${sellerId}/${action}`, { token, ...(body === undefined ? {} : { body }) });

    it('ship: another seller, the buyer and a stranger are refused with 403', async () => {
      for (const token of [harness.token('seller', 'u-b', 'seller_b'), harness.token('buyer', buyer), harness.token('buyer', uniqueId('buyer'))]) {
        const res = await act('ship', token);
        assert.equal(res.status, 403);
        assert.equal(codeOf(res.body), 'FORBIDDEN');
      }
    });

    it('deliver: only admin (seller and buyer are refused)', async () => {
      for (const token of [harness.token('seller', 'u-a', 'seller_a'), harness.token('buyer', buyer)]) {
        assert.equal((await act('deliver', token)).status, 403);
      }
    });

    it('confirm-receipt and refund: only the order buyer or admin (sellers and other buyers are refused)', async () => {
      for (const action of ['confirm-receipt', 'refund']) {
        for (const token of [harness.token('seller', 'u-a', 'seller_a'), harness.token('buyer', uniqueId('buyer'))]) {
          const res = await act(action, token, 'seller_a', { reason: 'changed my mind' });
          assert.equal(res.status, 403, action);
        }
      }
    });

    it('refund needs a reason (400 VALIDATION_FAILED naming body.reason)', async () => {
      const res = await act('refund', harness.token('buyer', buyer), 'seller_a', {});
      assert.equal(res.status, 400);
      assert.deepEqual(((res.body as ErrorBody).error.details.issues as { path: string }[]).map((i) => i.path), ['body.reason']);
    });

    it('a parcel of a seller that is not in the order is 404, an unknown order is 404', async () => {
      const res = await act('ship', harness.token('seller', 'u-c', 'seller_c'), 'seller_c');
      assert.equal(res.status, 404);
      const unknown = await harness.request('POST', `/v1/orders/${newOrderId()}/parcels/seller_a/ship`, { token: harness.token('admin', 'ops') });
      assert.equal(unknown.status, 404);
    });

    it('an action on an order that is still processing is 409 INVALID_STATE', async () => {
      const processing = await acceptedOrder(buyer);
      await orders.recordOrder({ orderId: processing, buyerId: buyer, pricing: pricingFor(['seller_a']) });
      const res = await harness.request('POST', `/v1/orders/${processing}/parcels/seller_a/ship`, { token: harness.token('seller', 'u-a', 'seller_a') });
      assert.equal(res.status, 409);
      assert.equal(codeOf(res.body), 'INVALID_STATE');
    });
  });
});
