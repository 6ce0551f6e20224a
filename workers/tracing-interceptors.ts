/**
 * Activity-side tracing additions (docs/tracing.md), inside the RunActivity span of
 * @temporalio/interceptors-opentelemetry: the order id on every activity span, and the refusal code
 * on an activity that refused (a non-retryable ApplicationFailure: its type is the code). The
 * package sets the span's error status itself.
 */
import { trace } from '@opentelemetry/api';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';

export class RefusalSpanAttributes implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const span = trace.getActiveSpan();
    const orderId = (input.args[0] as { orderId?: unknown } | undefined)?.orderId;
    if (typeof orderId === 'string') span?.setAttribute('order.id', orderId);
    try {
      return await next(input);
    } catch (err) {
      if (err instanceof ApplicationFailure && err.nonRetryable && err.type) span?.setAttribute('checkout.refusal_code', err.type);
      throw err;
    }
  }
}
