/**
 * The seed journey with PAYMENT_GATEWAY=stripe, end to end: the API in-process, a real Temporal
 * worker running the real workflows and activities (payouts on, as workers/main.ts turns them on
 * for Stripe), the services on the test database, and the Stripe gateway talking to stripe-mock.
 * stripe-mock sends no webhooks: the test signs the ones Stripe would send and posts them to
 * POST /v1/webhooks/stripe.
 *
 * Sellers X and Y have connected accounts, Z has none: X's parcel is paid by a Transfer, Y's is
 * refunded, Z's waits in payout-pending until an administrator sets its account, which pays it.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createWorkerMetrics } from '../../workers/metrics';
import { createScenario, fillCart, startHarness, waitFor, type Harness, type Scenario } from '../../api/test-support';
import { wireServices } from '../../api/wiring';
import { paymentChecks } from '../../scripts/audit/checks';
import { runAudit } from '../../scripts/audit/run';
import { devServerClient, sharedWorkflowBundle, uniqueTaskQueue } from '../../test/support/temporal';
import { testConfig, testPool, testRedis, uniqueId } from '../../test/support/env';
import { createServices } from '..';
import { createCatalogService } from '../catalog';
import { createLedgerService, ledgerKeys } from '../ledger';
import { createPayoutMetrics } from './payouts';
import { createPaymentsService } from './service';
import { requireStripeMock, signedStripeEvent, stripeMockGateway, type RecordedRequest } from './stripe-mock.testing';

interface Parcel {
  sellerId: string;
  status: string;
  customerPaid: number;
  payout: number;
  problem?: { action: string; code: string; message: string };
}
interface Order {
  orderId: string;
  status: string;
  parcels: Parcel[];
}

describe('seed journey with PAYMENT_GATEWAY=stripe against stripe-mock @integration', function () {
  this.timeout(120_000);
  let harness: Harness;
  let scenario: Scenario;
  let requests: RecordedRequest[];
  let close: () => Promise<void>;
  const logLines: Record<string, unknown>[] = [];
  const registry = new Registry();
  const accounts = { x: 'acct_1JourneyX', y: 'acct_1JourneyY', z: 'acct_1JourneyZ' };

  before(async () => {
    await requireStripeMock();
    const recorded = stripeMockGateway();
    requests = recorded.requests;
    const gateway = recorded.gateway;
    const pool = testPool();
    const redis = testRedis();
    const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }));
    const base = createServices({ pool, redis, gateway });
    const payments = createPaymentsService({ pool, gateway, log, metrics: createPayoutMetrics(registry) });
    // What services/index.ts is to wire: setting a seller's account pays what it is owed.
    const catalog = createCatalogService({ pool, stockGate: base.stockGate, sellerPayouts: (sellerId) => payments.payPendingPayouts(sellerId) });
    const services = { ...base, payments, catalog };
    const taskQueue = uniqueTaskQueue();
    const workerMetrics = createWorkerMetrics();
    const connection = await NativeConnection.connect({ address: testConfig.temporalAddress });
    const worker = await Worker.create({
      connection,
      namespace: testConfig.temporalNamespace,
      taskQueue,
      workflowBundle: await sharedWorkflowBundle(),
      activities: createActivities({ pool, redis, services, metrics: workerMetrics.checkout, payoutsEnabled: true }),
      sinks: workerMetrics.sinks,
    });
    const running = worker.run();
    const { client, close: closeClient } = await devServerClient();
    harness = await startHarness({
      probes: {},
      config: { taskQueue, checkoutWaitMs: 2_000, queryTimeoutMs: 5000, checkoutRateLimit: { limit: 1000, windowMs: 60_000 } },
      ...wireServices({ pool, redis, temporal: client, gateway, services }),
    });
    close = async () => {
      await harness.close();
      worker.shutdown();
      await running;
      await terminate(client, taskQueue);
      await closeClient();
      await connection.close();
    };
    scenario = await createScenario(harness);
  });
  after(async () => {
    await close?.();
  });

  const admin = (): string => harness.token('admin', 'ops');
  const putSeller = (sellerId: string, body: Record<string, unknown>) => harness.request('PUT', `/v1/admin/sellers/${sellerId}`, { token: admin(), body });
  const postStripe = (event: { payload: string; signature: string }) =>
    harness.request('POST', '/v1/webhooks/stripe', { rawBody: event.payload, headers: { 'Content-Type': 'application/json', 'Stripe-Signature': event.signature } });
  const sent = (path: string, key: string): RecordedRequest | undefined => requests.find((r) => r.method === 'POST' && r.path === path && r.headers['idempotency-key'] === key);

  it('validates and shows the sellers\' connected accounts', async () => {
    const bad = await putSeller(scenario.sellers.x, { name: 'Seller X', shippingFee: 300, stripeAccountId: 'acct-1 x' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /stripeAccountId/);
    const x = await putSeller(scenario.sellers.x, { name: 'Seller X', shippingFee: 300, stripeAccountId: accounts.x });
    assert.equal(x.status, 200, x.text);
    assert.deepEqual(x.body, { sellerId: scenario.sellers.x, name: 'Seller X', shippingFee: 300, stripeAccountId: accounts.x });
    assert.equal((await putSeller(scenario.sellers.y, { name: 'Seller Y', shippingFee: 300, stripeAccountId: accounts.y })).status, 200);
    // A PUT without stripeAccountId keeps the account (it only renames).
    const renamed = await putSeller(scenario.sellers.x, { name: 'Seller X2', shippingFee: 300 });
    assert.equal((renamed.body as { stripeAccountId?: string }).stripeAccountId, accounts.x);
  });

  it('charges once, completes on the signed payment_intent.succeeded, transfers, refunds, holds Z\'s payout until its account is set', async () => {
    const buyerId = uniqueId('buyer');
    const buyer = harness.token('buyer', buyerId);
    await fillCart(harness, buyer, [
      { sku: scenario.skus.a, quantity: 1 },
      { sku: scenario.skus.b, quantity: 1 },
      { sku: scenario.skus.c, quantity: 1 },
    ], [scenario.vouchers.x2off, scenario.vouchers.platform10, scenario.vouchers.freeship]);
    const checkout = await harness.request('POST', '/v1/checkouts', {
      token: buyer,
      headers: { 'Idempotency-Key': uniqueId('key') },
      body: { paymentMethod: { token: 'pm_card_visa' }, expectedGrandTotal: 7722 },
    });
    assert.ok([201, 202].includes(checkout.status), checkout.text);
    const orderId = (checkout.body as Order).orderId;
    const readOrder = async (): Promise<Order> => (await harness.request('GET', `/v1/orders/${orderId}`, { token: buyer })).body as Order;
    assert.equal((await waitFor(readOrder, (o) => o.status === 'AWAITING_PAYMENT')).status, 'AWAITING_PAYMENT');

    // One PaymentIntent for the grand total, grouped by the order, keyed charge:<orderId>.
    const charge = sent('/v1/payment_intents', `charge:${orderId}`);
    assert.ok(charge, 'no PaymentIntent request');
    assert.equal(charge.status, 200);
    assert.deepEqual([charge.form.get('amount'), charge.form.get('currency'), charge.form.get('transfer_group')], ['7722', 'usd', orderId]);
    const paymentId = charge.body.id as string;
    assert.equal(requests.filter((r) => r.path === '/v1/payment_intents' && r.method === 'POST').length, 1);

    // Stripe's payment_intent.succeeded, signed as Stripe signs it; delivered twice (de-duplicated).
    const intent = { id: paymentId, object: 'payment_intent', amount: 7722, currency: 'usd', status: 'succeeded', metadata: { orderId } };
    const succeeded = signedStripeEvent('payment_intent.succeeded', intent);
    const first = await postStripe(succeeded);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body, { received: true, eventId: succeeded.id, duplicate: false });
    assert.deepEqual((await postStripe(succeeded)).body, { received: true, eventId: succeeded.id, duplicate: true });
    const forged = await postStripe({ payload: succeeded.payload.replace('7722', '1'), signature: succeeded.signature });
    assert.equal(forged.status, 400);
    const completed = await waitFor(readOrder, (o) => o.status === 'COMPLETED');
    assert.equal(completed.status, 'COMPLETED');
    const parcelOf = (order: Order, sellerId: string): Parcel => order.parcels.find((p) => p.sellerId === sellerId)!;

    // X: shipped, delivered, confirmed: released and paid by a Transfer to acct X.
    const act = (sellerId: string, action: string, token: string, body?: unknown) =>
      harness.request('POST', `/v1/orders/${orderId}/parcels/${sellerId}/${action}`, { token, ...(body ? { body } : {}) });
    for (const sellerId of [scenario.sellers.x, scenario.sellers.z]) {
      assert.equal((await act(sellerId, 'ship', admin())).status, 200);
      assert.equal((await act(sellerId, 'deliver', admin())).status, 200);
      const released = await act(sellerId, 'confirm-receipt', buyer);
      assert.equal(released.status, 200, released.text);
    }
    const transferX = sent('/v1/transfers', `payout:${orderId}:${scenario.sellers.x}`);
    assert.ok(transferX, 'no transfer for X');
    assert.equal(transferX.status, 200);
    const payoutX = parcelOf(completed, scenario.sellers.x).payout;
    assert.deepEqual(
      [transferX.form.get('destination'), transferX.form.get('transfer_group'), transferX.form.get('amount'), transferX.form.get('currency')],
      [accounts.x, orderId, String(payoutX), 'usd'],
    );
    const pool = testPool();
    const payoutRows = async () =>
      (await pool.query<{ seller_id: string; status: string; transfer_id: string | null; destination: string | null }>('SELECT seller_id, status, transfer_id, destination FROM payment_payouts WHERE order_id = $1 ORDER BY seller_id', [orderId])).rows;
    assert.deepEqual((await payoutRows()).find((r) => r.seller_id === scenario.sellers.x), { seller_id: scenario.sellers.x, status: 'succeeded', transfer_id: transferX.body.id, destination: accounts.x });

    // Z: released in the books, its payout pending (no account): visible on the parcel, counted, logged.
    let order = await waitFor(readOrder, (o) => parcelOf(o, scenario.sellers.z).problem !== undefined);
    const z = parcelOf(order, scenario.sellers.z);
    assert.equal(z.status, 'RELEASED');
    assert.equal(z.problem?.code, 'PAYOUT_PENDING');
    assert.equal(z.problem?.action, 'release');
    assert.equal(sent('/v1/transfers', `payout:${orderId}:${scenario.sellers.z}`), undefined, 'nothing sent without an account');
    assert.deepEqual((await payoutRows()).find((r) => r.seller_id === scenario.sellers.z), { seller_id: scenario.sellers.z, status: 'awaiting_account', transfer_id: null, destination: null });
    const pendingLine = logLines.find((l) => l.orderId === orderId && l.sellerId === scenario.sellers.z && l.payoutStatus === 'awaiting_account');
    assert.ok(pendingLine, 'no log line for the pending payout');
    assert.equal(pendingLine.level, 40);
    const awaiting = await registry.getSingleMetricAsString('payments_payouts_awaiting_account_total');
    assert.match(awaiting, /payments_payouts_awaiting_account_total [1-9]/);
    const ledger = createLedgerService({ pool });
    assert.ok(await ledger.getEntry(ledgerKeys.payoutPaid(orderId, scenario.sellers.x)), 'X paid in the ledger');
    assert.equal(await ledger.getEntry(ledgerKeys.payoutPaid(orderId, scenario.sellers.z)), undefined, 'Z not paid in the ledger');

    // Y: refunded before release: a Refund of its customerPaid, keyed refund:<orderId>:<sellerId>.
    const refunded = await act(scenario.sellers.y, 'refund', buyer, { reason: 'wrong size' });
    assert.equal(refunded.status, 200, refunded.text);
    const refundY = sent('/v1/refunds', `refund:${orderId}:${scenario.sellers.y}`);
    assert.ok(refundY, 'no refund for Y');
    assert.deepEqual([refundY.form.get('payment_intent'), refundY.form.get('amount')], [paymentId, String(parcelOf(completed, scenario.sellers.y).customerPaid)]);
    const refundRow = (await pool.query<{ refund_id: string; status: string }>('SELECT refund_id, status FROM payment_refunds WHERE order_id = $1', [orderId])).rows;
    assert.deepEqual(refundRow, [{ refund_id: refundY.body.id, status: 'succeeded' }]);
    // Stripe's charge.refunded names the PaymentIntent only: recorded once against the order.
    const chargeRefunded = signedStripeEvent('charge.refunded', { id: 'ch_1', object: 'charge', amount: 7722, amount_refunded: Number(refundY.form.get('amount')), currency: 'usd', payment_intent: paymentId, metadata: {} });
    assert.deepEqual((await postStripe(chargeRefunded)).body, { received: true, eventId: chargeRefunded.id, duplicate: false });
    const stored = await pool.query<{ order_id: string }>('SELECT order_id FROM payment_webhook_events WHERE event_id = $1', [chargeRefunded.id]);
    assert.deepEqual(stored.rows, [{ order_id: orderId }]);

    // The administrator sets Z's account: the pending payout is paid (same key), booked, the problem cleared.
    const setZ = await putSeller(scenario.sellers.z, { name: 'Seller Z', shippingFee: 500, stripeAccountId: accounts.z });
    assert.equal(setZ.status, 200, setZ.text);
    assert.equal((setZ.body as { pendingPayouts?: unknown[] }).pendingPayouts, undefined, setZ.text);
    const transferZ = sent('/v1/transfers', `payout:${orderId}:${scenario.sellers.z}`);
    assert.ok(transferZ, 'no transfer for Z');
    assert.deepEqual([transferZ.form.get('destination'), transferZ.form.get('transfer_group'), transferZ.form.get('amount')], [accounts.z, orderId, String(z.payout)]);
    assert.deepEqual((await payoutRows()).find((r) => r.seller_id === scenario.sellers.z), { seller_id: scenario.sellers.z, status: 'succeeded', transfer_id: transferZ.body.id, destination: accounts.z });
    assert.ok(await ledger.getEntry(ledgerKeys.payoutPaid(orderId, scenario.sellers.z)), 'Z paid in the ledger');
    order = await readOrder();
    assert.equal(parcelOf(order, scenario.sellers.z).problem, undefined);
    assert.equal(parcelOf(order, scenario.sellers.z).status, 'RELEASED');
    // Setting it again pays nothing twice.
    await putSeller(scenario.sellers.z, { name: 'Seller Z', shippingFee: 500, stripeAccountId: accounts.z });
    assert.equal(requests.filter((r) => r.headers['idempotency-key'] === `payout:${orderId}:${scenario.sellers.z}`).length, 1);

    // Per order: transfers + what the platform retains + refunds = the charge.
    const report = await runAudit(pool, paymentChecks.filter((c) => c.name === 'transfers_plus_retained_equal_charge'));
    assert.deepEqual(report.checks[0]!.sample.filter((r) => r.order_id === orderId), []);
    assert.equal(report.checks[0]!.status, 'ok', JSON.stringify(report.checks[0]));
  });

  it('keeps a payout owed and visible when its transfer fails (Stripe unreachable), and pays it when the account is set again', async () => {
    const pool = testPool();
    const buyer = harness.token('buyer', uniqueId('buyer'));
    const seller = uniqueId('seller_w');
    assert.equal((await putSeller(seller, { name: 'Seller W', shippingFee: 0 })).status, 200);
    const sku = uniqueId('sku_w');
    const product = { sellerId: seller, name: 'Lamp', category: 'home', unitPrice: 1000, currency: 'USD', stock: 5 };
    assert.equal((await harness.request('PUT', `/v1/admin/products/${sku}`, { token: admin(), body: product })).status, 200);
    await fillCart(harness, buyer, [{ sku, quantity: 1 }]);
    const checkout = await harness.request('POST', '/v1/checkouts', { token: buyer, headers: { 'Idempotency-Key': uniqueId('key') }, body: { paymentMethod: { token: 'pm_card_visa' } } });
    assert.ok([201, 202].includes(checkout.status), checkout.text);
    const orderId = (checkout.body as Order).orderId;
    const readOrder = async (): Promise<Order> => (await harness.request('GET', `/v1/orders/${orderId}`, { token: buyer })).body as Order;
    await waitFor(readOrder, (o) => o.status === 'AWAITING_PAYMENT');
    const payment = (await pool.query<{ payment_id: string; amount_minor: string }>('SELECT payment_id, amount_minor::text FROM payments WHERE order_id = $1', [orderId])).rows[0]!;
    const intent = { id: payment.payment_id, object: 'payment_intent', amount: Number(payment.amount_minor), currency: 'usd', status: 'succeeded', metadata: { orderId } };
    assert.equal((await postStripe(signedStripeEvent('payment_intent.succeeded', intent))).status, 200);
    await waitFor(readOrder, (o) => o.status === 'COMPLETED');
    for (const action of ['ship', 'deliver']) assert.equal((await harness.request('POST', `/v1/orders/${orderId}/parcels/${seller}/${action}`, { token: admin() })).status, 200);
    assert.equal((await harness.request('POST', `/v1/orders/${orderId}/parcels/${seller}/confirm-receipt`, { token: buyer })).status, 200);
    await waitFor(readOrder, (o) => o.parcels[0]?.problem?.code === 'PAYOUT_PENDING');

    // The account is set while Stripe cannot be reached (a port nothing listens on): still owed, with why.
    await createCatalogService({ pool }).upsertSeller(seller, { name: 'Seller W', shippingFee: 0, stripeAccountId: 'acct_1SellerW' });
    const unreachable = stripeMockGateway({ apiBase: 'http://127.0.0.1:9' });
    const down = createPaymentsService({ pool, gateway: unreachable.gateway, log: pino({ level: 'silent' }), metrics: createPayoutMetrics(registry) });
    const attempt = await down.payPendingPayouts(seller);
    assert.deepEqual(attempt.paid, []);
    assert.equal(attempt.unpaid.length, 1);
    assert.deepEqual([attempt.unpaid[0]!.orderId, attempt.unpaid[0]!.status, attempt.unpaid[0]!.destination], [orderId, 'pending', 'acct_1SellerW']);
    assert.match(attempt.unpaid[0]!.lastError ?? '', /Stripe unavailable/);
    const [row] = await down.unpaidPayouts(seller);
    assert.deepEqual([row?.status, row?.transferId], ['pending', null]);
    assert.match(row?.lastError ?? '', /Stripe unavailable/);
    assert.equal((await readOrder()).parcels[0]?.problem?.code, 'PAYOUT_PENDING', 'still visible on the parcel');
    assert.equal(await createLedgerService({ pool }).getEntry(ledgerKeys.payoutPaid(orderId, seller)), undefined);

    // Stripe is back: the same PUT again pays it with the same key.
    const again = await putSeller(seller, { name: 'Seller W', shippingFee: 0, stripeAccountId: 'acct_1SellerW' });
    assert.equal(again.status, 200, again.text);
    assert.equal((again.body as { pendingPayouts?: unknown[] }).pendingPayouts, undefined, again.text);
    const transfer = sent('/v1/transfers', `payout:${orderId}:${seller}`);
    assert.ok(transfer, 'no transfer after the retry');
    assert.equal(transfer.form.get('destination'), 'acct_1SellerW');
    assert.deepEqual(await down.unpaidPayouts(seller), []);
    assert.ok(await createLedgerService({ pool }).getEntry(ledgerKeys.payoutPaid(orderId, seller)));
    assert.equal((await readOrder()).parcels[0]?.problem, undefined);
    assert.match(await registry.getSingleMetricAsString('payments_payouts_settled_late_total'), /result="failed"} [1-9]/);
  });
});

/** Best effort: the order workflows wait days for parcel deadlines; end them with the test. */
async function terminate(client: Client, taskQueue: string): Promise<void> {
  try {
    for await (const execution of client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` })) {
      await client.workflow.getHandle(execution.workflowId, execution.runId).terminate('test done').catch(() => undefined);
    }
  } catch {
    /* best effort */
  }
}
