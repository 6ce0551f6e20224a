/**
 * Orders placed on the first release keep working after the upgrade: a checkout and its parcel
 * started by a worker running the first release's workflow code (test/fixtures/release-1-workflows)
 * are finished — delivered, then auto-released 7 days later — by a worker running today's code,
 * where the legacy types stay registered beside `orderWorkflow` (workflows/legacy/). The recorded
 * histories of workflows/histories/ check the same from the other side (replay).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { checkoutWorkflowId, deliverUpdate, parcelStateQuery, parcelWorkflowId, shipUpdate, type CheckoutInput } from './contract';
import { startCheckoutHarness, type CheckoutHarness } from '../test/support/checkout-harness';
import { uniqueId } from '../test/support/env';
import { createTimeSkippingEnv, sharedWorkflowBundle } from '../test/support/temporal';
import { bundlerLogger } from '../workers/worker';
import { escrowWorkflowIdOf } from '../api/parcel-actions';

const dayMs = 24 * 3600 * 1000;

describe('upgrade: parcels started on the first release finish on today\'s code (time-skipping) @integration', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let h: CheckoutHarness;

  before(async () => {
    env = await createTimeSkippingEnv();
    h = await startCheckoutHarness({ worker: false, temporal: { client: env.client, nativeConnection: env.nativeConnection, searchAttributes: false } });
  });
  after(async () => {
    await h?.close();
    await env?.teardown();
  });

  it('ships on the old code, then delivers and auto-releases on the new one; the API routes to the legacy parcel workflow', async () => {
    const s = await h.seedScenario();
    const releaseOne = await bundleWorkflowCode({ workflowsPath: path.join(__dirname, '../test/fixtures/release-1-workflows'), logger: bundlerLogger });
    // No workflow cache (so no sticky task queue): once this worker is gone, the next task of its
    // workflows goes to the shared queue at once, where the new worker takes it (a production
    // deploy waits out the sticky timeout instead).
    const oldWorker = await h.startWorker(releaseOne, { maxCachedWorkflows: 0 });
    const orderId = uniqueId('ord');
    const input: CheckoutInput = { orderId, buyerId: 'buyer-upgrade', items: [{ sku: s.skus.a, quantity: 1 }], voucherCodes: [], paymentToken: 'tok_visa', settings: { searchAttributes: false } };
    await env.client.workflow.start('checkoutWorkflow', { taskQueue: h.taskQueue, workflowId: checkoutWorkflowId(orderId), args: [input] });
    for (let i = 0; i < 900 && (await h.services.orders.findOrder(orderId))?.status !== 'COMPLETED'; i++) await new Promise((r) => setTimeout(r, 100));
    const order = await h.services.orders.getOrder(orderId);
    assert.equal(order.status, 'COMPLETED');
    assert.equal(escrowWorkflowIdOf(orderId, order.parcels[0]!), parcelWorkflowId(orderId, s.sellers.x), 'a first-release parcel is addressed by its own workflow');
    const parcel = env.client.workflow.getHandle(parcelWorkflowId(orderId, s.sellers.x));
    assert.equal((await parcel.executeUpdate(shipUpdate, { args: [{ by: s.sellers.x }] })).status, 'SHIPPED');
    await oldWorker.shutdown();

    const newWorker = await h.startWorker(await sharedWorkflowBundle());
    try {
      const delivered = await parcel.executeUpdate(deliverUpdate, { args: [{ by: 'admin' }] });
      assert.equal(delivered.status, 'DELIVERED');
      const deliveredMs = Date.parse(delivered.history.at(-1)!.at);
      await parcel.result();
      const final = await parcel.query(parcelStateQuery);
      assert.equal(final.status, 'RELEASED');
      assert.deepEqual(final.history.map((e) => e.status), ['HELD', 'SHIPPED', 'DELIVERED', 'RELEASED']);
      assert.ok(Date.parse(final.history.at(-1)!.at) >= deliveredMs + 7 * dayMs, 'released 7 days after delivery');
      assert.equal(await h.services.ledger.balanceOf('order_escrow', orderId, 'USD'), 0);
      assert.equal((await h.services.orders.getOrder(orderId)).parcels[0]?.status, 'RELEASED');
      const describe = await parcel.describe();
      assert.equal(describe.type, 'parcelWorkflow');
    } finally {
      await newWorker.shutdown();
    }
  });
});


