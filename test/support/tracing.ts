/**
 * Tracing for tests: the real SDK setup of lib/tracing.ts with an in-memory exporter. Import it
 * before anything else in a test file: the instrumentations patch http, express, pg and ioredis as
 * they are required (and modules other test files loaded first are required again below, which
 * patches them too).
 *
 * The SDK stays installed for the rest of the mocha process, so it records only while a test has
 * armed it (`recording`): every other test's requests make non-recording spans and nothing is kept.
 */
import { createRequire } from 'node:module';
import { context, type Attributes, type Context, type Link, type SpanKind } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  ParentBasedSampler,
  SamplingDecision,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace-base';
import { startTracing, type Tracing } from '../../lib/tracing';

/** Records new traces only while armed; a traced parent's decision is followed either way. */
class ArmedSampler implements Sampler {
  armed = false;
  shouldSample(_context: Context, _traceId: string, _name: string, _kind: SpanKind, _attributes: Attributes, _links: Link[]): SamplingResult {
    return { decision: this.armed ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  }
  toString(): string {
    return 'ArmedSampler';
  }
}

const root = new ArmedSampler();
/** Ports of in-process servers that stand for outside parties (the PSP simulator): their requests are not traced. */
export const outsidePorts = new Set<number>();
export const spanExporter = new InMemorySpanExporter();
const started = startTracing({
  serviceName: 'checkout-tests',
  env: { ...process.env, OTEL_SDK_DISABLED: 'false' },
  exporter: spanExporter,
  exportEachSpan: true,
  sampler: new ParentBasedSampler({ root }),
  // A real PSP does not hand our trace context back: its webhooks start traces of their own.
  ignoreIncomingRequest: (request) => outsidePorts.has(request.socket.localPort ?? -1),
});
if (!started) throw new Error('tracing did not start');
export const tracing: Tracing = started;

// Modules another test file loaded before this one are patched on their next require.
const requireAgain = createRequire(__filename);
for (const name of ['node:http', 'express', 'pg', 'ioredis']) requireAgain(name);

/** Runs `fn` with new traces recorded; spans are collected until `reset()`. */
export async function recording<T>(fn: () => Promise<T>): Promise<T> {
  root.armed = true;
  try {
    return await context.with(context.active(), fn);
  } finally {
    root.armed = false;
  }
}

export function finishedSpans(): ReadableSpan[] {
  return spanExporter.getFinishedSpans();
}
