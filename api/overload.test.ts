/**
 * Overload answers (api-contract.md, Overload): the checkout rate limit is kept in Redis and shared
 * by several API processes (two apps on two ports, one Redis); 429 and 503 carry `Retry-After` in
 * the one error shape; a Redis that does not answer is 503 SERVICE_UNAVAILABLE naming no host; and
 * the error mapping of the new `ServiceUnavailableError`.
 */
import assert from 'node:assert/strict';
import express from 'express';
import pino from 'pino';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { AppError, ServiceUnavailableError } from '../lib/errors';
import { createRedis } from '../lib/redis';
import { price } from '../pricing';
import { createLedgerService } from '../services/ledger';
import { createOrdersService } from '../services/orders';
import { createSimulatorGateway } from '../services/payments';
import { devServerClient } from '../test/support/temporal';
import { testConfig, testPool, testRedis, uniqueId } from '../test/support/env';
import { newOrderId } from './checkout';
import type { ApiConfig } from './deps';
import { errorHandler, mapError } from './errors';
import { freePort, startHarness, type Harness } from './test-support';
import { wireServices } from './wiring';

interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}
const codeOf = (body: unknown): string => (body as ErrorBody).error.code;
const gateway = createSimulatorGateway({ baseUrl: 'http://127.0.0.1:9', webhookSecret: testConfig.webhookSecret });

describe('overload: shared rate limit, 429 and 503 with Retry-After @integration', function () {
  this.timeout(60_000);
  let client: Client;
  let closeTemporal: () => Promise<void>;
  const harnesses: Harness[] = [];

  before(async () => {
    ({ client, close: closeTemporal } = await devServerClient());
  });
  after(async () => {
    await Promise.all(harnesses.map((h) => h.close()));
    await closeTemporal();
  });

  async function api(config: Partial<ApiConfig>, options: { redis?: 'shared' | 'none' | ReturnType<typeof createRedis> } = {}): Promise<Harness> {
    const wired = wireServices({ pool: testPool(), redis: testRedis(), temporal: client, gateway });
    const redis = options.redis === undefined || options.redis === 'shared' ? testRedis() : options.redis === 'none' ? undefined : options.redis;
    // The 503 cases log their dependency errors on purpose: silent here.
    const harness = await startHarness({ probes: {}, config, ...wired, redis, logger: pino({ level: 'silent' }) });
    harnesses.push(harness);
    return harness;
  }

  /** A checkout of an empty cart: the limiter counts it, then the API refuses it (422) writing nothing. */
  const checkout = (h: Harness, token: string) => h.request('POST', '/v1/checkouts', { token, headers: { 'Idempotency-Key': uniqueId('k') }, body: { paymentMethod: { token: 'tok_visa' } } });

  it('two API processes on one Redis share one limit per user; the 429 has Retry-After in the one error shape', async () => {
    const prefix = `${uniqueId('rl')}:`;
    const config = { checkoutRateLimit: { limit: 3, windowMs: 60_000, prefix } };
    const [a, b] = [await api(config), await api(config)];
    assert.notEqual(a.url, b.url);
    const buyer = uniqueId('buyer');
    const token = a.token('buyer', buyer);
    const statuses: number[] = [];
    for (const h of [a, b, a, b, a]) statuses.push((await checkout(h, token)).status);
    assert.deepEqual(statuses, [422, 422, 422, 429, 429]);

    const limited = await checkout(b, token);
    assert.equal(limited.status, 429);
    assert.equal(codeOf(limited.body), 'RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${limited.headers.get('retry-after')}`);
    assert.equal((limited.body as ErrorBody).error.details.retryAfterSeconds, retryAfter);
    assert.ok(limited.headers.get('ratelimit'), 'IETF RateLimit header');
    // The counter lives in Redis under the configured prefix, expiring with the window.
    const ttl = await testRedis().pttl(`${prefix}${buyer}`);
    assert.ok(ttl > 0 && ttl <= 60_000, `ttl ${ttl}`);
    assert.equal(await testRedis().get(`${prefix}${buyer}`), '6');
    // Another user has a budget of their own, on either process.
    assert.equal((await checkout(b, a.token('buyer', uniqueId('buyer')))).status, 422);
  });

  it('another prefix (another environment on the same Redis) counts apart', async () => {
    const buyer = uniqueId('buyer');
    const first = await api({ checkoutRateLimit: { limit: 1, windowMs: 60_000, prefix: `${uniqueId('env1')}:` } });
    const second = await api({ checkoutRateLimit: { limit: 1, windowMs: 60_000, prefix: `${uniqueId('env2')}:` } });
    const token = first.token('buyer', buyer);
    assert.equal((await checkout(first, token)).status, 422);
    assert.equal((await checkout(first, token)).status, 429);
    assert.equal((await checkout(second, token)).status, 422);
  });

  it('without Redis (no shared store wired) each process counts alone', async () => {
    const config = { checkoutRateLimit: { limit: 1, windowMs: 60_000 } };
    const [a, b] = [await api(config, { redis: 'none' }), await api(config, { redis: 'none' })];
    const token = a.token('buyer', uniqueId('buyer'));
    assert.deepEqual([(await checkout(a, token)).status, (await checkout(b, token)).status, (await checkout(a, token)).status], [422, 422, 429]);
  });

  it('a Redis that does not answer is 503 SERVICE_UNAVAILABLE with Retry-After, naming no host and writing nothing', async () => {
    const deadRedis = createRedis(`redis://127.0.0.1:${await freePort()}/1`, 'dead-redis-test');
    try {
      const h = await api({ checkoutRateLimit: { limit: 5, windowMs: 60_000, prefix: `${uniqueId('rl')}:` } }, { redis: deadRedis });
      const buyer = uniqueId('buyer');
      const res = await checkout(h, h.token('buyer', buyer));
      assert.equal(res.status, 503, res.text);
      assert.equal(codeOf(res.body), 'SERVICE_UNAVAILABLE');
      assert.deepEqual((res.body as ErrorBody).error.details, { dependency: 'redis' });
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      assert.doesNotMatch(res.text, /127\.0\.0\.1|ECONNREFUSED|MaxRetries|\bat\b.*\.ts/);
      assert.equal((await testPool().query('SELECT 1 FROM orders WHERE buyer_id = $1', [buyer])).rowCount, 0);
    } finally {
      deadRedis.disconnect();
    }
  });

  it('Temporal unreachable during a parcel action is 503 SERVICE_UNAVAILABLE with Retry-After', async () => {
    // A completed order with one parcel, written straight through the services (escrow posted, so the audit holds).
    const orders = createOrdersService({ pool: testPool() });
    const buyerId = uniqueId('buyer');
    const sellerId = uniqueId('seller');
    const orderId = newOrderId();
    const pricing = price({ currency: 'USD', lines: [{ lineId: '1', sku: 'sku-1', sellerId, category: 'books', unitPrice: 1000, quantity: 1 }], defaultTaxRateBps: 1000, defaultCommissionBps: 500 });
    await orders.acceptCheckoutRequest({ orderId, buyerId, idempotencyKey: uniqueId('key'), requestHash: 'h' });
    await orders.recordOrder({ orderId, buyerId, pricing });
    await createLedgerService({ pool: testPool() }).createEscrow(orderId, pricing);
    await orders.createParcels(orderId, [{ sellerId, customerPaid: pricing.sellers[sellerId]!.customerPaid, payout: pricing.sellers[sellerId]!.payout, shipBy: new Date(Date.now() + 86_400_000).toISOString() }]);
    await orders.setStatus(orderId, buyerId, 'COMPLETED');

    const unreachable = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500, interceptors: [] });
    try {
      const deadTemporal = new Client({ connection: unreachable, namespace: testConfig.temporalNamespace });
      const wired = wireServices({ pool: testPool(), redis: testRedis(), temporal: deadTemporal, gateway });
      const h = await startHarness({ probes: {}, ...wired, logger: pino({ level: 'silent' }) });
      harnesses.push(h);
      const res = await h.request('POST', `/v1/orders/${orderId}/parcels/${sellerId}/ship`, { token: h.token('seller', 'u', sellerId) });
      assert.equal(res.status, 503, res.text);
      assert.equal(codeOf(res.body), 'SERVICE_UNAVAILABLE');
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      assert.doesNotMatch(res.text, /127\.0\.0\.1/);
    } finally {
      await unreachable.close().catch(() => undefined);
    }
  });
});

describe('503 SERVICE_UNAVAILABLE and Retry-After mapping', () => {
  async function answer(err: unknown, before?: (res: express.Response) => void): Promise<{ status: number; retryAfter: string | null; body: ErrorBody }> {
    const app = express();
    app.get('/', (_req, res, next) => {
      before?.(res);
      next(err);
    });
    app.use(errorHandler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as ErrorBody };
    } finally {
      server.close();
    }
  }

  it('maps ServiceUnavailableError to 503 with its Retry-After, and keeps its raw message out of the body', async () => {
    const res = await answer(new ServiceUnavailableError('postgres', 'connect ECONNREFUSED 10.0.0.7:5432', 7));
    assert.equal(res.status, 503);
    assert.equal(res.retryAfter, '7');
    assert.equal(res.body.error.code, 'SERVICE_UNAVAILABLE');
    assert.deepEqual(res.body.error.details, { dependency: 'postgres' });
    assert.doesNotMatch(res.body.error.message, /ECONNREFUSED|10\.0\.0\.7/);
    assert.equal(mapError(new ServiceUnavailableError('redis'))?.status, 503);
  });

  it('maps a database that is unreachable or restarting to 503 (found by the chaos scenario: these were 500s)', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const res = await answer(refused);
    assert.equal(res.status, 503);
    assert.equal(res.retryAfter, '2');
    assert.deepEqual(res.body.error.details, { dependency: 'postgres' });
    assert.doesNotMatch(res.body.error.message, /ECONNREFUSED|5432/);
    for (const code of ['57P01', '08006', '53300', 'ECONNRESET']) assert.equal(mapError(Object.assign(new Error('x'), { code }))?.status, 503, code);
    // A constraint violation or a syntax error is a bug or a refusal, never "the database is down".
    for (const code of ['23505', '42601']) assert.equal(mapError(Object.assign(new Error('x'), { code })), undefined, code);
    // ioredis giving up on a command while Redis is cut (the chaos scenario's last 500).
    const redisDown = Object.assign(new Error('Reached the max retries per request limit (which is 5).'), { name: 'MaxRetriesPerRequestError' });
    assert.deepEqual(mapError(redisDown)?.body.error.details, { dependency: 'redis' });
    assert.equal(mapError(redisDown)?.status, 503);
  });

  it('gives every 429 a Retry-After: the error’s own, else a default; a header already set is kept', async () => {
    assert.equal((await answer(new AppError('rate_limited', 'RATE_LIMITED', 'slow down', { retryAfterSeconds: 12 }))).retryAfter, '12');
    assert.equal((await answer(new AppError('rate_limited', 'OVERLOADED', 'admission control'))).retryAfter, '1');
    assert.equal((await answer(new AppError('rate_limited', 'RATE_LIMITED', 'x', { retryAfterSeconds: 12 }), (res) => res.setHeader('Retry-After', '3'))).retryAfter, '3');
    // Other statuses carry none.
    assert.equal((await answer(new AppError('conflict', 'INVALID_STATE', 'no'))).retryAfter, null);
  });

  it('is not an AppError: activities leave it retryable for Temporal', () => {
    assert.ok(!(new ServiceUnavailableError('redis') instanceof AppError));
  });
});
