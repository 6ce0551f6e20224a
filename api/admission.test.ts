/**
 * Admission control (api/admission.ts): past the in-flight limit POST /v1/checkouts answers 429
 * OVERLOADED with Retry-After at once, having read, written and reserved nothing; a slot freed
 * admits the next; the queue admits in order or refuses at its timeout; a shared Redis token bucket
 * limits every API process on it together; /metrics counts what was shed.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import { createSimulatorGateway } from '../services/payments';
import { devServerClient } from '../test/support/temporal';
import { testConfig, testPool, testRedis, uniqueId } from '../test/support/env';
import { admissionConfigFromEnv, admissionDefaults, createAdmission, createAdmissionMetrics, type AdmissionConfig } from './admission';
import { errorHandler } from './errors';
import { createHttpMetrics } from './observability';
import { fillCart, startHarness, type Harness } from './test-support';
import { wireServices } from './wiring';
import { Registry } from 'prom-client';

const config = (overrides: Partial<AdmissionConfig>): AdmissionConfig => ({ ...admissionDefaults, ...overrides });

/** A real HTTP server whose one route is gated and then held open until released. */
async function gatedServer(admission: ReturnType<typeof createAdmission>): Promise<{ url: string; release: () => void; close: () => Promise<void> }> {
  const held: (() => void)[] = [];
  const app = express();
  app.post('/x', admission.middleware, (_req, res) => {
    held.push(() => res.status(200).json({ ok: true }));
  });
  app.use(errorHandler);
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`,
    release: () => held.shift()?.(),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const until = async (check: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    assert.ok(Date.now() < deadline, 'condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('admission control', () => {
  it('reads its limits from the environment and refuses nonsense', () => {
    assert.deepEqual(admissionConfigFromEnv({}), admissionDefaults);
    const c = admissionConfigFromEnv({ CHECKOUT_MAX_IN_FLIGHT: '8', CHECKOUT_MAX_QUEUE: '4', CHECKOUT_QUEUE_TIMEOUT_MS: '30', CHECKOUT_ADMISSION_RATE: '50', CHECKOUT_OVERLOAD_RETRY_AFTER_S: '2' });
    assert.deepEqual([c.maxInFlight, c.maxQueue, c.queueTimeoutMs, c.ratePerSecond, c.burst, c.retryAfterSeconds], [8, 4, 30, 50, 50, 2]);
    assert.throws(() => admissionConfigFromEnv({ CHECKOUT_MAX_IN_FLIGHT: '-1' }), /CHECKOUT_MAX_IN_FLIGHT/);
    assert.throws(() => admissionConfigFromEnv({ CHECKOUT_QUEUE_TIMEOUT_MS: '0' }), /CHECKOUT_QUEUE_TIMEOUT_MS/);
    assert.throws(() => admissionConfigFromEnv({ CHECKOUT_ADMISSION_KEY: 'has space' }), /CHECKOUT_ADMISSION_KEY/);
  });

  it('past the in-flight limit: 429 OVERLOADED with Retry-After at once; a freed slot admits the next; the shed is counted', async () => {
    const registry = new Registry();
    const admission = createAdmission(config({ maxInFlight: 2, retryAfterSeconds: 3 }), { metrics: createAdmissionMetrics(registry) });
    const server = await gatedServer(admission);
    try {
      const first = [fetch(server.url, { method: 'POST' }), fetch(server.url, { method: 'POST' })];
      await until(() => admission.inFlight() === 2);
      const started = performance.now();
      const refused = await fetch(server.url, { method: 'POST' });
      assert.equal(refused.status, 429);
      assert.ok(performance.now() - started < 500, 'the refusal is immediate');
      assert.equal(refused.headers.get('retry-after'), '3');
      const body = (await refused.json()) as { error: { code: string; details: { reason: string } } };
      assert.equal(body.error.code, 'OVERLOADED');
      assert.equal(body.error.details.reason, 'queue_full');
      server.release();
      assert.equal((await first[0]!).status, 200);
      await until(() => admission.inFlight() === 1);
      const third = fetch(server.url, { method: 'POST' });
      await until(() => admission.inFlight() === 2);
      server.release();
      server.release();
      assert.deepEqual([(await first[1]!).status, (await third).status], [200, 200]);
      assert.match(await registry.metrics(), /checkout_admission_shed_total\{reason="queue_full"\} 1/);
    } finally {
      await server.close();
    }
  });

  it('a queued request is admitted when a slot frees, or refused at its timeout', async () => {
    const admission = createAdmission(config({ maxInFlight: 1, maxQueue: 1, queueTimeoutMs: 300 }));
    const server = await gatedServer(admission);
    try {
      const holder = fetch(server.url, { method: 'POST' });
      await until(() => admission.inFlight() === 1);
      const queued = fetch(server.url, { method: 'POST' });
      await until(() => admission.queued() === 1);
      assert.equal((await fetch(server.url, { method: 'POST' })).status, 429, 'the queue is full');
      server.release();
      assert.equal((await holder).status, 200);
      await until(() => admission.inFlight() === 1 && admission.queued() === 0);
      server.release();
      assert.equal((await queued).status, 200);

      const holder2 = fetch(server.url, { method: 'POST' });
      await until(() => admission.inFlight() === 1);
      const started = performance.now();
      const timedOut = await fetch(server.url, { method: 'POST' });
      assert.equal(timedOut.status, 429);
      assert.equal(((await timedOut.json()) as { error: { details: { reason: string } } }).error.details.reason, 'queue_timeout');
      assert.ok(performance.now() - started >= 290);
      server.release();
      assert.equal((await holder2).status, 200);
    } finally {
      await server.close();
    }
  });

  it('the shared token bucket in Redis limits two API processes together @integration', async () => {
    const sharedKey = uniqueId('admission');
    const shared = config({ maxInFlight: 0, ratePerSecond: 1, burst: 3, sharedKey });
    const [a, b] = [createAdmission(shared, { redis: testRedis() }), createAdmission(shared, { redis: testRedis() })];
    const [sa, sb] = [await gatedServer(a), await gatedServer(b)];
    try {
      const answers: Promise<Response>[] = [];
      for (const s of [sa, sb, sa, sb, sa]) {
        const res = await Promise.race([fetch(s.url, { method: 'POST' }), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 300))]);
        if (res) answers.push(Promise.resolve(res));
      }
      // Three tokens: three requests are held open (admitted), the other two refused by the bucket.
      assert.equal(answers.length, 2);
      for (const res of await Promise.all(answers)) {
        assert.equal(res.status, 429);
        assert.equal(((await res.json()) as { error: { details: { reason: string } } }).error.details.reason, 'shared_rate');
      }
    } finally {
      for (let i = 0; i < 3; i += 1) {
        sa.release();
        sb.release();
      }
      await sa.close();
      await sb.close();
      await testRedis().del(sharedKey);
    }
  });
});

describe('admission control on POST /v1/checkouts @integration', function () {
  this.timeout(60_000);
  let client: Client;
  let closeTemporal: () => Promise<void>;
  let harness: Harness;
  const metrics = createHttpMetrics();

  before(async () => {
    ({ client, close: closeTemporal } = await devServerClient());
    const gateway = createSimulatorGateway({ baseUrl: 'http://127.0.0.1:9', webhookSecret: testConfig.webhookSecret });
    const wired = wireServices({ pool: testPool(), redis: testRedis(), temporal: client, gateway });
    // No worker polls the harness's task queue: an admitted checkout stays in flight for its whole wait.
    harness = await startHarness({ probes: {}, ...wired, redis: testRedis(), metrics, logger: pino({ level: 'silent' }), config: { checkoutWaitMs: 2500, admission: { maxInFlight: 1, retryAfterSeconds: 2 } } });
  });
  after(async () => {
    await harness?.close();
    await closeTemporal?.();
  });

  it('beyond the limit: 429 OVERLOADED + Retry-After at once, and no order row or reservation is written, the cart untouched', async () => {
    const admin = harness.token('admin', 'ops');
    const seller = uniqueId('seller');
    const sku = uniqueId('sku');
    assert.equal((await harness.request('PUT', `/v1/admin/sellers/${seller}`, { token: admin, body: { name: 'Admission seller', shippingFee: 100 } })).status, 200);
    const product = { sellerId: seller, name: 'Admission item', category: 'books', unitPrice: 1000, currency: 'USD', stock: 50 };
    assert.equal((await harness.request('PUT', `/v1/admin/products/${sku}`, { token: admin, body: product })).status, 200);
    const buyers = Array.from({ length: 6 }, () => uniqueId('buyer'));
    for (const buyer of buyers) await fillCart(harness, harness.token('buyer', buyer), [{ sku, quantity: 1 }]);

    const post = (buyer: string) =>
      harness.request('POST', '/v1/checkouts', { token: harness.token('buyer', buyer), headers: { 'Idempotency-Key': uniqueId('k') }, body: { paymentMethod: { token: 'tok_visa' } } });
    const admitted = post(buyers[0]!);
    // Wait until the first checkout holds the one slot (its order row exists).
    const deadline = Date.now() + 10_000;
    while ((await testPool().query('SELECT 1 FROM orders WHERE buyer_id = $1', [buyers[0]])).rowCount === 0) {
      assert.ok(Date.now() < deadline, 'the first checkout never wrote its order');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const refusals = await Promise.all(
      buyers.slice(1).map(async (buyer) => {
        const started = performance.now();
        const res = await post(buyer);
        return { res, ms: performance.now() - started };
      }),
    );
    for (const { res, ms } of refusals) {
      assert.equal(res.status, 429, res.text);
      assert.equal((res.body as { error: { code: string } }).error.code, 'OVERLOADED');
      assert.equal(res.headers.get('retry-after'), '2');
      assert.ok(ms < 500, `refused in ${Math.round(ms)} ms`);
    }
    const refusedBuyers = buyers.slice(1);
    const orders = await testPool().query('SELECT order_id FROM orders WHERE buyer_id = ANY($1)', [refusedBuyers]);
    assert.equal(orders.rowCount, 0, 'a refused checkout wrote an order');
    const stock = (await harness.request('GET', `/v1/admin/products/${sku}`, { token: admin })).body as { stock: { reserved: number; available: number } };
    assert.equal(stock.stock.reserved, 0, 'nothing is reserved (the admitted saga has no worker)');
    assert.equal(stock.stock.available, 50);
    // Their carts are untouched: a later retry finds them as they were.
    const cart = (await harness.request('GET', '/v1/cart', { token: harness.token('buyer', refusedBuyers[0]!) })).body as { items: unknown[] };
    assert.equal(cart.items.length, 1);

    const first = await admitted;
    assert.equal(first.status, 202, first.text);
    // The slot is free again: the next checkout is admitted.
    const next = await post(refusedBuyers[0]!);
    assert.equal(next.status, 202, next.text);
    assert.match(await metrics.registry.metrics(), /checkout_admission_shed_total\{reason="queue_full"\} 5/);
    for (const id of [(first.body as { orderId: string }).orderId, (next.body as { orderId: string }).orderId]) {
      await client.workflow.getHandle(`checkout:${id}`).terminate('admission test: no worker on this task queue');
    }
  });
});
