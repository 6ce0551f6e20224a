/**
 * The per-seller escrow with its production durations (3-day ship-by, 7-day auto-release), on
 * Temporal's time-skipping test server: days of workflow time pass in seconds, while every activity
 * still runs for real against Postgres, Redis and the PSP simulator.
 */
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { confirmReceiptUpdate, deliverUpdate, parcelWorkflowId, shipUpdate, type ParcelState } from './contract';
import { startCheckoutHarness, type CheckoutHarness, type Scenario } from '../test/support/checkout-harness';
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
   * A completed one-parcel order (seller X, item A) and a handle on its parcel workflow. It waits by
   * polling the order row, not on the workflow result: waiting on a result lets the test server skip
   * time, which could fire the parcel's 3-day deadline before the test acts.
   */
  async function completedOrder(buyerId: string) {
    const handle = await h.startCheckout({ buyerId, items: [{ sku: s.skus.a, quantity: 1 }], voucherCodes: [], paymentToken: 'tok_visa' });
    const orderId = handle.workflowId.slice('checkout:'.length);
    for (let i = 0; i < 300; i++) {
      const order = await h.services.orders.findOrder(orderId);
      if (order?.status === 'COMPLETED' && order.parcels.length === 1) {
        return { orderId, parcel: env.client.workflow.getHandle(parcelWorkflowId(orderId, s.sellers.x)), customerPaid: order.parcels[0]!.customerPaid };
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
    const final = (await parcel.result()) as ParcelState;
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
    await parcel.executeUpdate(shipUpdate, { args: [{ by: s.sellers.x }] });
    const delivered = await parcel.executeUpdate(deliverUpdate, { args: [{ by: 'admin' }] });
    assert.equal(delivered.status, 'DELIVERED');
    const deliveredMs = Date.parse(delivered.history.at(-1)!.at);
    assert.equal(Date.parse(delivered.autoReleaseAt!), deliveredMs + 7 * dayMs);
    const final = (await parcel.result()) as ParcelState;
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
    await parcel.executeUpdate(shipUpdate, { args: [{ by: s.sellers.x }] });
    await parcel.executeUpdate(deliverUpdate, { args: [{ by: 'admin' }] });
    const released = await parcel.executeUpdate(confirmReceiptUpdate, { args: [{ by: 'buyer-confirms' }] });
    assert.equal(released.status, 'RELEASED');
    assert.equal(((await parcel.result()) as ParcelState).status, 'RELEASED');
    assert.ok((await env.currentTimeMs()) - startedMs < dayMs, 'no deadline had to pass');
    assert.equal(await h.services.ledger.balanceOf('order_escrow', orderId, 'USD'), 0);
  });
});
