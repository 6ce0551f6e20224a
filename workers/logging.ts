/**
 * The worker's log: the SDK's default format, except that an activity refused for a business reason
 * (out of stock, card declined, voucher exhausted — a non-retryable ApplicationFailure, the saga's
 * normal flow) is one INFO line, not a WARN with two stack traces. Every other failure keeps its detail.
 */
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, type Logger, type LogLevel, type LogMetadata } from '@temporalio/worker';

const levels: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

export class WorkerLogger implements Logger {
  private readonly base: DefaultLogger;

  constructor(level: LogLevel = 'INFO', logFunction?: ConstructorParameters<typeof DefaultLogger>[1]) {
    this.base = new DefaultLogger(level, logFunction);
  }

  log(level: LogLevel, message: string, given?: LogMetadata): void {
    const meta = withTraceIds(given);
    const error: unknown = meta?.error;
    if (message === 'Activity failed' && error instanceof ApplicationFailure && error.nonRetryable) {
      const { activityType, workflowId, attempt } = meta as { activityType?: unknown; workflowId?: unknown; attempt?: unknown };
      const { traceId, spanId } = meta as { traceId?: unknown; spanId?: unknown };
      // The trace ids only when the line was written inside a traced activity (no undefined fields).
      const ids = traceId === undefined ? {} : { traceId, spanId };
      this.base.log('INFO', `Activity refused: ${error.type ?? 'ApplicationFailure'}: ${error.message}`, { activityType, workflowId, attempt, ...ids });
      return;
    }
    this.base.log(level, message, meta);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/**
 * Logs join traces (docs/tracing.md): a line written inside a traced activity carries the trace and
 * span ids of its context; a workflow's line carries those the tracing interceptors attached
 * (`trace_id`, `span_id`), under the same names as the API's lines.
 */
export function withTraceIds(meta: LogMetadata | undefined): LogMetadata | undefined {
  if (meta && typeof meta.trace_id === 'string' && typeof meta.span_id === 'string') {
    const { trace_id: traceId, span_id: spanId, trace_flags: _flags, ...rest } = meta;
    return { ...rest, traceId, spanId };
  }
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return meta;
  return { ...meta, traceId: spanContext.traceId, spanId: spanContext.spanId };
}

export function createWorkerLogger(level: string | undefined): WorkerLogger {
  const wanted = (level ?? 'INFO').toUpperCase() as LogLevel;
  if (!levels.includes(wanted)) throw new Error(`LOG_LEVEL must be one of ${levels.join(', ')}, got "${level}"`);
  return new WorkerLogger(wanted);
}
