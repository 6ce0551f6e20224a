/** Unit tests of the API's pure pieces: request hashing, order merging, path and text checks, configuration. */
import assert from 'node:assert/strict';
import { ValidationError } from '../lib/errors';
import type { OrderRecord } from '../services/orders';
import type { CheckoutState } from '../workflows/contract';
import { authenticate, signToken } from './auth';
import { newOrderId, requestHashOf } from './checkout';
import { apiConfigFromEnv } from './config';
import { mapError } from './errors';
import { mergeOrder } from './order-view';
import { expressPath } from './route';
import { assertStorableText } from './validation';

describe('api units', () => {
  it('hashes a request body independently of key order and spacing, but not of values', () => {
    const a = requestHashOf({ paymentMethod: { token: 'tok_visa' }, expectedGrandTotal: 7722 });
    const b = requestHashOf(JSON.parse('{ "expectedGrandTotal": 7722, "paymentMethod": {"token":"tok_visa"} }'));
    assert.equal(a, b);
    assert.notEqual(a, requestHashOf({ paymentMethod: { token: 'tok_visa' }, expectedGrandTotal: 7723 }));
    assert.notEqual(a, requestHashOf({ paymentMethod: { token: 'tok_visa' } }));
  });

  it('makes URL-safe, distinct order ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, newOrderId));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.match(id, /^ord_[A-Za-z0-9_-]{16}$/);
  });

  describe('mergeOrder', () => {
    const record: OrderRecord = { orderId: 'o', userId: 'u', status: 'PROCESSING', parcels: [], createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };
    const state: CheckoutState = {
      orderId: 'o',
      buyerId: 'u',
      status: 'AWAITING_PAYMENT',
      saga: { steps: [{ name: 'priceCart', status: 'completed', at: 't' }], compensations: [] },
      parcels: [],
      createdAt: 't',
    };

    it('answers from the database with empty saga arrays when the workflow cannot be asked', () => {
      assert.deepEqual(mergeOrder(record, undefined), { orderId: 'o', userId: 'u', status: 'PROCESSING', pricing: null, parcels: [], saga: { steps: [], compensations: [] }, createdAt: record.createdAt });
    });

    it("takes the workflow's fresher status while the record is not terminal", () => {
      const merged = mergeOrder(record, state);
      assert.equal(merged.status, 'AWAITING_PAYMENT');
      assert.deepEqual(merged.saga.steps.map((s) => s.name), ['priceCart']);
    });

    it('never lets the workflow override a terminal status of the record', () => {
      const failure = { code: 'PAYMENT_DECLINED' as const, message: 'no', details: {} };
      const merged = mergeOrder({ ...record, status: 'FAILED', failure }, { ...state, status: 'PROCESSING' });
      assert.equal(merged.status, 'FAILED');
      assert.deepEqual(merged.failure, failure);
    });
  });

  it('converts OpenAPI path templates to express paths', () => {
    assert.equal(expressPath('/v1/orders/{orderId}/parcels/{sellerId}/ship'), '/v1/orders/:orderId/parcels/:sellerId/ship');
  });

  it('refuses NUL, lone surrogates and deep nesting anywhere, naming the field', () => {
    assert.doesNotThrow(() => assertStorableText({ a: ['ok', '💩', 'e\u0301'] }, 'body'));
    const issues = (value: unknown): string[] => {
      try {
        assertStorableText(value, 'body');
        return [];
      } catch (err) {
        return (err as ValidationError).issues.map((i) => i.path);
      }
    };
    assert.deepEqual(issues({ a: ['x', 'y\u0000'] }), ['body.a[1]']);
    assert.deepEqual(issues({ b: '\ud800' }), ['body.b']);
    assert.deepEqual(issues({ c: '\udc00x' }), ['body.c']);
    assert.equal(issues(JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`)).length, 1);
  });

  it('maps errors to statuses in one place', () => {
    assert.equal(mapError(new ValidationError([]))?.status, 400);
    assert.equal(mapError({ type: 'entity.too.large' })?.status, 413);
    assert.equal(mapError({ type: 'entity.parse.failed' })?.body.error.code, 'MALFORMED_JSON');
    assert.equal(mapError({ status: 400, expose: true, message: 'Failed to decode param' })?.status, 400);
    assert.equal(mapError(new Error('boom')), undefined);
  });

  it('reads its configuration from the environment and refuses nonsense', () => {
    const config = apiConfigFromEnv({ CHECKOUT_WAIT_MS: '500', CHECKOUT_RATE_LIMIT: '5', PAYMENT_TIMEOUT_MS: '1000', JWT_SECRET: 's' });
    assert.equal(config.checkoutWaitMs, 500);
    assert.deepEqual(config.checkoutRateLimit, { limit: 5, windowMs: 60_000, prefix: 'rl:checkout:' });
    assert.deepEqual(config.checkoutSettings, { paymentTimeout: 1000 });
    assert.equal(config.jwtSecret, 's');
    assert.throws(() => apiConfigFromEnv({ CHECKOUT_WAIT_MS: 'soon' }), /CHECKOUT_WAIT_MS/);
    assert.throws(() => apiConfigFromEnv({ CHECKOUT_RATE_LIMIT: '0' }), /CHECKOUT_RATE_LIMIT/);
  });

  it('round-trips tokens and rejects a role it does not know', () => {
    const token = signToken({ sub: 'u1', role: 'seller', sellerId: 'seller_x' }, 'k');
    assert.deepEqual(authenticate(`Bearer ${token}`, 'k'), { userId: 'u1', role: 'seller', sellerId: 'seller_x' });
    assert.deepEqual(authenticate(`Bearer ${signToken({ sub: 'u2', role: 'buyer', sellerId: 'ignored' }, 'k')}`, 'k'), { userId: 'u2', role: 'buyer' });
  });
});
