/**
 * Distributed tracing end to end (docs/tracing.md), with an in-memory span exporter: the API
 * in-process with a traced Temporal client, a traced worker (workflow interceptors bundled, activity
 * interceptors, the workflow span sink) on the real dev server, Postgres, Redis and the PSP
 * simulator. A seed checkout, a declined card and a card declined later by webhook are each
 * followed from `POST /v1/checkouts` down to the PSP call, and the span tree is checked.
 */
// First: the SDK must be installed before the instrumented libraries are used.
import { finishedSpans, outsidePorts, recording, spanExporter, tracing } from './support/tracing';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client, Connection } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createLogger } from '../api/observability';
import { createScenario, fillCart, freePort, startHarness, type Harness, type Scenario } from '../api/test-support';
import { wireServices } from '../api/wiring';
import { createServices } from '../services';
import { createSimulatorGateway } from '../services/payments';
import { createPspServer, type PspServer } from '../simulators/psp/server';
import { createWorkerMetrics } from '../workers/metrics';
import { withTraceIds } from '../workers/logging';
import { bundleWorkflows, createWorker } from '../workers/worker';
import { checkoutSpanName, spanAttributes } from '../workflows/tracing';
import { testConfig, testPool, testRedis, uniqueId } from './support/env';
import { uniqueTaskQueue } from './support/temporal';

interface Order {
  orderId: string;
  status: string;
  failure?: { code: string };
}

const idOf = (span: ReadableSpan): string => span.spanContext().spanId;
const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
const startMs = (span: ReadableSpan): number => span.startTime[0] * 1000 + span.startTime[1] / 1e6;
const endMs = (span: ReadableSpan): number => span.endTime[0] * 1000 + span.endTime[1] / 1e6;

/** The spans of one trace, with lookups that fail with the names seen. */
class TraceView {
  constructor(readonly spans: ReadableSpan[]) {}

  all(name: string): ReadableSpan[] {
    return this.spans.filter((s) => s.name === name);
  }

  one(name: string): ReadableSpan {
    const found = this.all(name);
    assert.equal(found.length, 1, `one span "${name}" expected, found ${found.length}; spans: ${this.names().join(', ')}`);
    return found[0]!;
  }

  names(): string[] {
    return [...new Set(this.spans.map((s) => s.name))].sort();
  }

  children(parent: ReadableSpan): ReadableSpan[] {
    return this.spans.filter((s) => parentOf(s) === idOf(parent));
  }

  /** Whether `ancestor` is on the parent chain of `span` (within this trace). */
  descends(span: ReadableSpan, ancestor: ReadableSpan): boolean {
    const byId = new Map(this.spans.map((s) => [idOf(s), s]));
    for (let at = parentOf(span); at !== undefined; at = byId.get(at) && parentOf(byId.get(at)!)) {
      if (at === idOf(ancestor)) return true;
    }
    return false;
  }

  assertParent(child: ReadableSpan, parent: ReadableSpan): void {
    assert.equal(parentOf(child), idOf(parent), `"${child.name}" should be a child of "${parent.name}"`);
  }
}

function printTree(t: TraceView): void {
  const walk = (span: ReadableSpan, depth: number): void => {
    console.log(`${'  '.repeat(depth)}${span.name} [${String(span.resource.attributes['service.name'])}] ${(endMs(span) - startMs(span)).toFixed(1)} ms${span.status.code === SpanStatusCode.ERROR ? ' ERROR' : ''}`);
    for (const child of t.children(span).sort((a, b) => startMs(a) - startMs(b))) walk(child, depth + 1);
  };
  for (const rootSpan of t.spans.filter((s) => !t.spans.some((p) => idOf(p) === parentOf(s)))) walk(rootSpan, 0);
}

function traceOf(traceId: string): TraceView {
  return new TraceView(finishedSpans().filter((s) => s.spanContext().traceId === traceId));
}

function checkoutSpanOf(orderId: string): ReadableSpan | undefined {
  return finishedSpans().find((s) => s.name === checkoutSpanName && s.attributes[spanAttributes.orderId] === orderId);
}

/** Spans arrive as they end (workflow spans after their activation): wait for what the test needs. */
async function waitForSpans(ready: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; spans: ${[...new Set(finishedSpans().map((s) => s.name))].join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('distributed tracing of a checkout @integration', function () {
  this.timeout(120_000);
  const logLines: Record<string, unknown>[] = [];
  let harness: Harness;
  let scenario: Scenario;
  let psp: PspServer;
  let pspDir: string;
  let worker: Worker;
  let running: Promise<void>;
  let connection: NativeConnection;
  let clientConnection: Connection;
  let bundle: WorkflowBundle;

  before(async () => {
    const apiPort = await freePort();
    pspDir = mkdtempSync(path.join(tmpdir(), 'psp-'));
    psp = createPspServer({
      dataDir: pspDir,
      webhookUrl: `http://127.0.0.1:${apiPort}/v1/webhooks/payments`,
      webhookSecret: testConfig.webhookSecret,
      asyncDelayMs: 300,
      timeoutDelayMs: 1500,
      webhookRetryBaseMs: 100,
      webhookRetryMaxMs: 1000,
      log: () => undefined,
    });
    const pspPort = await psp.listen(0);
    outsidePorts.add(pspPort);
    const gateway = createSimulatorGateway({ baseUrl: `http://127.0.0.1:${pspPort}`, webhookSecret: testConfig.webhookSecret, timeoutMs: 1000 });
    const pool = testPool();
    const redis = testRedis();
    const services = createServices({ pool, redis, gateway });
    const taskQueue = uniqueTaskQueue();
    const metrics = createWorkerMetrics();
    bundle = await bundleWorkflows({ tracing: true });
    connection = await NativeConnection.connect({ address: testConfig.temporalAddress });
    worker = await createWorker({
      connection,
      namespace: testConfig.temporalNamespace,
      taskQueue,
      workflowBundle: bundle,
      activities: createActivities({ pool, redis, services, metrics: metrics.checkout }),
      sinks: metrics.sinks,
      tracing: { sinks: tracing.workflowSinks() },
    });
    running = worker.run();
    clientConnection = await Connection.connect({ address: testConfig.temporalAddress });
    const client = new Client({ connection: clientConnection, namespace: testConfig.temporalNamespace, interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } });
    const destination = { write: (line: string) => { if (process.env.DEBUG_TRACING_TEST) process.stderr.write(line); logLines.push(JSON.parse(line) as Record<string, unknown>); } };
    harness = await startHarness(
      {
        probes: {},
        config: { taskQueue, checkoutWaitMs: 10_000, queryTimeoutMs: 5000, checkoutRateLimit: { limit: 1000, windowMs: 60_000 } },
        logger: createLogger({ level: 'info', destination }),
        ...wireServices({ pool, redis, temporal: client, gateway, services }),
      },
      { port: apiPort },
    );
    scenario = await createScenario(harness);
  });

  after(async () => {
    await harness?.close();
    await psp?.close();
    worker?.shutdown();
    await running;
    await clientConnection?.close();
    await connection?.close();
    if (pspDir) rmSync(pspDir, { recursive: true, force: true });
    spanExporter.reset();
  });

  /** A buyer with the seed cart (three sellers, three vouchers: 7722) checks out with `card`. */
  async function checkout(card: string): Promise<{ order: Order; traceId: string; checkoutSpan: ReadableSpan }> {
    const buyerId = uniqueId('buyer');
    const buyer = harness.token('buyer', buyerId);
    const { skus, vouchers } = scenario;
    await fillCart(harness, buyer, [skus.a, skus.b, skus.c].map((sku) => ({ sku, quantity: 1 })), [vouchers.x2off, vouchers.platform10, vouchers.freeship]);
    const res = await recording(() =>
      harness.request('POST', '/v1/checkouts', {
        token: buyer,
        headers: { 'Idempotency-Key': uniqueId('key') },
        body: { paymentMethod: { token: card }, expectedGrandTotal: 7722 },
      }),
    );
    assert.equal(res.status, 201, res.text);
    const order = res.body as Order;
    await waitForSpans(() => checkoutSpanOf(order.orderId) !== undefined, `the checkout span of ${order.orderId}`);
    const checkoutSpan = checkoutSpanOf(order.orderId)!;
    const traceId = checkoutSpan.spanContext().traceId;
    assert.equal(checkoutSpan.attributes[spanAttributes.buyerId], buyerId);
    return { order, traceId, checkoutSpan };
  }

  it('follows a seed checkout from POST /v1/checkouts through the workflow and its activities to Postgres, Redis and the PSP', async () => {
    const { order, traceId, checkoutSpan } = await checkout('tok_visa');
    assert.equal(order.status, 'COMPLETED');
    // The confirmation is the saga's last step: its RunActivity span is exported when it ends.
    await waitForSpans(() => traceOf(traceId).all('RunActivity:confirmOrder').length === 1, 'the confirmation activity');
    const t = traceOf(traceId);
    if (process.env.DEBUG_TRACING_TEST) printTree(t);

    // API: the server span is the trace's root and names the order.
    const server = t.spans.find((s) => s.kind === SpanKind.SERVER && parentOf(s) === undefined);
    assert.ok(server, `a root server span; spans: ${t.names().join(', ')}`);
    assert.equal(server.attributes['http.route'], '/v1/checkouts');
    assert.equal(server.attributes['order.id'], order.orderId);
    // API -> Temporal client -> workflow: Update-with-Start carries the request's context.
    const start = t.one('UpdateWithStartWorkflow:checkoutOutcome');
    assert.ok(t.descends(start, server), 'the Update-with-Start runs inside the request');
    t.assertParent(checkoutSpan, start);
    t.assertParent(t.one('HandleUpdate:checkoutOutcome'), start);
    assert.deepEqual(
      {
        order: checkoutSpan.attributes[spanAttributes.orderId],
        items: checkoutSpan.attributes[spanAttributes.itemCount],
        sellers: checkoutSpan.attributes[spanAttributes.sellerCount],
        total: checkoutSpan.attributes[spanAttributes.grandTotalMinor],
        currency: checkoutSpan.attributes[spanAttributes.currency],
        status: checkoutSpan.attributes[spanAttributes.status],
      },
      { order: order.orderId, items: 3, sellers: 3, total: 7722, currency: 'USD', status: 'COMPLETED' },
    );
    assert.equal(checkoutSpan.status.code, SpanStatusCode.OK);

    // Workflow -> activities: each step's StartActivity under the checkout, its RunActivity under that.
    for (const step of ['recordOrder', 'reserveOrderStock', 'holdOrderVouchers', 'chargePayment', 'createEscrow', 'confirmOrder']) {
      const scheduled = t.one(`StartActivity:${step}`);
      t.assertParent(scheduled, checkoutSpan);
      const ran = t.one(`RunActivity:${step}`);
      t.assertParent(ran, scheduled);
      assert.equal(ran.attributes['order.id'], order.orderId);
      assert.equal(ran.resource.attributes['service.name'], 'checkout-tests');
    }

    // One reservation span per seller, side by side under the stock step.
    const reservations = t.all('inventory.reserve');
    assert.equal(reservations.length, 3);
    const reserveStep = t.one('RunActivity:reserveOrderStock');
    for (const r of reservations) t.assertParent(r, reserveStep);
    assert.deepEqual(new Set(reservations.map((r) => r.attributes['order.id'])), new Set([order.orderId]));
    const latestStart = Math.max(...reservations.map(startMs));
    const earliestEnd = Math.min(...reservations.map(endMs));
    assert.ok(latestStart <= earliestEnd, 'the per-seller reservations overlap in time (they run in parallel)');

    // Down to Postgres, Redis and the PSP.
    const isDb = (system: string) => (s: ReadableSpan) => s.attributes['db.system'] === system || s.attributes['db.system.name'] === system;
    assert.ok(t.spans.some((s) => isDb('postgresql')(s) && t.descends(s, reserveStep)), 'the reservation SQL under the stock step');
    assert.ok(t.spans.some((s) => isDb('redis')(s) && t.descends(s, t.one('RunActivity:holdOrderVouchers'))), 'Redis calls under the voucher step');
    const pspCall = t.spans.find((s) => s.kind === SpanKind.CLIENT && t.descends(s, t.one('RunActivity:chargePayment')) && String(s.attributes['url.full'] ?? '').includes('/v1/'));
    assert.ok(pspCall, 'the PSP call under the charge step');
    assert.equal(t.all('Compensate:releaseStock').length, 0, 'no compensation on a completed checkout');

    // Logs join traces: the request's log line carries its trace.
    const line = logLines.find((l) => l.msg === 'request' && l.route === '/v1/checkouts' && l.orderId === order.orderId);
    assert.ok(line, 'the request line of the checkout');
    assert.equal(line.traceId, traceId);
    assert.match(String(line.spanId), /^[0-9a-f]{16}$/);
  });

  it('marks a declined card: the refused charge and every compensation after it have error status and the refusal code', async () => {
    const { order, traceId, checkoutSpan } = await checkout('tok_chargeDeclined');
    assert.equal(order.status, 'FAILED');
    assert.equal(order.failure?.code, 'PAYMENT_DECLINED');
    const t = traceOf(traceId);
    assert.equal(checkoutSpan.status.code, SpanStatusCode.ERROR);
    assert.equal(checkoutSpan.attributes[spanAttributes.status], 'FAILED');
    assert.equal(checkoutSpan.attributes[spanAttributes.refusalCode], 'PAYMENT_DECLINED');

    const charge = t.one('RunActivity:chargePayment');
    assert.equal(charge.status.code, SpanStatusCode.ERROR);
    assert.equal(charge.attributes[spanAttributes.refusalCode], 'PAYMENT_DECLINED');
    assert.equal(t.one('StartActivity:chargePayment').attributes[spanAttributes.refusalCode], 'PAYMENT_DECLINED');

    // Stock and vouchers go back (the declined card took nothing: no refund call).
    for (const undo of ['releaseStock', 'releaseVouchers']) {
      const compensation = t.one(`Compensate:${undo}`);
      t.assertParent(compensation, checkoutSpan);
      assert.equal(compensation.status.code, SpanStatusCode.ERROR);
      assert.equal(compensation.attributes[spanAttributes.refusalCode], 'PAYMENT_DECLINED');
      assert.equal(compensation.attributes[spanAttributes.compensation], true);
      assert.ok(startMs(compensation) >= endMs(charge), `${undo} runs after the decline`);
      const scheduled = t.one(`StartActivity:${undo}`);
      t.assertParent(scheduled, compensation);
      t.assertParent(t.one(`RunActivity:${undo}`), scheduled);
    }
    assert.equal(t.all('RunActivity:refundCharge').length, 0);
    assert.equal(t.all('StartActivity:confirmOrder').length, 0);
  });

  it("links a payment webhook's trace and the checkout it signals", async () => {
    const { order, traceId, checkoutSpan } = await checkout('tok_asyncFail');
    assert.equal(order.status, 'FAILED');
    assert.equal(checkoutSpan.attributes[spanAttributes.refusalCode], 'PAYMENT_DECLINED');
    await waitForSpans(() => finishedSpans().some((s) => s.name === 'HandleSignal:paymentEvent' && s.links.some((l) => l.context.traceId === traceId)), 'the signal span');
    const signal = finishedSpans().find((s) => s.name === 'HandleSignal:paymentEvent' && s.links.some((l) => l.context.traceId === traceId))!;
    assert.notEqual(signal.spanContext().traceId, traceId, 'the webhook has a trace of its own');
    assert.deepEqual(signal.links.map((l) => l.context.spanId), [idOf(checkoutSpan)]);
    assert.deepEqual(checkoutSpan.links.map((l) => l.context.spanId), [idOf(signal)]);
    const webhook = traceOf(signal.spanContext().traceId);
    const server = webhook.spans.find((s) => s.kind === SpanKind.SERVER && s.attributes['http.route'] === '/v1/webhooks/payments');
    assert.ok(server, `the webhook request's span; spans: ${webhook.names().join(', ')}`);
    assert.equal(server.attributes['order.id'], order.orderId);
    assert.ok(webhook.descends(signal, server), 'the signal is handled inside the webhook request');
    const compensation = traceOf(traceId).one('Compensate:releaseStock');
    assert.equal(compensation.attributes[spanAttributes.refusalCode], 'PAYMENT_DECLINED');
  });

  it('writes trace and span ids on worker log lines inside a traced activity', async () => {
    await recording(() => {
      const span = trace.getTracer('test').startSpan('activity');
      const meta = trace.getTracer('test').startActiveSpan('inner', (inner) => {
        inner.end();
        return withTraceIds({ activityType: 'x' });
      });
      span.end();
      assert.match(String(meta?.traceId), /^[0-9a-f]{32}$/);
      assert.match(String(meta?.spanId), /^[0-9a-f]{16}$/);
      return Promise.resolve();
    });
    // A workflow line's ids come from the interceptors, under the API's names.
    assert.deepEqual(withTraceIds({ trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16), trace_flags: '01', workflowId: 'w' }), { workflowId: 'w', traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) });
    assert.deepEqual(withTraceIds({ workflowId: 'w' }), { workflowId: 'w' });
  });

  it('replays every recorded history with the tracing interceptors (turning tracing on is safe for running orders)', async () => {
    const dir = path.join(__dirname, '..', 'workflows', 'histories');
    const histories = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((file) => ({ workflowId: file, history: historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8'))) }));
    assert.ok(histories.length >= 4);
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle, sinks: { ...createWorkerMetrics().sinks, ...tracing.workflowSinks() } }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.deepEqual(failures, []);
  });
});
