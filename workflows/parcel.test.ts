/**
 * The per-seller escrow with its production durations (3-day ship-by, 7-day auto-release), on
 * Temporal's time-skipping test server: days of workflow time pass in seconds, while every activity
 * still runs for real against Postgres, Redis and the PSP simulator. The parcels live in the order's
 * own workflow (`orderWorkflow`, workflows/parcels.ts).
 */
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { orderWorkflow } from './checkout';
import { checkoutWorkflowId, orderIdOfWorkflowId, parcelActionUpdate, parcelOfOrderQuery, type ParcelAction, type ParcelState } from './contract';
import { startCheckoutHarness, type CheckoutHarness, type Scenario } from '../test/support/checkout-harness';
import { testPool } from '../test/support/env';
import { createTimeSkippingEnv } from '../test/support/temporal';

const dayMs = 24 * 3600 * 1000;

describe('parcel escrow with production durations (time-skipping) @integration', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let h: CheckoutHarness;
  let s: Scenario;

  // Time skipping is global to a test server: each test gets a server of its own, so one test's
  // skipped days never interfere with the next one's timers.
  beforeEach(async () => {
    env = await createTimeSkippingEnv();
    h = await startCheckoutHarness({ temporal: { client: env.client, nativeConnection: env.nativeConnection, searchAttributes: false } });
    s = await h.seedScenario();
  });
  afterEach(async () => {
    await h?.close();
    await env?.teardown();
  });

  /**
   * A completed one-parcel order (seller X, item A) and its parcel. It waits by polling the order
   * row, not on the workflow: waiting on a result lets the test server skip time, which could fire
   * the parcel's 3-day deadline before the test acts.
   */
  async function completedOrder(buyerId: string) {
    const handle = await h.startCheckout({ buyerId, items: [{ sku: s.skus.a, quantity: 1 }], voucherCodes: [], paymentToken: 'tok_visa' });
    const orderId = orderIdOfWorkflowId(handle.workflowId)!;
    for (let i = 0; i < 300; i++) {
      const order = await h.services.orders.findOrder(orderId);
      if (order?.status === 'COMPLETED' && order.parcels.length === 1) {
        const workflow = env.client.workflow.getHandle<typeof orderWorkflow>(checkoutWorkflowId(orderId));
        const parcel = {
          act: (action: ParcelAction, by: string) => workflow.executeUpdate(parcelActionUpdate, { args: [{ sellerId: s.sellers.x, action, by }] }),
          /** Waits for the order's workflow to end (every parcel final), letting the server skip time. */
          final: async (): Promise<ParcelState> => {
            await workflow.result();
            return (await workflow.query(parcelOfOrderQuery, s.sellers.x))!;
          },
        };
        return { orderId, parcel, customerPaid: order.parcels[0]!.customerPaid };
      }
      assert.notEqual(order?.status, 'FAILED', JSON.stringify(order?.failure));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`order ${orderId} did not complete`);
  }

  async function stockOfA() {
    const { onHand, reserved, sold } = await h.services.inventory.getStock(s.skus.a);
    return { onHand, reserved, sold };
  }

  it('cancels, refunds and restocks a parcel not shipped within 3 days', async () => {
    const stockBefore = await stockOfA();
    const { orderId, parcel, customerPaid } = await completedOrder('buyer-shipby');
    const final = await parcel.final();
    assert.equal(final.status, 'CANCELLED');
    const heldMs = Date.parse(final.history[0]!.at);
    const cancelledMs = Date.parse(final.history.at(-1)!.at);
    assert.ok(Date.parse(final.shipBy) - heldMs <= 3 * dayMs && Date.parse(final.shipBy) - heldMs > 3 * dayMs - 60_000, 'ship-by is 3 days after the order');
    assert.ok(cancelledMs >= Date.parse(final.shipBy) && cancelledMs < Date.parse(final.shipBy) + 60_000, `cancelled ${(cancelledMs - heldMs) / dayMs} days after the order`);
    const payment = await h.services.payments.getPayment(orderId, { refresh: false });
    assert.equal(payment?.refundedMinor, customerPaid);
    assert.equal(await h.services.ledger.balanceOf('order_escrow', orderId, 'USD'), 0);
    assert.deepEqual(await stockOfA(), stockBefore, 'the unit went back on hand');
    assert.equal((await h.services.orders.getOrder(orderId)).parcels[0]?.status, 'CANCELLED');
  });

  it('releases a delivered parcel to the seller 7 days after delivery without buyer confirmation', async () => {
    const { orderId, parcel } = await completedOrder('buyer-autorelease');
    await parcel.act('ship', s.sellers.x);
    const delivered = await parcel.act('deliver', 'admin');
    assert.equal(delivered.status, 'DELIVERED');
    const deliveredMs = Date.parse(delivered.history.at(-1)!.at);
    assert.equal(Date.parse(delivered.autoReleaseAt!), deliveredMs + 7 * dayMs);
    const final = await parcel.final();
    assert.equal(final.status, 'RELEASED');
    assert.ok((await env.currentTimeMs()) >= deliveredMs + 7 * dayMs);
    assert.equal(final.history.at(-1)?.by, 'system');
    assert.equal(await h.services.ledger.balanceOf('order_escrow', orderId, 'USD'), 0);
    const order = await h.services.orders.getOrder(orderId);
    assert.equal(order.parcels[0]?.status, 'RELEASED');
    assert.equal(order.parcels[0]?.autoReleaseAt, delivered.autoReleaseAt);
  });

  it('releases at once when the buyer confirms receipt before the deadline', async () => {
    const { orderId, parcel } = await completedOrder('buyer-confirms');
    const startedMs = await env.currentTimeMs();
    await parcel.act('ship', s.sellers.x);
    await parcel.act('deliver', 'admin');
    const released = await parcel.act('confirmReceipt', 'buyer-confirms');
    assert.equal(released.status, 'RELEASED');
    const final = await parcel.final();
    assert.equal(final.status, 'RELEASED');
    // Workflow time of the release (the test server may skip time once the workflow has closed).
    assert.ok(Date.parse(final.history.at(-1)!.at) - startedMs < dayMs, 'no deadline had to pass');
    assert.equal(await h.services.ledger.balanceOf('order_escrow', orderId, 'USD'), 0);
  });

  it('a refund the PSP refuses at the ship-by deadline: the parcel is cancelled in the books and restocked, the unpaid refund is its problem; the workflow does not fail', async () => {
    const { orderId, parcel, customerPaid } = await completedOrder('buyer-refused-refund');
    h.psp.updateTestSettings({ refuseRefunds: true });
    const final = await parcel.final();
    assert.equal(final.status, 'CANCELLED');
    assert.equal(final.problem?.action, 'refund');
    assert.equal(final.problem?.code, 'REFUND_REFUSED');
    const row = (await h.services.orders.getOrder(orderId)).parcels[0]!;
    assert.equal(row.status, 'CANCELLED');
    assert.equal(row.problem?.code, 'REFUND_REFUSED');
    assert.equal(await h.services.ledger.balanceOf('order_escrow', orderId, 'USD'), 0, 'the escrow went back to what the buyer is owed');
    const refunds = await testPool().query<{ status: string }>('SELECT status FROM payment_refunds WHERE order_id = $1', [orderId]);
    assert.ok(refunds.rows.every((r) => r.status !== 'succeeded'), 'nothing was paid back');
    assert.ok(customerPaid > 0);
    assert.match(await h.metrics.registry.metrics(), /parcel_money_moves_refused_total\{action="refund",code="REFUND_REFUSED"\} 1/);
  });
});
