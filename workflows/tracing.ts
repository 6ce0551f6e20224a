/**
 * Workflow interceptors for tracing (docs/tracing.md), bundled only when tracing is on
 * (workers/worker.ts `bundleWorkflows({ tracing: true })`).
 *
 * They speak the protocol of @temporalio/interceptors-opentelemetry (the W3C trace context in the
 * `_tracer-data` header, spans leaving through the `exporter` sink in its serialized shape), so the
 * package's client and activity interceptors continue the trace on both sides. They do not run the
 * package's own workflow interceptors: those build an OpenTelemetry SDK (a tracer provider, a
 * propagator, an AsyncLocalStorage context manager) in every workflow run, which was measured to
 * cost ~40 ms of CPU per checkout on the workflow thread (more than the whole saga's own work
 * there; bench:checkout, docs/tracing.md *Cost*). Here a span is a plain record: ids from the
 * workflow's seeded random source (the same on replay), times from workflow time, and nothing is
 * exported during replay (sink calls are not made then).
 *
 * They change no command a workflow issues, and every promise the workflow awaits is returned as it
 * is (the bookkeeping hangs off it): no microtask hop is added to the workflow's code.
 *
 * Spans: `CheckoutSaga:orderWorkflow` for the order workflow's checkout (ends when the checkout
 * settles, not when the workflow closes days later after its parcels' escrow), `RunWorkflow:<type>`
 * for other workflows, `StartActivity:<type>` per (local) activity, `Compensate:<undo>` around each
 * undo, `HandleSignal:<name>` and `HandleUpdate:<name>`. Activities started after the checkout
 * settled (a parcel's refund, a payout) still join the checkout's trace under its span.
 *
 * The saga's progress is read from the local activities it schedules (the order recorded, the
 * order confirmed, the status FAILED written) and its undos by name: these names must follow
 * activities/checkout.ts (test/tracing.test.ts fails when they drift apart).
 */
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  proxySinks,
  workflowInfo,
  type ActivityInput,
  type GetLogAttributesInput,
  type LocalActivityInput,
  type Next,
  type SignalInput,
  type SignalWorkflowInput,
  type StartChildWorkflowExecutionInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import type { OpenTelemetrySinks, SerializableSpan } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions';
import type { PriceBreakdown } from '../pricing';
import { orderWorkflowType, paymentEventSignal, type CheckoutFailure, type CheckoutInput, type PaymentEvent } from './contract';
import { refusalOf } from './refusals';

/** Span attribute keys (only ids and amounts: no personal data). */
export const spanAttributes = {
  orderId: 'order.id',
  buyerId: 'buyer.id',
  itemCount: 'checkout.item_count',
  sellerCount: 'checkout.seller_count',
  grandTotalMinor: 'checkout.grand_total_minor',
  currency: 'checkout.currency',
  status: 'checkout.status',
  refusalCode: 'checkout.refusal_code',
  compensation: 'checkout.compensation',
} as const;

export const checkoutSpanName = `CheckoutSaga:${orderWorkflowType}`;

/** The header of @temporalio/interceptors-opentelemetry: a payload of the W3C carrier `{ traceparent, tracestate? }`. */
const traceHeader = '_tracer-data';

/** The undos of workflows/checkout.ts, by activity type. */
const compensationActivities = new Set(['releaseStock', 'releaseVouchers', 'refundCharge', 'refundEscrow']);

// OpenTelemetry's numeric codes, written out: @opentelemetry/api is not loaded in the sandbox.
const spanKindInternal = 0;
const statusUnset = 0;
const statusOk = 1;
const statusError = 2;
const sampledFlag = 1;

type AttributeValue = string | number | boolean | string[];

interface TraceParent {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState?: string;
}

function parseTraceParent(headers: Record<string, Payload>): TraceParent | undefined {
  const payload = headers[traceHeader];
  if (!payload) return undefined;
  const carrier = defaultPayloadConverter.fromPayload<{ traceparent?: unknown; tracestate?: unknown } | null>(payload);
  const match = typeof carrier?.traceparent === 'string' ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(carrier.traceparent) : null;
  if (!match) return undefined;
  return { traceId: match[1]!, spanId: match[2]!, traceFlags: parseInt(match[3]!, 16), ...(typeof carrier?.tracestate === 'string' ? { traceState: carrier.tracestate } : {}) };
}

function withTraceParent(headers: Record<string, Payload>, context: TraceParent): Record<string, Payload> {
  const traceparent = `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  const carrier = { traceparent, ...(context.traceState ? { tracestate: context.traceState } : {}) };
  return { ...headers, [traceHeader]: defaultPayloadConverter.toPayload(carrier) };
}

/** Hex ids from the workflow's seeded random source: deterministic, so a replay rebuilds the same ids. */
function randomHex(length: number): string {
  let hex = '';
  while (hex.length < length) hex += Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  hex = hex.slice(0, length);
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

const hrTime = (ms: number): [number, number] => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

/** One span of the sandbox: a plain record, exported once when it ends (never during replay). */
class WorkflowSpan {
  readonly context: TraceParent;
  private readonly startMs = Date.now();
  private readonly attributes: Record<string, AttributeValue> = {};
  private readonly links: { context: TraceParent; attributes: Record<string, AttributeValue> }[] = [];
  private status: { code: number; message?: string } = { code: statusUnset };
  ended = false;

  constructor(
    private readonly tracer: SandboxTracer,
    readonly name: string,
    private readonly parent: TraceParent | undefined,
    attributes: Record<string, AttributeValue> = {},
  ) {
    this.context = { traceId: parent?.traceId ?? randomHex(32), spanId: randomHex(16), traceFlags: parent ? parent.traceFlags : sampledFlag, ...(parent?.traceState ? { traceState: parent.traceState } : {}) };
    Object.assign(this.attributes, attributes);
  }

  get sampled(): boolean {
    return (this.context.traceFlags & sampledFlag) === sampledFlag;
  }

  setAttributes(attributes: Record<string, AttributeValue>): void {
    if (!this.ended) Object.assign(this.attributes, attributes);
  }

  addLink(context: TraceParent, attributes: Record<string, AttributeValue>): void {
    if (!this.ended) this.links.push({ context, attributes });
  }

  setStatus(code: number, message?: string): void {
    if (!this.ended) this.status = message === undefined ? { code } : { code, message };
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.sampled) this.tracer.export(this.serialize(Date.now()));
  }

  private serialize(endMs: number): SerializableSpan {
    const { traceState, ...spanContext } = this.context;
    return {
      name: this.name,
      kind: spanKindInternal,
      spanContext: { ...spanContext, ...(traceState ? { traceState } : {}) },
      ...(this.parent ? { parentSpanId: this.parent.spanId } : {}),
      startTime: hrTime(this.startMs),
      endTime: hrTime(endMs),
      status: this.status,
      attributes: this.attributes,
      links: this.links.map((l) => ({ context: { traceId: l.context.traceId, spanId: l.context.spanId, traceFlags: l.context.traceFlags }, attributes: l.attributes })),
      events: [],
      duration: hrTime(endMs - this.startMs),
      ended: true,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
      instrumentationLibrary: { name: 'checkout-workflow' },
    };
  }
}

class SandboxTracer {
  private readonly sinks = proxySinks<OpenTelemetrySinks>();

  export(span: SerializableSpan): void {
    this.sinks.exporter.export([span]);
  }
}

/** What one workflow run knows of its trace: its run span and, for an order, the checkout's progress. */
class RunTrace {
  span: WorkflowSpan | undefined;
  isCheckout = false;
  /** The refusal that started the compensations, as far as seen (the saga's own code comes with FAILED). */
  refusalCode: string | undefined;

  constructor(readonly tracer: SandboxTracer) {}

  get settled(): boolean {
    return this.span?.ended ?? true;
  }

  noteRefusal(code: string): void {
    // The saga reports a shortage over a voucher refusal when both come back (workflows/checkout.ts).
    if (this.refusalCode === undefined || code === 'INSUFFICIENT_STOCK') this.refusalCode = code;
  }

  settle(status: 'COMPLETED' | 'FAILED', failure?: CheckoutFailure): void {
    const span = this.span;
    if (!span || span.ended) return;
    span.setAttributes({ [spanAttributes.status]: status });
    if (status === 'FAILED') {
      const code = failure?.code ?? this.refusalCode;
      if (code) span.setAttributes({ [spanAttributes.refusalCode]: code });
      span.setStatus(statusError, `checkout refused${code ? `: ${code}` : ''}`);
    } else {
      span.setStatus(statusOk);
    }
    span.end();
  }
}

/** Calls `onSettled` when `promise` settles, and returns `promise` itself (no extra hop for the caller). */
function observe<T>(promise: Promise<T>, onSettled: (err: unknown, ok: boolean) => void): Promise<T> {
  promise.then(
    () => onSettled(undefined, true),
    (err: unknown) => onSettled(err, false),
  );
  return promise;
}

class TracingInbound implements WorkflowInboundCallsInterceptor {
  constructor(private readonly run: RunTrace) {}

  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const { workflowType } = workflowInfo();
    const parent = parseTraceParent(input.headers);
    const run = this.run;
    run.isCheckout = workflowType === orderWorkflowType;
    let attributes: Record<string, AttributeValue> = {};
    if (run.isCheckout) {
      const order = input.args[0] as CheckoutInput;
      attributes = {
        [spanAttributes.orderId]: order.orderId,
        [spanAttributes.buyerId]: order.buyerId,
        [spanAttributes.itemCount]: order.items.reduce((units, item) => units + item.quantity, 0),
      };
    }
    const span = new WorkflowSpan(run.tracer, run.isCheckout ? checkoutSpanName : `RunWorkflow:${workflowType}`, parent, attributes);
    run.span = span;
    return observe(next(input), (err, ok) => {
      if (span.ended) return;
      if (ok) span.setStatus(run.isCheckout ? statusError : statusOk, run.isCheckout ? 'the workflow ended before the checkout settled' : undefined);
      else span.setStatus(statusError, err instanceof Error ? err.message : String(err));
      span.end();
    });
  }

  handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>): Promise<void> {
    const run = this.run;
    const signalSpan = new WorkflowSpan(run.tracer, `HandleSignal:${input.signalName}`, parseTraceParent(input.headers));
    if (input.signalName === paymentEventSignal.name && run.isCheckout && !run.settled) {
      const event = input.args[0] as PaymentEvent | undefined;
      if (event?.type === 'payment.failed') run.noteRefusal('PAYMENT_DECLINED');
    }
    // The signal's span (in the sender's trace: a payment webhook's) and the checkout link each other.
    if (run.span) {
      signalSpan.addLink(run.span.context, { 'link.kind': 'signalled workflow' });
      run.span.addLink(signalSpan.context, { 'link.kind': 'signal' });
    }
    return observe(next(input), (err, ok) => {
      signalSpan.setStatus(ok ? statusOk : statusError, ok ? undefined : String((err as Error | undefined)?.message ?? err));
      signalSpan.end();
    });
  }

  handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>): Promise<unknown> {
    const span = new WorkflowSpan(this.run.tracer, `HandleUpdate:${input.name}`, parseTraceParent(input.headers), { temporalUpdateId: input.updateId });
    return observe(next(input), (err, ok) => {
      span.setStatus(ok ? statusOk : statusError, ok ? undefined : String((err as Error | undefined)?.message ?? err));
      span.end();
    });
  }
}

class TracingOutbound implements WorkflowOutboundCallsInterceptor {
  constructor(private readonly run: RunTrace) {}

  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>): Promise<unknown> {
    return this.schedule(input, (headers) => next({ ...input, headers }));
  }

  scheduleLocalActivity(input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>): Promise<unknown> {
    return this.schedule(input, (headers) => next({ ...input, headers }));
  }

  startChildWorkflowExecution(input: StartChildWorkflowExecutionInput, next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>): Promise<[Promise<string>, Promise<unknown>]> {
    return next(this.run.span ? { ...input, headers: withTraceParent(input.headers, this.run.span.context) } : input);
  }

  signalWorkflow(input: SignalWorkflowInput, next: Next<WorkflowOutboundCallsInterceptor, 'signalWorkflow'>): Promise<void> {
    return next(this.run.span ? { ...input, headers: withTraceParent(input.headers, this.run.span.context) } : input);
  }

  /** The workflow's log lines name its trace (workers/logging.ts writes them as traceId / spanId). */
  getLogAttributes(input: GetLogAttributesInput, next: Next<WorkflowOutboundCallsInterceptor, 'getLogAttributes'>): Record<string, unknown> {
    const context = this.run.span?.context;
    return next(context ? { trace_id: context.traceId, span_id: context.spanId, ...input } : input);
  }

  /**
   * `StartActivity:<type>` under the run's span (an undo of the saga under its `Compensate:` span),
   * its context in the activity's headers; the saga's progress read from what it schedules.
   */
  private schedule(input: ActivityInput | LocalActivityInput, scheduleWith: (headers: Record<string, Payload>) => Promise<unknown>): Promise<unknown> {
    const run = this.run;
    const runSpan = run.span;
    if (!runSpan) return scheduleWith(input.headers);
    const orderId = orderIdOf(input.args);
    let parent = runSpan.context;
    let compensation: WorkflowSpan | undefined;
    if (run.isCheckout && !run.settled && compensationActivities.has(input.activityType)) {
      const code = run.refusalCode;
      compensation = new WorkflowSpan(run.tracer, `Compensate:${input.activityType}`, parent, {
        [spanAttributes.orderId]: orderId,
        [spanAttributes.compensation]: true,
        ...(code ? { [spanAttributes.refusalCode]: code } : {}),
      });
      compensation.setStatus(statusError, `undo of a refused checkout${code ? ` (${code})` : ''}`);
      parent = compensation.context;
    }
    const span = new WorkflowSpan(run.tracer, `StartActivity:${input.activityType}`, parent, orderId ? { [spanAttributes.orderId]: orderId } : {});
    const arg = (input.args[0] ?? {}) as { pricing?: PriceBreakdown; status?: string; failure?: CheckoutFailure };
    if (run.isCheckout && input.activityType === 'recordOrder' && arg.pricing) {
      runSpan.setAttributes({
        [spanAttributes.sellerCount]: Object.keys(arg.pricing.sellers).length,
        [spanAttributes.grandTotalMinor]: arg.pricing.totals.grandTotal,
        [spanAttributes.currency]: arg.pricing.currency,
      });
    }
    return observe(scheduleWith(withTraceParent(input.headers, span.context)), (err, ok) => {
      if (ok) {
        span.setStatus(statusOk);
        if (run.isCheckout && input.activityType === 'confirmOrder') run.settle('COMPLETED');
        else if (run.isCheckout && input.activityType === 'setOrderStatus' && arg.status === 'FAILED') run.settle('FAILED', arg.failure);
      } else {
        const refusal = refusalOf(err);
        if (refusal) {
          span.setAttributes({ [spanAttributes.refusalCode]: refusal.code });
          if (run.isCheckout && !run.settled) run.noteRefusal(refusal.code);
        }
        span.setStatus(statusError, err instanceof Error ? err.message : String(err));
      }
      span.end();
      compensation?.end();
    });
  }
}

function orderIdOf(args: unknown[]): string {
  const first = args[0] as { orderId?: unknown } | undefined;
  return typeof first?.orderId === 'string' ? first.orderId : '';
}

export const interceptors = (): WorkflowInterceptors => {
  const run = new RunTrace(new SandboxTracer());
  return { inbound: [new TracingInbound(run)], outbound: [new TracingOutbound(run)] };
};
