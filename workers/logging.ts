/**
 * The worker's log: the SDK's default format, except that an activity refused for a business reason
 * (out of stock, card declined, voucher exhausted — a non-retryable ApplicationFailure, the saga's
 * normal flow) is one INFO line, not a WARN with two stack traces. Every other failure keeps its detail.
 */
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, type Logger, type LogLevel, type LogMetadata } from '@temporalio/worker';

const levels: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

export class WorkerLogger implements Logger {
  private readonly base: DefaultLogger;

  constructor(level: LogLevel = 'INFO', logFunction?: ConstructorParameters<typeof DefaultLogger>[1]) {
    this.base = new DefaultLogger(level, logFunction);
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const error: unknown = meta?.error;
    if (message === 'Activity failed' && error instanceof ApplicationFailure && error.nonRetryable) {
      const { activityType, workflowId, attempt } = meta as { activityType?: unknown; workflowId?: unknown; attempt?: unknown };
      this.base.log('INFO', `Activity refused: ${error.type ?? 'ApplicationFailure'}: ${error.message}`, { activityType, workflowId, attempt });
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

export function createWorkerLogger(level: string | undefined): WorkerLogger {
  const wanted = (level ?? 'INFO').toUpperCase() as LogLevel;
  if (!levels.includes(wanted)) throw new Error(`LOG_LEVEL must be one of ${levels.join(', ')}, got "${level}"`);
  return new WorkerLogger(wanted);
}
