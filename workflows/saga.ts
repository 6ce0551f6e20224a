/**
 * A small saga helper for workflow code: each completed step registers its undo next to it, and on
 * a business refusal the undos run in reverse order in a non-cancellable scope, each retried until
 * it succeeds. Progress (steps and compensations, with status and workflow time) is kept for the
 * state query.
 */
import { CancellationScope, log, sleep } from '@temporalio/workflow';
import type { SagaStep } from './contract';

interface Compensation {
  name: string;
  undo: () => Promise<unknown>;
  last: boolean;
  group?: string;
}

export interface CompensationOptions {
  /**
   * Run this undo after every other one, whatever the order of registration: for an undo that may
   * have to wait on the outside world (the refund of a payment still processing at the PSP), so
   * that stock and vouchers are not held behind it.
   */
  last?: boolean;
  /**
   * Undos of one group that come one after another in the compensation order run at the same
   * time: for actions that ran in parallel and do not depend on each other (stock and vouchers).
   */
  group?: string;
}

/** Pause between two attempts of an undo whose activity gave up (each activity also retries itself). */
const compensationRetryPauses = ['1 second', '5 seconds', '30 seconds', '2 minutes'] as const;

export class Saga {
  readonly steps: SagaStep[] = [];
  readonly compensations: SagaStep[] = [];
  private readonly undos: Compensation[] = [];

  constructor(private readonly onCompensation: (name: string) => void = () => undefined) {}

  /** Runs one step and records its progress. */
  async step<T>(name: string, action: () => Promise<T>): Promise<T> {
    const entry = record(this.steps, name);
    try {
      const result = await action();
      mark(entry, 'completed');
      return result;
    } catch (err) {
      mark(entry, 'failed');
      throw err;
    }
  }

  /**
   * Registers an undo. Register it *before* the action it undoes: an action whose activity timed
   * out may still have taken effect, and every undo is a no-op when there is nothing to undo.
   */
  addCompensation(name: string, undo: () => Promise<unknown>, options: CompensationOptions = {}): void {
    this.undos.push({ name, undo, last: options.last ?? false, ...(options.group ? { group: options.group } : {}) });
  }

  /** Whether any undo is registered (a refusal before the first side effect has nothing to undo). */
  get hasCompensations(): boolean {
    return this.undos.length > 0;
  }

  /** Runs every registered undo, newest first, each until it succeeds; cancellation cannot stop it. */
  async compensate(): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      const newestFirst = [...this.undos].reverse();
      const ordered = [...newestFirst.filter((u) => !u.last), ...newestFirst.filter((u) => u.last)];
      for (const batch of batches(ordered)) {
        await Promise.all(
          batch.map(async ({ name, undo }) => {
            const entry = record(this.compensations, name);
            await untilItSucceeds(name, undo);
            mark(entry, 'completed');
            this.onCompensation(name);
          }),
        );
      }
    });
    this.undos.length = 0;
  }
}

/** Consecutive undos of one group form one batch; every other undo is a batch of its own. */
function batches(ordered: readonly Compensation[]): Compensation[][] {
  const result: Compensation[][] = [];
  for (const undo of ordered) {
    const previous = result.at(-1);
    if (undo.group !== undefined && previous?.[0]?.group === undo.group) previous.push(undo);
    else result.push([undo]);
  }
  return result;
}

async function untilItSucceeds(name: string, undo: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await undo();
      return;
    } catch (err) {
      const pause = compensationRetryPauses[Math.min(attempt, compensationRetryPauses.length - 1)]!;
      log.warn('compensation failed; retrying', { compensation: name, attempt, error: (err as Error).message, pause });
      await sleep(pause);
    }
  }
}

function nowIso(): string {
  return new Date().toISOString(); // workflow time: deterministic under replay
}

function record(list: SagaStep[], name: string): SagaStep {
  const entry: SagaStep = { name, status: 'running', at: nowIso() };
  list.push(entry);
  return entry;
}

function mark(entry: SagaStep, status: SagaStep['status']): void {
  entry.status = status;
  entry.at = nowIso();
}
