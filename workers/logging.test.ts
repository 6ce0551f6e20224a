import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import type { LogEntry } from '@temporalio/worker';
import { createWorkerLogger, WorkerLogger } from './logging';

describe('worker logging', () => {
  function capture(): { logger: WorkerLogger; entries: LogEntry[] } {
    const entries: LogEntry[] = [];
    return { logger: new WorkerLogger('INFO', (entry) => entries.push(entry)), entries };
  }

  it('turns a business refusal into one INFO line without stack traces', () => {
    const { logger, entries } = capture();
    const error = ApplicationFailure.create({ type: 'INSUFFICIENT_STOCK', message: 'not enough stock', nonRetryable: true });
    logger.warn('Activity failed', { error, activityType: 'reserveStock', workflowId: 'checkout:o1', attempt: 1 });
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.level, 'INFO');
    assert.equal(entries[0]!.message, 'Activity refused: INSUFFICIENT_STOCK: not enough stock');
    assert.deepEqual(entries[0]!.meta, { activityType: 'reserveStock', workflowId: 'checkout:o1', attempt: 1 });
  });

  it('keeps every other failure as it is', () => {
    const { logger, entries } = capture();
    const error = new Error('connection reset');
    logger.warn('Activity failed', { error });
    const retryable = ApplicationFailure.create({ type: 'X', message: 'later', nonRetryable: false });
    logger.warn('Activity failed', { error: retryable });
    assert.deepEqual(entries.map((e) => [e.level, e.message]), [['WARN', 'Activity failed'], ['WARN', 'Activity failed']]);
    assert.equal(entries[0]!.meta?.error, error);
  });

  it('rejects an unknown LOG_LEVEL by name', () => {
    assert.throws(() => createWorkerLogger('loud'), /LOG_LEVEL must be one of/);
    assert.ok(createWorkerLogger('warn') instanceof WorkerLogger);
  });
});
