import assert from 'node:assert/strict';
import { after, before } from 'mocha';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { checkoutStateQuery, checkoutWorkflowId, orderIdOfWorkflowId, parcelActionUpdate, parcelOfOrderQuery, type CheckoutState, type ParcelAction } from './contract';
import type { orderWorkflow } from './checkout';
import { startCheckoutHarness, type CheckoutHarness, type Scenario } from '../test/support/checkout-harness';
import { testPool, uniqueId } from '../test/support/env';

/** Stock, voucher usage, payment and ledger of one scenario: compared before and after a saga. */
async function storesOf(h: CheckoutHarness, s: Scenario, orderId: string) {
  const stock = await Promise.all([s.skus.a, s.skus.b, s.skus.c].map(async (sku) => {
    const { onHand, reserved, sold } = await h.services.inventory.getStock(sku);
    return { onHand, reserved, sold };
  }));
  const usage = await Promise.all([s.vouchers.sellerX, s.vouchers.platform, s.vouchers.freeShipping].map(async (code) => (await h.services.vouchers.get(code)).usage));
  const payment = await h.services.payments.getPayment(orderId, { refresh: false });
  const escrow = await h.services.ledger.balanceOf('order_escrow', orderId, 'USD');
  return { stock, usage, payment, escrow };
}

const allThree = (s: Scenario) => [
  { sku: s.skus.a, quantity: 1 },
  { sku: s.skus.b, quantity: 1 },
  { sku: s.skus.c, quantity: 1 },
];
const allVouchers = (s: Scenario) => [s.vouchers.sellerX, s.vouchers.platform, s.vouchers.freeShipping];
const orderIdOf = (workflowId: string): string => orderIdOfWorkflowId(workflowId)!;

/** One parcel of an order: its actions (Updates of the order's workflow) and its state. */
function parcelOf(h: CheckoutHarness, orderId: string, sellerId: string) {
  const handle = h.client.workflow.getHandle<typeof orderWorkflow>(checkoutWorkflowId(orderId));
  return {
    act: (action: ParcelAction, input: { by: string; reason?: string }) => handle.executeUpdate(parcelActionUpdate, { args: [{ ...input, sellerId, action }] }),
    query: () => handle.query(parcelOfOrderQuery, sellerId),
  };
}
const stepNames = (state: CheckoutState) => state.saga.steps.map((step) => `${step.name}:${step.status}`);
const compensationNames = (state: CheckoutState) => state.saga.compensations.map((c) => `${c.name}:${c.status}`);

/** Runs a checkout that must fail and checks every store is back where it was. */
async function expectRefusedAndRestored(
  h: CheckoutHarness,
  s: Scenario,
  input: Parameters<CheckoutHarness['startCheckout']>[0],
): Promise<CheckoutState> {
  const orderId = uniqueId('ord');
  const before = await storesOf(h, s, orderId);
  const state = await h.outcome(await h.startCheckout({ ...input, orderId }));
  assert.equal(state.status, 'FAILED');
  const afterwards = await storesOf(h, s, orderId);
  assert.deepEqual(afterwards.stock, before.stock, 'stock is back where it was');
  assert.deepEqual(afterwards.usage, before.usage, 'voucher usage is back where it was');
  assert.equal(afterwards.escrow, 0, 'the order escrow is empty');
  const payment = afterwards.payment;
  if (payment && payment.status === 'succeeded') assert.equal(payment.refundedMinor, payment.amountMinor, 'a charge was refunded in full');
  const order = await h.services.orders.getOrder(orderId);
  assert.equal(order.status, 'FAILED');
  assert.deepEqual(order.failure, state.failure);
  return state;
}

describe('checkout saga @integration', function () {
  this.timeout(60_000);
  let h: CheckoutHarness;
  before(async () => {
    h = await startCheckoutHarness();
  });
  after(async () => {
    await h.close();
  });

  it('completes the worked example: priced, reserved, vouchers held and consumed, charged once, escrowed, parcels held', async () => {
    const s = await h.seedScenario();
    const handle = await h.startCheckout({ buyerId: 'buyer-happy', items: allThree(s), voucherCodes: allVouchers(s), paymentToken: 'tok_visa', expectedGrandTotal: 7722 });
    const orderId = orderIdOf(handle.workflowId);
    const state = await h.outcome(handle);
    assert.equal(state.status, 'COMPLETED', JSON.stringify(state.failure));
    assert.equal(state.pricing?.totals.grandTotal, 7722);
    assert.deepEqual(stepNames(state), ['priceCart', 'recordOrder', 'reserveOrderStock', 'holdOrderVouchers', 'chargePayment', 'createEscrow', 'confirmOrder'].map((n) => `${n}:completed`));
    assert.deepEqual(state.saga.compensations, []);
    assert.deepEqual(state.parcels.map((p) => [p.sellerId, p.status, p.customerPaid, p.payout]), [
      [s.sellers.x, 'HELD', 792, 1060],
      [s.sellers.y, 'HELD', 1980, 2200],
      [s.sellers.z, 'HELD', 4950, 5250],
    ]);
    const stores = await storesOf(h, s, orderId);
    assert.deepEqual(stores.stock, [{ onHand: 9, reserved: 0, sold: 1 }, { onHand: 9, reserved: 0, sold: 1 }, { onHand: 9, reserved: 0, sold: 1 }]);
    assert.deepEqual(stores.usage, [{ held: 0, consumed: 1 }, { held: 0, consumed: 1 }, { held: 0, consumed: 1 }]);
    assert.equal(stores.payment?.status, 'succeeded');
    assert.equal(stores.payment?.amountMinor, 7722);
    // Escrow holds the charge plus the platform's subsidy (780 + 1100): exactly what payouts, commission and tax need.
    assert.equal(stores.escrow, -(7722 + 780 + 1100));
    const order = await h.services.orders.getOrder(orderId);
    assert.equal(order.status, 'COMPLETED');
    assert.equal(order.grandTotal, 7722);
    assert.deepEqual(order.parcels.map((p) => p.status), ['HELD', 'HELD', 'HELD']);
    assert.equal((await handle.query(checkoutStateQuery)).status, 'COMPLETED');
  });

  it('runs one saga for one order however often it is started', async () => {
    const s = await h.seedScenario();
    const orderId = uniqueId('ord');
    const input = { orderId, buyerId: 'buyer-twice', items: [{ sku: s.skus.a, quantity: 2 }], voucherCodes: [], paymentToken: 'tok_visa' };
    const handles = await Promise.all([h.startCheckout(input), h.startCheckout(input), h.startCheckout(input)]);
    assert.equal(new Set(handles.map((x) => x.firstExecutionRunId)).size, 1);
    assert.equal((await h.outcome(handles[0])).status, 'COMPLETED');
    assert.deepEqual(await h.services.inventory.getStock(s.skus.a).then(({ onHand, reserved, sold }) => ({ onHand, reserved, sold })), { onHand: 8, reserved: 0, sold: 2 });
  });

  describe('a refusal at each step undoes every earlier step', () => {
    it('price: a changed grand total -> PRICE_CHANGED before anything is reserved', async () => {
      const s = await h.seedScenario();
      const state = await expectRefusedAndRestored(h, s, { buyerId: 'b1', items: allThree(s), voucherCodes: [], paymentToken: 'tok_visa', expectedGrandTotal: 1 });
      assert.equal(state.failure?.code, 'PRICE_CHANGED');
      assert.equal((state.failure?.details as { grandTotal: number }).grandTotal, 8800 + 1100);
      assert.deepEqual(stepNames(state), ['priceCart:failed']);
      assert.deepEqual(state.saga.compensations, []);
    });

    it('price: a voucher the pricing engine rejects -> VOUCHER_REJECTED with the pricing reason', async () => {
      const s = await h.seedScenario();
      const code = `BIGSPEND-${uniqueId('v')}`.toUpperCase();
      await h.services.vouchers.upsert(code, { scope: 'platform', type: 'fixed', amount: 100, minSpend: 1_000_000 });
      const state = await expectRefusedAndRestored(h, s, { buyerId: 'b2', items: allThree(s), voucherCodes: [code], paymentToken: 'tok_visa' });
      assert.equal(state.failure?.code, 'VOUCHER_REJECTED');
      assert.equal((state.failure?.details as { reason: string }).reason, 'MIN_SPEND_NOT_MET');
    });

    it('reserve: one seller short -> INSUFFICIENT_STOCK listing the short line; the other sellers are released', async () => {
      const s = await h.seedScenario({ c: 0 });
      const state = await expectRefusedAndRestored(h, s, { buyerId: 'b3', items: allThree(s), voucherCodes: allVouchers(s), paymentToken: 'tok_visa' });
      assert.equal(state.failure?.code, 'INSUFFICIENT_STOCK');
      assert.deepEqual(state.failure?.details, { lines: [{ sku: s.skus.c, requested: 1, available: 0 }] });
      // Stock and vouchers are taken at once: the holds went through and are released too.
      assert.deepEqual(stepNames(state), ['priceCart:completed', 'recordOrder:completed', 'reserveOrderStock:failed', 'holdOrderVouchers:completed']);
      assert.deepEqual(compensationNames(state), ['releaseVouchers:completed', 'releaseStock:completed']);
    });

    it('hold vouchers: an exhausted voucher -> VOUCHER_EXHAUSTED; stock released', async () => {
      const s = await h.seedScenario();
      await h.services.vouchers.upsert(s.vouchers.platform, { scope: 'platform', type: 'percent', rateBps: 1000, maxDiscount: 15000, totalLimit: 0 });
      const state = await expectRefusedAndRestored(h, s, { buyerId: 'b4', items: allThree(s), voucherCodes: allVouchers(s), paymentToken: 'tok_visa' });
      assert.equal(state.failure?.code, 'VOUCHER_EXHAUSTED');
      assert.deepEqual(compensationNames(state), ['releaseVouchers:completed', 'releaseStock:completed']);
    });

    it('charge: a declined card -> PAYMENT_DECLINED; vouchers and stock released, nothing charged', async () => {
      const s = await h.seedScenario();
      const state = await expectRefusedAndRestored(h, s, { buyerId: 'b5', items: allThree(s), voucherCodes: allVouchers(s), paymentToken: 'tok_chargeDeclined' });
      assert.equal(state.failure?.code, 'PAYMENT_DECLINED');
      // The payment's undo runs last: stock and vouchers never wait behind the PSP.
      assert.deepEqual(compensationNames(state), ['releaseVouchers:completed', 'releaseStock:completed', 'refundCharge:completed']);
      const payment = await h.services.payments.getPayment(state.orderId, { refresh: false });
      assert.notEqual(payment?.status, 'succeeded');
    });

    it('payment webhook: tok_asyncFail -> AWAITING_PAYMENT, then PAYMENT_DECLINED; everything released', async () => {
      const s = await h.seedScenario();
      const state = await expectRefusedAndRestored(h, s, { buyerId: 'b6', items: allThree(s), voucherCodes: allVouchers(s), paymentToken: 'tok_asyncFail' });
      assert.equal(state.failure?.code, 'PAYMENT_DECLINED');
      // The payment's undo runs last: stock and vouchers never wait behind the PSP.
      assert.deepEqual(compensationNames(state), ['releaseVouchers:completed', 'releaseStock:completed', 'refundCharge:completed']);
    });
  });

  it('tok_async completes by webhook', async () => {
    const s = await h.seedScenario();
    const handle = await h.startCheckout({ buyerId: 'b7', items: allThree(s), voucherCodes: [], paymentToken: 'tok_async' });
    const orderId = orderIdOf(handle.workflowId);
    for (let i = 0; i < 100 && (await h.services.orders.findOrder(orderId))?.status !== 'AWAITING_PAYMENT'; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await h.services.orders.findOrder(orderId))?.status, 'AWAITING_PAYMENT');
    const state = await h.outcome(handle);
    assert.equal(state.status, 'COMPLETED');
    assert.equal((await h.services.payments.getPayment(orderId, { refresh: false }))?.status, 'succeeded');
  });

  it('tok_timeout: the first call times out, the retry with the same key finds the charge; charged once', async () => {
    const s = await h.seedScenario();
    const handle = await h.startCheckout({ buyerId: 'b8', items: [{ sku: s.skus.b, quantity: 1 }], voucherCodes: [], paymentToken: 'tok_timeout' });
    const state = await h.outcome(handle);
    assert.equal(state.status, 'COMPLETED', JSON.stringify(state.failure));
    const { rows } = await testPool().query<{ n: string }>("SELECT count(*) AS n FROM payments WHERE order_id = $1 AND status = 'succeeded'", [state.orderId]);
    assert.equal(rows[0]!.n, '1');
  });
});

describe('checkout saga metrics @integration', function () {
  this.timeout(60_000);
  it('observes checkout durations by final status, compensations and voucher lock failures', async () => {
    const h = await startCheckoutHarness();
    try {
      const s = await h.seedScenario({ c: 0 });
      await h.checkout({ buyerId: 'buyer-metrics', items: [{ sku: s.skus.a, quantity: 1 }], voucherCodes: [], paymentToken: 'tok_visa' });
      await h.checkout({ buyerId: 'buyer-metrics', items: [{ sku: s.skus.c, quantity: 1 }], voucherCodes: [], paymentToken: 'tok_visa' });
      await h.services.vouchers.upsert(s.vouchers.platform, { scope: 'platform', type: 'percent', rateBps: 1000, totalLimit: 0 });
      await h.checkout({ buyerId: 'buyer-metrics', items: [{ sku: s.skus.a, quantity: 1 }], voucherCodes: [s.vouchers.platform], paymentToken: 'tok_visa' });
      const text = await h.metrics.registry.metrics();
      assert.match(text, /checkout_duration_seconds_count\{status="COMPLETED"\} 1/);
      assert.match(text, /checkout_duration_seconds_count\{status="FAILED"\} 2/);
      assert.match(text, /saga_compensations_total\{compensation="releaseStock"\} 2/);
      assert.match(text, /voucher_lock_failures_total\{reason="VOUCHER_EXHAUSTED"\} 1/);
    } finally {
      await h.close();
    }
  });
});

describe('parcel actions @integration', function () {
  this.timeout(60_000);
  let h: CheckoutHarness;
  before(async () => {
    h = await startCheckoutHarness();
  });
  after(async () => {
    await h.close();
  });

  const invalidState = (err: unknown): boolean => {
    assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
    assert.equal((err.cause as { type?: string }).type, 'INVALID_STATE');
    return true;
  };

  it('refuses actions that do not fit the state; a repeated action changes nothing; a refund returns money and stock once', async () => {
    const s = await h.seedScenario();
    const state = await h.checkout({ buyerId: 'buyer-actions', items: [{ sku: s.skus.a, quantity: 2 }], voucherCodes: [], paymentToken: 'tok_visa' });
    assert.equal(state.status, 'COMPLETED');
    const parcel = parcelOf(h, state.orderId, s.sellers.x);
    await assert.rejects(parcel.act('deliver', { by: 'admin' }), invalidState);
    await assert.rejects(parcel.act('confirmReceipt', { by: 'buyer-actions' }), invalidState);
    const shipped = await parcel.act('ship', { by: s.sellers.x });
    const again = await parcel.act('ship', { by: s.sellers.x });
    assert.equal(again.status, 'SHIPPED');
    assert.equal(again.history.length, shipped.history.length, 'a repeated ship adds nothing');
    const refunds = await Promise.all([
      parcel.act('refund', { by: 'buyer-actions', reason: 'changed my mind' }),
      parcel.act('refund', { by: 'admin' }),
    ]);
    assert.deepEqual(refunds.map((r) => r.status), ['REFUNDED', 'REFUNDED']);
    const payment = await h.services.payments.getPayment(state.orderId, { refresh: false });
    assert.equal(payment?.refundedMinor, state.parcels[0]!.customerPaid, 'refunded once');
    const { onHand, reserved, sold } = await h.services.inventory.getStock(s.skus.a);
    assert.deepEqual({ onHand, reserved, sold }, { onHand: 10, reserved: 0, sold: 0 }, 'both units back on hand');
    assert.equal(await h.services.ledger.balanceOf('order_escrow', state.orderId, 'USD'), 0);
    assert.equal((await parcel.query())?.status, 'REFUNDED');
    assert.equal((await h.services.orders.getOrder(state.orderId)).parcels[0]?.status, 'REFUNDED');
  });

  it('exposes the parcel state by query while it waits for shipping', async () => {
    const s = await h.seedScenario();
    const state = await h.checkout({ buyerId: 'buyer-query', items: [{ sku: s.skus.b, quantity: 1 }], voucherCodes: [], paymentToken: 'tok_visa' });
    const parcel = parcelOf(h, state.orderId, s.sellers.y);
    const held = await parcel.query();
    assert.equal(held?.status, 'HELD');
    assert.equal(held?.shipBy, state.parcels[0]!.shipBy);
    await parcel.act('refund', { by: 'admin', reason: 'test clean-up' });
  });
});

describe('checkout saga: failures after the charge @integration', function () {
  this.timeout(60_000);

  it('payment webhook never comes but the PSP says the payment succeeded -> the order completes, charged once', async () => {
    const h = await startCheckoutHarness({ deliverWebhooks: false, psp: { asyncDelayMs: 300 } });
    try {
      const s = await h.seedScenario();
      const state = await h.checkout({ buyerId: 'b9', items: allThree(s), voucherCodes: allVouchers(s), paymentToken: 'tok_async', settings: { paymentTimeout: '2 seconds' } });
      assert.equal(state.status, 'COMPLETED', JSON.stringify(state.failure));
      const payment = await h.services.payments.getPayment(state.orderId, { refresh: false });
      assert.equal(payment?.status, 'succeeded');
      assert.equal(payment?.refundedMinor, 0);
      assert.deepEqual((await storesOf(h, s, state.orderId)).usage, [{ held: 0, consumed: 1 }, { held: 0, consumed: 1 }, { held: 0, consumed: 1 }]);
    } finally {
      await h.close();
    }
  });

  it('payment still pending when the wait ends -> cancelled at the PSP, PAYMENT_TIMEOUT; stock and vouchers released first, never charged', async () => {
    const h = await startCheckoutHarness({ deliverWebhooks: false, psp: { asyncDelayMs: 8000 } });
    try {
      const s = await h.seedScenario();
      const orderId = uniqueId('ord');
      const handle = await h.startCheckout({ orderId, buyerId: 'b9p', items: allThree(s), voucherCodes: allVouchers(s), paymentToken: 'tok_async', settings: { paymentTimeout: '1 second' } });
      const statuses = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const order = await h.services.orders.findOrder(orderId);
        if (order) statuses.add(order.status);
        if (order?.status === 'FAILED') break;
        await new Promise((r) => setTimeout(r, 25));
      }
      const state = await h.outcome(handle);
      assert.equal(state.failure?.code, 'PAYMENT_TIMEOUT');
      assert.equal((state.failure?.details as { pspStatus?: string }).pspStatus, 'canceled');
      assert.deepEqual(compensationNames(state), ['releaseVouchers:completed', 'releaseStock:completed', 'refundCharge:completed']);
      assert.ok(statuses.has('AWAITING_PAYMENT'), 'the order waited for the payment');
      const payment = await h.services.payments.getPayment(orderId, { refresh: true });
      assert.equal(payment?.status, 'canceled');
      const afterwards = await storesOf(h, s, orderId);
      assert.deepEqual(afterwards.usage, [{ held: 0, consumed: 0 }, { held: 0, consumed: 0 }, { held: 0, consumed: 0 }]);
      assert.deepEqual(afterwards.stock.map((x) => x.reserved), [0, 0, 0]);
    } finally {
      await h.close();
    }
  });

  it('confirm: a voucher hold that expired before it was consumed -> escrow, charge, vouchers and stock all undone', async () => {
    const h = await startCheckoutHarness({ holdTimeoutMs: 1 });
    try {
      const s = await h.seedScenario();
      const state = await expectRefusedAndRestored(h, s, { buyerId: 'b10', items: allThree(s), voucherCodes: allVouchers(s), paymentToken: 'tok_visa' });
      assert.equal(state.failure?.code, 'CHECKOUT_REFUSED');
      assert.equal((state.failure?.details as { reason: string }).reason, 'VOUCHER_HOLD_EXPIRED');
      assert.deepEqual(compensationNames(state), ['refundEscrow:completed', 'releaseVouchers:completed', 'releaseStock:completed', 'refundCharge:completed']);
      const statement = await h.services.ledger.statement(state.orderId);
      assert.ok(statement);
    } finally {
      await h.close();
    }
  });
});
