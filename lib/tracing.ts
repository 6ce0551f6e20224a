/**
 * Distributed tracing (OpenTelemetry; docs/tracing.md): one trace per checkout, from the HTTP
 * request through the Temporal client, the workflow and its activities down to Postgres, Redis and
 * the PSP.
 *
 * `startTracing` runs the Node SDK in this process: W3C trace context, a parent-based ratio sampler,
 * the http / express / pg / ioredis / undici instrumentations, and an OTLP/HTTP exporter. It must
 * run before the instrumented libraries are used (api/tracing.ts and workers/tracing.ts are the
 * first imports of the two entry points). The Temporal side (client, workflow and activity
 * interceptors) is wired by api/main.ts and workers/worker.ts when tracing is on.
 *
 * `OTEL_SDK_DISABLED=true` turns it all off (nothing is patched; @opentelemetry/api stays a no-op).
 * With no collector listening, spans are dropped and one line per minute says so: a trace viewer
 * that is down must never disturb a checkout.
 */
import type { IncomingMessage } from 'node:http';
import { createTraceState, diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { OpenTelemetrySinks, SerializableSpan } from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks } from '@temporalio/worker';

export const defaultOtlpEndpoint = 'http://127.0.0.1:4318';

export const instrumentationNames = ['http', 'express', 'pg', 'ioredis', 'undici'] as const;
export type InstrumentationName = (typeof instrumentationNames)[number];

export interface TracingConfig {
  enabled: boolean;
  /** OTEL_NODE_DISABLED_INSTRUMENTATIONS: instrumentations left out (fewer spans, less cost). */
  disabledInstrumentations: InstrumentationName[];
  /** Where spans go: `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces` unless OTEL_EXPORTER_OTLP_TRACES_ENDPOINT names it. */
  tracesUrl: string;
  /** Fraction of new traces (those without a sampled parent) that are recorded, 0..1. */
  sampleRatio: number;
}

/** Reads the OTEL_* variables this project honours (README, Configuration); a bad value stops start-up. */
export function tracingConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TracingConfig {
  const enabled = (env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() !== 'true';
  const endpoint = (env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || defaultOtlpEndpoint).replace(/\/+$/, '');
  const tracesUrl = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || `${endpoint}/v1/traces`;
  const rawRatio = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const sampleRatio = rawRatio === undefined || rawRatio === '' ? 1 : Number(rawRatio);
  if (!Number.isFinite(sampleRatio) || sampleRatio < 0 || sampleRatio > 1) {
    throw new Error(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 (the fraction of checkouts traced), got "${rawRatio}"`);
  }
  const disabled = (env.OTEL_NODE_DISABLED_INSTRUMENTATIONS ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = disabled.filter((name) => !(instrumentationNames as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`OTEL_NODE_DISABLED_INSTRUMENTATIONS names ${unknown.join(', ')}; known: ${instrumentationNames.join(', ')}`);
  return { enabled, disabledInstrumentations: disabled as InstrumentationName[], tracesUrl, sampleRatio };
}

/** Parent-based: a request that arrives traced stays traced; a new trace is kept with this probability. */
export function checkoutSampler(ratio: number): Sampler {
  return new ParentBasedSampler({ root: ratio >= 1 ? new TraceIdRatioBasedSampler(1) : ratio <= 0 ? new AlwaysOffSampler() : new TraceIdRatioBasedSampler(ratio) });
}

/**
 * The SDK reports export failures through `diag`: one line per interval at most, with the count of
 * lines left out, so that a collector that is down costs a line a minute, not a line per batch.
 */
export function rateLimitedDiagLogger(write: (line: string) => void, intervalMs = 60_000, now: () => number = Date.now): DiagLogger {
  let lastAt = -Infinity;
  let suppressed = 0;
  const report = (level: string) => (message: string, ...args: unknown[]) => {
    const at = now();
    if (at - lastAt < intervalMs) {
      suppressed++;
      return;
    }
    const detail = [message, ...args].map(briefly).join(' ');
    const skipped = suppressed > 0 ? ` (${suppressed} more in the last ${Math.round(intervalMs / 1000)} s left out)` : '';
    write(`tracing ${level}: ${detail}${skipped}; spans are dropped meanwhile, checkouts are not affected (at most one such line per ${Math.round(intervalMs / 1000)} s)`);
    lastAt = at;
    suppressed = 0;
  };
  const ignore = (): void => undefined;
  return { error: report('error'), warn: report('warn'), info: ignore, debug: ignore, verbose: ignore };
}

/** The SDK hands errors over as JSON with a stack: one line with the message is enough here. */
function briefly(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value !== 'string') return JSON.stringify(value);
  if (!value.startsWith('{')) return value;
  try {
    const parsed = JSON.parse(value) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : value;
  } catch {
    return value;
  }
}

/** Requests that only add noise to traces: probes and scrapes. */
const untracedPaths = new Set(['/healthz', '/readyz', '/metrics']);

export interface TracingOptions {
  serviceName: 'checkout-api' | 'checkout-worker' | 'psp-simulator' | (string & {});
  env?: NodeJS.ProcessEnv;
  /** Tests: an in-memory exporter instead of OTLP. */
  exporter?: SpanExporter;
  /** Tests: export each span as it ends (SimpleSpanProcessor) instead of in batches. */
  exportEachSpan?: boolean;
  /** Tests: a sampler of their own (e.g. one that records only while a test runs). */
  sampler?: Sampler;
  /** Tests: incoming requests not to trace (e.g. an in-process PSP simulator, which a real PSP is not). */
  ignoreIncomingRequest?: (request: IncomingMessage) => boolean;
}

export interface Tracing {
  readonly serviceName: string;
  readonly config: TracingConfig;
  /** The worker's sink for spans made inside the workflow sandbox (workers/worker.ts). */
  workflowSinks(): InjectedSinks<OpenTelemetrySinks>;
  forceFlush(): Promise<void>;
  /** Flushes what is buffered and stops the SDK (best effort: a collector that is down is not waited for). */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/** The tracing this process started, if it is on. */
export function activeTracing(): Tracing | undefined {
  return active;
}

/** The instrumentations, less those OTEL_NODE_DISABLED_INSTRUMENTATIONS names. */
function instrumentationsOf(config: TracingConfig, options: TracingOptions): Instrumentation[] {
  const all: Record<InstrumentationName, () => Instrumentation> = {
    http: () =>
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => untracedPaths.has((req.url ?? '').split('?')[0] ?? '') || (options.ignoreIncomingRequest?.(req) ?? false),
        // Outgoing calls are traced inside a checkout, not on their own (a stray poll is not a trace).
        requireParentforOutgoingSpans: true,
      }),
    // The route's handler only: a span per middleware (helmet, body parsers, ...) is noise, and cost.
    express: () => new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER] }),
    // No statement parameters in spans (they can hold buyer data); background polls make no root spans.
    pg: () => new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false, ignoreConnectSpans: true }),
    ioredis: () => new IORedisInstrumentation({ requireParentSpan: true }),
    undici: () => new UndiciInstrumentation({ requireParentforSpans: true }),
  };
  return instrumentationNames.filter((name) => !config.disabledInstrumentations.includes(name)).map((name) => all[name]());
}

/** Starts the SDK once per process; undefined when OTEL_SDK_DISABLED=true. */
export function startTracing(options: TracingOptions): Tracing | undefined {
  if (active) return active;
  const config = tracingConfigFromEnv(options.env);
  if (!config.enabled) return undefined;
  diag.setLogger(rateLimitedDiagLogger((line) => console.warn(`${line} [collector ${config.tracesUrl}]`)), DiagLogLevel.WARN);
  const exporter = options.exporter ?? new OTLPTraceExporter({ url: config.tracesUrl, timeoutMillis: 5000 });
  const processor: SpanProcessor = options.exportEachSpan ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter, { maxQueueSize: 8192, maxExportBatchSize: 512, scheduledDelayMillis: 1000 });
  const resource = resourceFromAttributes({ 'service.name': options.serviceName });
  const sdk = new NodeSDK({
    resource,
    resourceDetectors: [envDetector],
    sampler: options.sampler ?? checkoutSampler(config.sampleRatio),
    spanProcessors: [processor],
    // Traces only: no metric readers (and so no meter provider), no log exporter. Without these the
    // SDK would default to OTLP metrics and logs, which Jaeger does not take.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: instrumentationsOf(config, options),
  });
  sdk.start();
  const serviceResource = resource.merge(resourceFromAttributes(envDetector.detect().attributes ?? {}));
  active = {
    serviceName: options.serviceName,
    config,
    workflowSinks: () => workflowSpanSinks(processor, serviceResource),
    forceFlush: () => processor.forceFlush(),
    async shutdown() {
      active = undefined;
      await Promise.race([sdk.shutdown(), new Promise((resolve) => setTimeout(resolve, 3000).unref())]).catch(() => undefined);
    },
  };
  return active;
}

/**
 * Spans made inside the workflow sandbox arrive through a sink, serialized by
 * @temporalio/interceptors-opentelemetry in the shape of OpenTelemetry JS 1.x (`parentSpanId`,
 * `instrumentationLibrary`). This SDK is 2.x (`parentSpanContext`, `instrumentationScope`): the
 * package's own `makeWorkflowExporter` would hand the exporter spans without their parent, so the
 * conversion is done here. Sink calls are not made during replay: each span is exported once.
 */
export function workflowSpanSinks(processor: SpanProcessor, resource: Resource): InjectedSinks<OpenTelemetrySinks> {
  return {
    exporter: {
      export: {
        fn: (info, spans) => {
          for (const span of spans) {
            Object.assign(span.attributes, { temporalWorkflowId: info.workflowId, run_id: info.runId, temporalWorkflowType: info.workflowType });
            processor.onEnd(readableSpanOf(span, resource));
          }
        },
      },
    },
  };
}

export function readableSpanOf(span: SerializableSpan, resource: Resource): ReadableSpan {
  const { traceState, ...rest } = span.spanContext;
  const spanContext = { ...rest, ...(traceState ? { traceState: createTraceState(traceState) } : {}) };
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => spanContext,
    ...(span.parentSpanId ? { parentSpanContext: { traceId: spanContext.traceId, spanId: span.parentSpanId, traceFlags: spanContext.traceFlags } } : {}),
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: span.attributes,
    links: span.links,
    events: span.events,
    duration: span.duration,
    ended: span.ended,
    resource,
    instrumentationScope: span.instrumentationLibrary,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}
