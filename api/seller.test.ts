/**
 * What sellers see over HTTP: `GET /v1/orders/{orderId}` narrowed to the seller's own part (never
 * another seller's figures), and `GET /v1/seller/parcels` (newest first, status filter, keyset
 * pagination, validation, admin with ?sellerId=). Orders are written straight through
 * services/orders and the ledger, like orders.test.ts (no saga needed), with sellers of their own.
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

interface Line {
  lineId: string;
  sku: string;
  sellerId: string;
  net: number;
}
interface OrderBody {
  orderId: string;
  userId: string;
  pricing: { lines: Line[]; sellers: Record<string, { customerPaid: number; payout: number }>; totals: { grandTotal: number }; splits: { sellers: Record<string, number> } };
  parcels: { sellerId: string; customerPaid: number; payout: number }[];
  scope?: { sellerId: string };
}
interface ParcelPage {
  parcels: { orderId: string; sellerId: string; status: string; lines: Line[]; customerPaid: number; payout: number; shipBy: string; autoReleaseAt?: string }[];
  nextCursor?: string;
}

describe('what sellers see @integration', () => {
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

  /** Two lines per seller (different prices), a platform voucher and tax: figures that differ per seller. */
  function pricingFor(sellers: string[]): ReturnType<typeof price> {
    return price({
      currency: 'USD',
      lines: sellers.flatMap((sellerId, i) => [
        { lineId: `${i}a`, sku: `${sellerId}-sku-a`, sellerId, category: 'books', unitPrice: 1000 * (i + 1), quantity: 1 },
        { lineId: `${i}b`, sku: `${sellerId}-sku-b`, sellerId, category: 'books', unitPrice: 300, quantity: i + 2 },
      ]),
      vouchers: [{ code: 'TENOFF', scope: 'platform', type: 'percent', rateBps: 1000, maxDiscount: null, minSpend: 0 }],
      shippingFees: Object.fromEntries(sellers.map((s, i) => [s, 200 + 100 * i])),
      defaultTaxRateBps: 1000,
      defaultCommissionBps: 500,
    });
  }

  /** A completed order with one HELD parcel per seller, its escrow posted like the saga's (the audit holds). */
  async function completedOrder(buyerId: string, sellers: string[]): Promise<string> {
    const orderId = newOrderId();
    await orders.acceptCheckoutRequest({ orderId, buyerId, idempotencyKey: uniqueId('key'), requestHash: 'h' });
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

  const sellerToken = (sellerId: string): string => harness.token('seller', `user-of-${sellerId}`, sellerId);

  describe('GET /v1/orders/{orderId} as a seller', () => {
    let buyer: string;
    let a: string;
    let b: string;
    let c: string;
    let orderId: string;
    before(async () => {
      buyer = uniqueId('buyer');
      [a, b, c] = [uniqueId('sella'), uniqueId('sellb'), uniqueId('sellc')];
      orderId = await completedOrder(buyer, [a, b, c]);
    });

    it("shows the seller its own lines, parcel and payout, and nothing of the other sellers' figures", async () => {
      const full = pricingFor([a, b, c]);
      const res = await harness.request('GET', `/v1/orders/${orderId}`, { token: sellerToken(b) });
      assert.equal(res.status, 200, res.text);
      const order = res.body as OrderBody;
      assert.deepEqual(order.scope, { sellerId: b });
      assert.equal(order.userId, buyer);
      assert.deepEqual(order.parcels.map((p) => [p.sellerId, p.customerPaid, p.payout]), [[b, full.sellers[b]!.customerPaid, full.sellers[b]!.payout]]);
      assert.deepEqual(order.pricing.lines.map((l) => l.sku), [`${b}-sku-a`, `${b}-sku-b`]);
      assert.deepEqual(Object.keys(order.pricing.sellers), [b]);
      assert.deepEqual(order.pricing.splits.sellers, { [b]: full.sellers[b]!.payout });
      // The order's grand total is the buyer's business: the seller sees the total of its part.
      assert.equal(order.pricing.totals.grandTotal, full.sellers[b]!.customerPaid);
      assert.ok(!res.text.includes(a) && !res.text.includes(c), `another seller leaks: ${res.text}`);
      for (const other of [a, c]) {
        for (const figure of [full.sellers[other]!.customerPaid, full.sellers[other]!.payout]) assert.ok(!res.text.includes(`:${figure},`) && !res.text.includes(`:${figure}}`), `figure ${figure} of ${other} leaks`);
      }
      assert.ok(!res.text.includes(`:${full.totals.grandTotal}`), 'the grand total of the whole order leaks');
    });

    it('the buyer and admin still see the whole order, without a scope', async () => {
      for (const token of [harness.token('buyer', buyer), harness.token('admin', 'ops')]) {
        const res = await harness.request('GET', `/v1/orders/${orderId}`, { token });
        assert.equal(res.status, 200);
        const order = res.body as OrderBody;
        assert.equal(order.scope, undefined);
        assert.deepEqual(order.parcels.map((p) => p.sellerId).sort(), [a, b, c].sort());
        assert.equal(order.pricing.totals.grandTotal, pricingFor([a, b, c]).totals.grandTotal);
      }
    });

    it('a seller with no part in the order gets 403 FORBIDDEN, like a buyer for another buyer’s order', async () => {
      const res = await harness.request('GET', `/v1/orders/${orderId}`, { token: sellerToken(uniqueId('stranger')) });
      assert.equal(res.status, 403);
      assert.equal(codeOf(res.body), 'FORBIDDEN');
      assert.ok(!res.text.includes(a), 'a refusal names nothing of the order');
    });

    it('a seller whose order is priced but not yet paid sees its lines (no parcel yet), and no other seller', async () => {
      const pending = newOrderId();
      await orders.acceptCheckoutRequest({ orderId: pending, buyerId: buyer, idempotencyKey: uniqueId('key'), requestHash: 'h' });
      await orders.recordOrder({ orderId: pending, buyerId: buyer, pricing: pricingFor([a, b]) });
      const res = await harness.request('GET', `/v1/orders/${pending}`, { token: sellerToken(a) });
      assert.equal(res.status, 200, res.text);
      const order = res.body as OrderBody;
      assert.deepEqual(order.parcels, []);
      assert.deepEqual(order.pricing.lines.map((l) => l.sellerId), [a, a]);
      assert.ok(!res.text.includes(b));
    });
  });

  describe('GET /v1/seller/parcels', () => {
    let seller: string;
    let other: string;
    const ids: string[] = [];
    before(async () => {
      seller = uniqueId('sellp');
      other = uniqueId('sello');
      for (let i = 0; i < 5; i++) ids.push(await completedOrder(uniqueId('buyer'), i % 2 === 0 ? [seller, other] : [other, seller]));
      await completedOrder(uniqueId('buyer'), [other]);
      // Two of them move on: one shipped, one delivered (with its auto-release deadline).
      await orders.setParcelStatus(ids[1]!, seller, 'SHIPPED');
      await orders.setParcelStatus(ids[3]!, seller, 'DELIVERED', new Date(Date.now() + 7 * 86_400_000).toISOString());
    });

    const list = (query: string, token = sellerToken(seller)) => harness.request('GET', `/v1/seller/parcels${query}`, { token });

    it("lists the seller's parcels newest first, each with its own lines, what the buyer paid and its payout", async () => {
      const res = await list('');
      assert.equal(res.status, 200, res.text);
      const page = res.body as ParcelPage;
      assert.deepEqual(page.parcels.map((p) => p.orderId), [...ids].reverse());
      assert.equal(page.nextCursor, undefined);
      for (const parcel of page.parcels) {
        assert.equal(parcel.sellerId, seller);
        assert.deepEqual(parcel.lines.map((l) => l.sellerId), [seller, seller]);
        assert.ok(parcel.customerPaid > parcel.payout && parcel.payout > 0);
        assert.ok(!Number.isNaN(Date.parse(parcel.shipBy)));
      }
      assert.ok(!res.text.includes(other), "another seller's lines leak");
      assert.ok(!res.text.includes('escrowWorkflowId'), 'internal routing data leaks');
      const delivered = page.parcels.find((p) => p.orderId === ids[3]);
      assert.equal(delivered?.status, 'DELIVERED');
      assert.ok(delivered.autoReleaseAt);
    });

    it('filters by status', async () => {
      const shipped = (await list('?status=SHIPPED')).body as ParcelPage;
      assert.deepEqual(shipped.parcels.map((p) => [p.orderId, p.status]), [[ids[1], 'SHIPPED']]);
      const held = (await list('?status=HELD')).body as ParcelPage;
      assert.deepEqual(held.parcels.map((p) => p.orderId), [ids[4], ids[2], ids[0]]);
      assert.deepEqual(((await list('?status=REFUNDED')).body as ParcelPage).parcels, []);
    });

    it('pages with limit and the opaque cursor, without gaps or repeats', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const res = await list(`?limit=2${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
        assert.equal(res.status, 200, res.text);
        const page = res.body as ParcelPage;
        assert.ok(page.parcels.length <= 2);
        seen.push(...page.parcels.map((p) => p.orderId));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== undefined);
      assert.equal(pages, 3);
      assert.deepEqual(seen, [...ids].reverse());
      // A status filter pages too.
      const first = (await list('?status=HELD&limit=2')).body as ParcelPage;
      assert.ok(first.nextCursor);
      const second = (await list(`?status=HELD&limit=2&cursor=${encodeURIComponent(first.nextCursor)}`)).body as ParcelPage;
      assert.deepEqual([...first.parcels, ...second.parcels].map((p) => p.orderId), [ids[4], ids[2], ids[0]]);
    });

    it('admin lists any seller with ?sellerId= (and must name one); a seller may name only itself', async () => {
      const admin = harness.token('admin', 'ops');
      const res = await list(`?sellerId=${seller}&limit=100`, admin);
      assert.equal(res.status, 200);
      assert.deepEqual((res.body as ParcelPage).parcels.map((p) => p.orderId), [...ids].reverse());
      const unnamed = await list('', admin);
      assert.equal(unnamed.status, 400);
      assert.equal(codeOf(unnamed.body), 'VALIDATION_FAILED');
      assert.deepEqual(((unnamed.body as ErrorBody).error.details.issues as { path: string }[]).map((i) => i.path), ['query.sellerId']);
      assert.equal((await list(`?sellerId=${seller}`)).status, 200);
      const foreign = await list(`?sellerId=${other}`);
      assert.equal(foreign.status, 403);
      assert.equal(codeOf(foreign.body), 'FORBIDDEN');
    });

    it('is for sellers: a buyer gets 403, no token 401; a seller without parcels gets an empty page', async () => {
      assert.equal((await list('', harness.token('buyer', uniqueId('buyer')))).status, 403);
      assert.equal((await harness.request('GET', '/v1/seller/parcels')).status, 401);
      const empty = await list('', sellerToken(uniqueId('nobody')));
      assert.equal(empty.status, 200);
      assert.deepEqual(empty.body, { parcels: [] });
    });

    it('refuses bad input with 400 VALIDATION_FAILED naming the field', async () => {
      const foreignCursor = Buffer.from(JSON.stringify(['not a date', 'x'])).toString('base64url');
      for (const [query, field] of [
        ['status=LOST', 'query.status'],
        ['status=held', 'query.status'],
        ['status=', 'query.status'],
        ['limit=0', 'query.limit'],
        ['limit=101', 'query.limit'],
        ['limit=-1', 'query.limit'],
        ['limit=abc', 'query.limit'],
        ['limit=1.5', 'query.limit'],
        ['cursor=', 'query.cursor'],
        ['cursor=not-a-cursor', 'query.cursor'],
        [`cursor=${foreignCursor}`, 'query.cursor'],
        [`cursor=${'a'.repeat(600)}`, 'query.cursor'],
        ['sellerId=has%20space', 'query.sellerId'],
        ['unknown=1', 'query.unknown'],
      ] as const) {
        const res = await list(`?${query}`);
        assert.equal(res.status, 400, `${query}: ${res.text}`);
        assert.equal(codeOf(res.body), 'VALIDATION_FAILED', query);
        const paths = ((res.body as ErrorBody).error.details.issues as { path: string }[]).map((i) => i.path);
        assert.ok(paths.includes(field), `${query}: ${JSON.stringify(paths)}`);
      }
    });
  });
});
