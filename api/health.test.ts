import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Connection } from '@temporalio/client';
import { createApp } from './app';
import type { Logger } from 'pino';
import { temporalProbe, type Probes } from './health';
import { createLogger } from './observability';
import { testConfig, testPool, testRedis } from '../test/support/env';

async function serve(probes: Probes, logger?: Logger): Promise<{ url: string; server: Server }> {
  const server = createApp({ probes, ...(logger ? { logger } : {}) }).listen(0);
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('health endpoints @integration', () => {
  let temporal: Connection;
  before(async () => {
    temporal = await Connection.connect({ address: testConfig.temporalAddress });
  });
  after(async () => {
    await temporal.close();
  });

  const realProbes = (): Probes => ({
    postgres: () => testPool().query('SELECT 1'),
    redis: () => testRedis().ping(),
    temporal: temporalProbe(temporal),
  });

  it('GET /healthz answers 200 {"status":"ok"} with a request id', async () => {
    const { url, server } = await serve(realProbes());
    try {
      const res = await fetch(`${url}/healthz`, { headers: { 'X-Request-Id': 'req-123' } });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ok' });
      assert.equal(res.headers.get('x-request-id'), 'req-123');
    } finally {
      server.close();
    }
  });

  it('GET /readyz answers 200 when Postgres, Redis and Temporal answer', async () => {
    const { url, server } = await serve(realProbes());
    try {
      const res = await fetch(`${url}/readyz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ready', checks: { postgres: 'ok', redis: 'ok', temporal: 'ok' } });
    } finally {
      server.close();
    }
  });

  it('GET /readyz answers 503 naming what is down, including a dependency that hangs, without raw error text', async () => {
    // No retry interceptor: a retry timer left pending after close() would fire into a shut-down
    // channel and throw, uncaught, in whatever test runs next.
    const unreachable = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500, interceptors: [] });
    const logged: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void logged.push(line) } });
    const { url, server } = await serve(
      {
        ...realProbes(),
        temporal: temporalProbe(unreachable),
        redis: () => new Promise(() => undefined),
        postgres: () => Promise.reject(new Error('connect ECONNREFUSED db.internal.example:5432 (user checkout)')),
      },
      logger,
    );
    try {
      const res = await fetch(`${url}/readyz`);
      assert.equal(res.status, 503);
      assert.ok(Number(res.headers.get('retry-after')) >= 1, 'a 503 says when to ask again');
      const text = await res.text();
      const body = JSON.parse(text) as { status: string; down: string[]; checks: Record<string, string> };
      assert.equal(body.status, 'unavailable');
      assert.deepEqual(body.down.sort(), ['postgres', 'redis', 'temporal']);
      assert.deepEqual(body.checks, { postgres: 'down: error', redis: 'down: timeout', temporal: 'down: error' });
      // No exception message, host, port or stack in the body...
      assert.doesNotMatch(text, /ECONNREFUSED|db\.internal|5432|127\.0\.0\.1|checkout\)|\bat\b/);
      // ...but the log has the detail, per dependency.
      const postgresLine = logged.find((l) => l.includes('"dependency":"postgres"'));
      assert.ok(postgresLine?.includes('db.internal.example:5432'), `logged: ${logged.join('')}`);
      assert.ok(logged.some((l) => l.includes('"dependency":"temporal"')));
    } finally {
      server.close();
      await unreachable.close().catch(() => undefined);
    }
  });
});

describe('error shape', () => {
  const probes: Probes = {};
  it('answers unknown routes with 404 NOT_FOUND in the one error shape', async () => {
    const { url, server } = await serve(probes);
    try {
      const res = await fetch(`${url}/nope`);
      assert.equal(res.status, 404);
      const body = (await res.json()) as { error: { code: string; message: string; details: object } };
      assert.equal(body.error.code, 'NOT_FOUND');
      assert.equal(typeof body.error.message, 'string');
      assert.deepEqual(body.error.details, {});
      assert.ok(res.headers.get('x-request-id'));
    } finally {
      server.close();
    }
  });

  it('answers malformed JSON with 400 MALFORMED_JSON, never 500', async () => {
    const { url, server } = await serve(probes);
    try {
      const res = await fetch(`${url}/healthz`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"a":' });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'MALFORMED_JSON');
    } finally {
      server.close();
    }
  });

  it('replaces an unsafe client request id with a fresh one', async () => {
    const { url, server } = await serve(probes);
    try {
      const res = await fetch(`${url}/healthz`, { headers: { 'X-Request-Id': 'bad id\twith tab' } });
      assert.notEqual(res.headers.get('x-request-id'), 'bad id\twith tab');
      assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    } finally {
      server.close();
    }
  });
});
