/**
 * Cross-cutting HTTP behaviour over a real socket: authentication, the error shape for bad bodies
 * (malformed JSON, too large, not JSON), request ids, metrics, and the OpenAPI document covering
 * every route express has registered.
 */
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import type { Express } from 'express';
import { devServerClient } from '../test/support/temporal';
import { testConfig, testPool, testRedis, uniqueId } from '../test/support/env';
import { createSimulatorGateway } from '../services/payments';
import { startHarness, type Harness } from './test-support';
import { wireServices } from './wiring';
import { createLogger } from './observability';

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Method + path (OpenAPI template syntax) of every route express has registered, nested routers included. */
export function registeredRoutes(app: Express): string[] {
  const walk = (stack: Layer[]): string[] => stack.flatMap((layer) => {
    const route = layer.route;
    // Nested routers (the health router) are mounted at the root.
    if (!route) return layer.handle?.stack ? walk(layer.handle.stack) : [];
    if (typeof route.path !== 'string') return [];
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    return Object.keys(route.methods)
      .filter((m) => m !== '_all')
      .map((m) => `${m.toUpperCase()} ${path}`);
  });
  return walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
}

describe('HTTP API basics @integration', () => {
  let harness: Harness;
  let closeTemporal: () => Promise<void>;
  const logLines: Record<string, unknown>[] = [];

  before(async () => {
    const { client, close } = await devServerClient();
    closeTemporal = close;
    const gateway = createSimulatorGateway({ baseUrl: 'http://127.0.0.1:9', webhookSecret: testConfig.webhookSecret });
    const destination = { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) };
    harness = await startHarness({
      probes: {},
      logger: createLogger({ level: 'info', destination }),
      config: { bodyLimitBytes: 4096 },
      ...wireServices({ pool: testPool(), redis: testRedis(), temporal: client, gateway }),
    });
  });
  after(async () => {
    await harness.close();
    await closeTemporal();
  });

  describe('authentication', () => {
    const secret = testConfig.jwtSecret;
    const exp = (): number => Math.floor(Date.now() / 1000) + 3600;
    const cases: [string, () => Record<string, string>][] = [
      ['no Authorization header', () => ({})],
      ['a non-Bearer scheme', () => ({ Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` })],
      ['a malformed token', () => ({ Authorization: 'Bearer not-a-jwt' })],
      ['a token signed with another secret', () => ({ Authorization: `Bearer ${jwt.sign({ sub: 'u', role: 'buyer', exp: exp() }, 'other-secret')}` })],
      ['an expired token', () => ({ Authorization: `Bearer ${jwt.sign({ sub: 'u', role: 'buyer', exp: Math.floor(Date.now() / 1000) - 10 }, secret)}` })],
      ['a token without exp', () => ({ Authorization: `Bearer ${jwt.sign({ sub: 'u', role: 'buyer' }, secret, { noTimestamp: true })}` })],
      ['a token with an unknown role', () => ({ Authorization: `Bearer ${jwt.sign({ sub: 'u', role: 'root', exp: exp() }, secret)}` })],
      ['a seller token without sellerId', () => ({ Authorization: `Bearer ${jwt.sign({ sub: 'u', role: 'seller', exp: exp() }, secret)}` })],
      ['an HS512 token (algorithm pinned to HS256)', () => ({ Authorization: `Bearer ${jwt.sign({ sub: 'u', role: 'buyer', exp: exp() }, secret, { algorithm: 'HS512' })}` })],
      [
        'an unsigned token (alg none)',
        () => {
          const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
          return { Authorization: `Bearer ${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: 'u', role: 'admin', exp: exp() })}.` };
        },
      ],
      ['a token with an empty sub', () => ({ Authorization: `Bearer ${jwt.sign({ sub: '', role: 'buyer', exp: exp() }, secret)}` })],
    ];
    for (const [name, headers] of cases) {
      it(`answers 401 UNAUTHENTICATED for ${name}`, async () => {
        const res = await harness.request('GET', '/v1/orders', { headers: headers() });
        assert.equal(res.status, 401);
        assert.equal((res.body as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
      });
    }

    it('answers 403 FORBIDDEN for a valid token of the wrong role', async () => {
      const res = await harness.request('GET', '/v1/orders', { token: harness.token('seller', 'u-seller', 'seller_x') });
      assert.equal(res.status, 403);
      assert.equal((res.body as { error: { code: string } }).error.code, 'FORBIDDEN');
    });
  });

  describe('bodies that are not acceptable JSON', () => {
    const path = (): string => `/v1/orders/${uniqueId('ord')}/parcels/seller_x/refund`;

    it('malformed JSON is 400 MALFORMED_JSON', async () => {
      const res = await harness.request('POST', path(), { token: harness.token('buyer', 'u1'), rawBody: '{"reason": ', headers: { 'Content-Type': 'application/json' } });
      assert.equal(res.status, 400);
      assert.equal((res.body as { error: { code: string } }).error.code, 'MALFORMED_JSON');
    });

    it('a body over the size limit is 413 PAYLOAD_TOO_LARGE in the error shape', async () => {
      const res = await harness.request('POST', path(), { token: harness.token('buyer', 'u1'), body: { reason: 'x'.repeat(5000) } });
      assert.equal(res.status, 413);
      assert.equal((res.body as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');
    });

    it('a non-JSON content type is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      const res = await harness.request('POST', path(), { token: harness.token('buyer', 'u1'), rawBody: 'reason=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      assert.equal(res.status, 415);
      assert.equal((res.body as { error: { code: string } }).error.code, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('a JSON scalar or array where an object is expected is 400 VALIDATION_FAILED', async () => {
      for (const raw of ['"text"', '[1,2]', '42', 'null']) {
        const res = await harness.request('POST', path(), { token: harness.token('buyer', 'u1'), rawBody: raw, headers: { 'Content-Type': 'application/json' } });
        assert.equal(res.status, 400, raw);
        assert.match((res.body as { error: { code: string } }).error.code, /^(VALIDATION_FAILED|MALFORMED_JSON)$/, raw);
      }
    });
  });

  describe('request ids, logs and metrics', () => {
    it('echoes a sane X-Request-Id and logs one JSON line per request with it', async () => {
      const requestId = uniqueId('req');
      const res = await harness.request('GET', `/v1/orders/${uniqueId('ord')}`, { token: harness.token('buyer', 'u-log'), headers: { 'X-Request-Id': requestId } });
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('x-request-id'), requestId);
      const line = logLines.find((l) => l.requestId === requestId && l.msg === 'request');
      assert.ok(line, 'no request log line');
      assert.equal(line.status, 404);
      assert.equal(line.route, '/v1/orders/{orderId}');
      assert.equal(line.userId, 'u-log');
      assert.match(String(line.orderId), /^ord-/);
    });

    it('GET /metrics counts requests by route template and status', async () => {
      await harness.request('GET', `/v1/orders/${uniqueId('ord')}`, { token: harness.token('buyer', 'u-m') });
      const res = await fetch(`${harness.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await res.text();
      assert.match(text, /http_requests_total\{method="GET",route="\/v1\/orders\/\{orderId\}",status="404"\} \d+/);
      assert.match(text, /http_request_duration_seconds_bucket\{le="0.1",method="GET",route="\/v1\/orders\/\{orderId\}",status="404"\}/);
    });

    it('helmet sets its security headers', async () => {
      const res = await fetch(`${harness.url}/healthz`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('x-powered-by'), null);
    });
  });

  describe('OpenAPI document', () => {
    it('is OpenAPI 3.1 and documents every route express has registered', async () => {
      const res = await fetch(`${harness.url}/v1/openapi.json`);
      assert.equal(res.status, 200);
      const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
      assert.equal(doc.openapi, '3.1.0');
      const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
      const registered = registeredRoutes(harness.app);
      assert.ok(registered.length >= 26, `only ${registered.length} routes registered`);
      for (const r of registered) assert.ok(documented.has(r), `${r} is registered but not documented`);
      for (const d of documented) assert.ok(registered.includes(d), `${d} is documented but not registered`);
    });
  });
});
