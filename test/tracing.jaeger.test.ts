/**
 * Tracing against the local stack's Jaeger (docs/tracing.md): the real API and worker processes
 * (api/main.ts, workers/main.ts, tracing on, OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT) on the test
 * database and a task queue of their own, a seed checkout over HTTP, and then the checkout's trace
 * found through Jaeger's query API by its order id, with the spans of both services in it.
 *
 * Jaeger not reachable fails this test: `npm run stack -- up --for-tests` (the mocha global setup)
 * installs and starts it, and prints why when it cannot.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signToken, type Role } from '../api/auth';
import { createScenario, fillCart, freePort, type Harness } from '../api/test-support';
import { defaultOtlpEndpoint } from '../lib/tracing';
import { createPspServer, type PspServer } from '../simulators/psp/server';
import { spawnTs, stopAll, waitForHttp, waitForLog, type BenchProcess } from '../bench/checkout/processes';
import { testConfig, uniqueId } from './support/env';
import { uniqueTaskQueue } from './support/temporal';

const jaegerUrl = (process.env.JAEGER_UI_URL ?? `http://127.0.0.1:${process.env.JAEGER_UI_PORT ?? 16686}`).replace(/\/+$/, '');

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  processID: string;
  tags: { key: string; value: unknown }[];
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

/** A remote API as the scenario helpers want it (requests and tokens; no in-process app). */
function remoteHarness(url: string): Harness {
  return {
    url,
    app: undefined as never,
    routes: [],
    async request(method, requestPath, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.Authorization = `Bearer ${options.token}`;
      if (options.body !== undefined) headers['Content-Type'] ??= 'application/json';
      const res = await fetch(`${url}${requestPath}`, { method: method.toUpperCase(), headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, headers: res.headers, body, text };
    },
    token: (role: Role, sub: string, sellerId?: string) => signToken({ sub, role, ...(sellerId ? { sellerId } : {}) }, testConfig.jwtSecret, '1h'),
    close: () => Promise.resolve(),
  };
}

async function jaegerTraces(service: string, tags: Record<string, string>): Promise<JaegerTrace[]> {
  const query = new URLSearchParams({ service, tags: JSON.stringify(tags), lookback: '1h', limit: '20' });
  const res = await fetch(`${jaegerUrl}/api/traces?${query.toString()}`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200, `Jaeger query API: ${res.status} ${await res.clone().text()}`);
  return ((await res.json()) as { data: JaegerTrace[] | null }).data ?? [];
}

describe('tracing into the stack\'s Jaeger @integration', function () {
  this.timeout(180_000);
  let psp: PspServer;
  let pspDir: string;
  let api: BenchProcess;
  let worker: BenchProcess;
  let apiUrl: string;

  before(async function () {
    // Not a skip: without Jaeger the stack is incomplete, and this test says so.
    try {
      const res = await fetch(`${jaegerUrl}/api/services`, { signal: AbortSignal.timeout(3000) });
      if (!res.ok) throw new Error(`answered ${res.status}`);
    } catch (err) {
      throw new Error(
        `Jaeger's query API at ${jaegerUrl} is not reachable (${(err as Error).message}). ` +
          '`npm run stack -- up --for-tests` (run by the mocha global setup) installs and starts Jaeger, and prints why when it cannot; ' +
          'JAEGER_UI_URL names another Jaeger.',
      );
    }
    const apiPort = await freePort();
    pspDir = mkdtempSync(path.join(tmpdir(), 'psp-'));
    psp = createPspServer({ dataDir: pspDir, webhookUrl: `http://127.0.0.1:${apiPort}/v1/webhooks/payments`, webhookSecret: testConfig.webhookSecret, asyncDelayMs: 300, log: () => undefined });
    const pspPort = await psp.listen(0);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? defaultOtlpEndpoint,
      OTEL_TRACES_SAMPLER_ARG: '1',
      DATABASE_URL: testConfig.databaseUrl,
      REDIS_URL: testConfig.redisUrl,
      TEMPORAL_ADDRESS: testConfig.temporalAddress,
      TEMPORAL_NAMESPACE: testConfig.temporalNamespace,
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue(),
      PORT: String(apiPort),
      WORKER_METRICS_PORT: '0',
      PAYMENT_GATEWAY: 'simulator',
      PSP_URL: `http://127.0.0.1:${pspPort}`,
      JWT_SECRET: testConfig.jwtSecret,
      WEBHOOK_SECRET: testConfig.webhookSecret,
      CHECKOUT_RATE_LIMIT: '1000',
      CHECKOUT_WAIT_MS: '10000',
    };
    delete env.METRICS_PORT;
    worker = spawnTs('traced worker', 'workers/main.ts', env, 'test-tracing-worker.log');
    api = spawnTs('traced API', 'api/main.ts', env, 'test-tracing-api.log');
    apiUrl = `http://127.0.0.1:${apiPort}`;
    await Promise.all([waitForLog(worker, /worker polling task queue/, 120_000), waitForHttp(api, `${apiUrl}/healthz`, 120_000)]);
  });

  after(async () => {
    await stopAll();
    await psp?.close();
    if (pspDir) rmSync(pspDir, { recursive: true, force: true });
  });

  it("finds a checkout's trace by its order id, from the API's request down to the worker's activities", async () => {
    const harness = remoteHarness(apiUrl);
    const scenario = await createScenario(harness);
    const buyer = harness.token('buyer', uniqueId('buyer'));
    await fillCart(harness, buyer, [scenario.skus.a, scenario.skus.b, scenario.skus.c].map((sku) => ({ sku, quantity: 1 })), [scenario.vouchers.x2off, scenario.vouchers.platform10, scenario.vouchers.freeship]);
    const res = await harness.request('POST', '/v1/checkouts', {
      token: buyer,
      headers: { 'Idempotency-Key': uniqueId('key') },
      body: { paymentMethod: { token: 'tok_visa' }, expectedGrandTotal: 7722 },
    });
    assert.equal(res.status, 201, res.text);
    const { orderId, status } = res.body as { orderId: string; status: string };
    assert.equal(status, 'COMPLETED');

    // Spans leave in batches (about a second): wait until the whole checkout is there.
    const deadline = Date.now() + 30_000;
    let found: JaegerTrace | undefined;
    let seen = 'no trace';
    for (;;) {
      const traces = await jaegerTraces('checkout-api', { 'order.id': orderId });
      found = traces.find((t) => t.spans.some((s) => s.operationName === 'CheckoutSaga:orderWorkflow') && t.spans.some((s) => s.operationName === 'RunActivity:confirmOrder'));
      if (found) break;
      seen = traces.map((t) => `${t.traceID}: ${[...new Set(t.spans.map((s) => s.operationName))].join(', ')}`).join(' | ') || 'no trace';
      if (Date.now() > deadline) assert.fail(`no complete trace of ${orderId} in Jaeger within 30 s (seen: ${seen}); logs: ${api.logFile}, ${worker.logFile}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    const serviceOf = (span: JaegerSpan): string => found.processes[span.processID]?.serviceName ?? '?';
    const byName = (name: string): JaegerSpan => {
      const span = found.spans.find((s) => s.operationName === name);
      assert.ok(span, `span ${name} in the trace`);
      return span;
    };
    const parentOf = (span: JaegerSpan): string | undefined => span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
    const tag = (span: JaegerSpan, key: string): unknown => span.tags.find((t) => t.key === key)?.value;

    const server = found.spans.find((s) => serviceOf(s) === 'checkout-api' && tag(s, 'http.route') === '/v1/checkouts' && parentOf(s) === undefined);
    assert.ok(server, 'the request span is the root, in checkout-api');
    assert.equal(tag(server, 'order.id'), orderId);
    const start = byName('UpdateWithStartWorkflow:checkoutOutcome');
    assert.equal(serviceOf(start), 'checkout-api');
    const saga = byName('CheckoutSaga:orderWorkflow');
    assert.equal(serviceOf(saga), 'checkout-worker');
    assert.equal(parentOf(saga), start.spanID, 'the workflow continues the API\'s trace');
    assert.equal(tag(saga, 'checkout.grand_total_minor'), 7722);
    const charge = byName('RunActivity:chargePayment');
    assert.equal(serviceOf(charge), 'checkout-worker');
    assert.equal(parentOf(charge), byName('StartActivity:chargePayment').spanID);
    assert.equal(found.spans.filter((s) => s.operationName === 'inventory.reserve').length, 3, 'one reservation span per seller');
  });
});
