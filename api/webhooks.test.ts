/**
 * POST /v1/webhooks/payments over HTTP: signature over the raw bytes, freshness, de-duplication,
 * ignored types, and the signal reaching a running checkout workflow.
 */
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { createSimulatorGateway, signPaymentPayload } from '../services/payments';
import { checkoutWorkflowId } from '../workflows/contract';
import { devServerClient, uniqueTaskQueue } from '../test/support/temporal';
import { testConfig, testPool, testRedis, uniqueId } from '../test/support/env';
import { newOrderId } from './checkout';
import { orderWorkflowType } from '../workflows/contract';
import { startHarness, type Harness } from './test-support';
import { wireServices } from './wiring';

const codeOf = (body: unknown): string => (body as { error: { code: string } }).error.code;

describe('payment webhooks over HTTP @integration', () => {
  let harness: Harness;
  let client: Client;
  let closeTemporal: () => Promise<void>;

  before(async () => {
    ({ client, close: closeTemporal } = await devServerClient());
    const gateway = createSimulatorGateway({ baseUrl: 'http://127.0.0.1:9', webhookSecret: testConfig.webhookSecret });
    harness = await startHarness({ probes: {}, ...wireServices({ pool: testPool(), redis: testRedis(), temporal: client, gateway }) });
  });
  after(async () => {
    await harness.close();
    await closeTemporal();
  });

  const event = (orderId: string, type = 'payment.succeeded', id = uniqueId('evt')): string =>
    JSON.stringify({ id, type, created: Math.floor(Date.now() / 1000), data: { paymentId: uniqueId('pi'), orderId, amount: 7722, currency: 'USD' } });

  const deliver = (raw: string, signature?: string) =>
    harness.request('POST', '/v1/webhooks/payments', {
      rawBody: raw,
      headers: { 'Content-Type': 'application/json', ...(signature === undefined ? {} : { 'Payment-Signature': signature }) },
    });
  const now = (): number => Math.floor(Date.now() / 1000);
  const sign = (raw: string, t = now(), secret = testConfig.webhookSecret): string => signPaymentPayload(secret, t, raw);

  it('refuses a missing, wrong, tampered or stale signature with 400 INVALID_SIGNATURE', async () => {
    const raw = event(newOrderId());
    const cases: [string, string | undefined, string][] = [
      ['missing', undefined, raw],
      ['garbage', 'nonsense', raw],
      ['another secret', sign(raw, now(), 'whsec_other'), raw],
      ['stale (301 s old)', sign(raw, now() - 301), raw],
      // Ahead by more than the tolerance plus any request delay: seconds are floored here, not on the server.
      ['from the future (330 s ahead)', sign(raw, now() + 330), raw],
      // The signature covers the raw bytes: re-serialised JSON with the same meaning does not verify.
      ['over other bytes', sign(raw), JSON.stringify(JSON.parse(raw), null, 2)],
    ];
    for (const [name, signature, body] of cases) {
      const res = await deliver(body, signature);
      assert.equal(res.status, 400, name);
      assert.equal(codeOf(res.body), 'INVALID_SIGNATURE', name);
    }
  });

  it('answers 200 for an event of an unknown order, and reports a repeated event id as a duplicate', async () => {
    const raw = event(newOrderId());
    const first = await deliver(raw, sign(raw));
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, { received: true, eventId: (JSON.parse(raw) as { id: string }).id, duplicate: false });
    const again = await deliver(raw, sign(raw));
    assert.equal(again.status, 200);
    assert.equal((again.body as { duplicate: boolean }).duplicate, true);
  });

  it('answers 200 for a genuine event of a type this system ignores', async () => {
    const raw = JSON.stringify({ id: uniqueId('evt'), type: 'charge.dispute.created', created: now(), data: {} });
    const res = await deliver(raw, sign(raw));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { received: true, eventId: null, duplicate: false });
  });

  it('refuses a correctly signed body that is not a valid event with 400 VALIDATION_FAILED', async () => {
    for (const raw of ['{"id":"evt_1","type":"payment.succeeded"}', 'not json', '[]']) {
      const res = await deliver(raw, sign(raw));
      assert.equal(res.status, 400, raw);
      assert.equal(codeOf(res.body), 'VALIDATION_FAILED', raw);
    }
  });

  it("forwards a verified event to the order's running checkout workflow as the paymentEvent signal", async () => {
    const orderId = newOrderId();
    // A checkout workflow on a task queue no worker polls: it exists and runs, so it can be signalled.
    const handle = await client.workflow.start(orderWorkflowType, {
      workflowId: checkoutWorkflowId(orderId),
      taskQueue: uniqueTaskQueue(),
      args: [{ orderId, buyerId: 'b', items: [], voucherCodes: [], paymentToken: 'tok_visa' }],
    });
    try {
      const raw = event(orderId, 'payment.failed');
      const res = await deliver(raw, sign(raw));
      assert.equal(res.status, 200);
      const history = await handle.fetchHistory();
      const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
      assert.equal(signals.length, 1);
      assert.equal(signals[0]!.workflowExecutionSignaledEventAttributes!.signalName, 'paymentEvent');
    } finally {
      await handle.terminate('test done');
    }
  });
});
