import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Context, type SpanContext } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import type { SerializableSpan } from '@temporalio/interceptors-opentelemetry';
import { checkoutSampler, rateLimitedDiagLogger, readableSpanOf, tracingConfigFromEnv } from './tracing';

describe('tracing configuration', () => {
  it('is on by default, to the local collector, every trace kept', () => {
    assert.deepEqual(tracingConfigFromEnv({}), { enabled: true, disabledInstrumentations: [], tracesUrl: 'http://127.0.0.1:4318/v1/traces', sampleRatio: 1 });
  });

  it('reads OTEL_SDK_DISABLED, the OTLP endpoints and the sampling ratio', () => {
    assert.equal(tracingConfigFromEnv({ OTEL_SDK_DISABLED: 'TRUE ' }).enabled, false);
    assert.equal(tracingConfigFromEnv({ OTEL_SDK_DISABLED: 'false' }).enabled, true);
    assert.equal(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318/' }).tracesUrl, 'http://jaeger:4318/v1/traces');
    assert.equal(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:1', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:2/traces' }).tracesUrl, 'http://b:2/traces');
    assert.equal(tracingConfigFromEnv({ OTEL_TRACES_SAMPLER_ARG: '0.25' }).sampleRatio, 0.25);
  });

  it('leaves out the instrumentations OTEL_NODE_DISABLED_INSTRUMENTATIONS names, and refuses unknown ones', () => {
    assert.deepEqual(tracingConfigFromEnv({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg, ioredis' }).disabledInstrumentations, ['pg', 'ioredis']);
    assert.throws(() => tracingConfigFromEnv({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg,mysql' }), /names mysql; known: http, express, pg, ioredis, undici/);
  });

  it('refuses a sampling ratio outside 0..1, naming the variable', () => {
    for (const bad of ['1.5', '-0.1', 'half', 'NaN']) {
      assert.throws(() => tracingConfigFromEnv({ OTEL_TRACES_SAMPLER_ARG: bad }), /OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1/);
    }
  });

  it('samples by ratio at the root and follows a parent that was sampled or not', () => {
    const decide = (ratio: number, parentSampled?: boolean): SamplingDecision => {
      const parent = parentSampled === undefined ? undefined : { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: parentSampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true };
      // The parent-based sampler reads the parent from the context; the root sampler decides alone.
      return checkoutSampler(ratio).shouldSample(rootContext(parent), 'c'.repeat(32), 'span', SpanKind.SERVER, {}, []).decision;
    };
    assert.equal(decide(1), SamplingDecision.RECORD_AND_SAMPLED);
    assert.equal(decide(0), SamplingDecision.NOT_RECORD);
    assert.equal(decide(0, true), SamplingDecision.RECORD_AND_SAMPLED);
    assert.equal(decide(1, false), SamplingDecision.NOT_RECORD);
  });

  it('writes one diagnostic line per interval, counting the ones left out', () => {
    const lines: string[] = [];
    let clock = 0;
    const logger = rateLimitedDiagLogger((line) => lines.push(line), 60_000, () => clock);
    logger.error('{"message":"connect ECONNREFUSED 127.0.0.1:4318","stack":"..."}');
    for (let i = 0; i < 5; i++) logger.error('again');
    logger.info('never shown');
    clock = 61_000;
    logger.warn('later', new Error('boom'));
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^tracing error: connect ECONNREFUSED 127\.0\.0\.1:4318; spans are dropped/);
    assert.match(lines[1]!, /^tracing warn: later boom \(5 more in the last 60 s left out\)/);
  });
});

describe('workflow spans from the sandbox', () => {
  it('keep their parent and scope through the conversion to the SDK 2 shape', () => {
    const serialized: SerializableSpan = {
      name: 'StartActivity:recordOrder',
      kind: SpanKind.INTERNAL,
      spanContext: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED, traceState: 'k=v' },
      parentSpanId: 'c'.repeat(16),
      startTime: [1, 0],
      endTime: [2, 0],
      status: { code: SpanStatusCode.OK },
      attributes: { 'order.id': 'ord_1' },
      links: [],
      events: [],
      duration: [1, 0],
      ended: true,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
      instrumentationLibrary: { name: '@temporalio/interceptor-workflow' },
    };
    const resource = resourceFromAttributes({ 'service.name': 'checkout-worker' });
    const span = readableSpanOf(serialized, resource);
    assert.equal(span.parentSpanContext?.spanId, 'c'.repeat(16));
    assert.equal(span.parentSpanContext?.traceId, 'a'.repeat(32));
    assert.equal(span.instrumentationScope.name, '@temporalio/interceptor-workflow');
    assert.equal(span.spanContext().traceState?.get('k'), 'v');
    assert.equal(span.resource, resource);
    const root = readableSpanOf({ ...serialized, parentSpanId: undefined }, resource);
    assert.equal(root.parentSpanContext, undefined);
  });
});

function rootContext(parent: SpanContext | undefined): Context {
  return parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
}
