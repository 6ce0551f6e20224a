/**
 * A small saga helper for workflow code. Each step is declared with its undo (`{name, run, undo}`,
 * named after the activities they call); `run` registers the undo before the action starts, and on
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

/** How a step's effect is undone: its name (the activity it calls), the call, and its options. */
export interface Undo extends CompensationOptions {
  name: string;
  run: () => Promise<unknown>;
}

/** One step of a saga, declared with its undo (none for a step with no effect of its own to undo). */
export interface SagaAction<T> {
  name: string;
  run: () => Promise<T>;
  undo?: Undo;
}

/** Pause between two attempts of an undo whose activity gave up (each activity also retries itself). */
const longestPause = '2 minutes';
const compensationRetryPauses = ['1 second', '5 seconds', '30 seconds', longestPause] as const;

export class Saga {
  readonly steps: SagaStep[] = [];
  readonly compensations: SagaStep[] = [];
  private readonly undos: Compensation[] = [];

  constructor(private readonly onCompensation: (name: string) => void = () => undefined) {}

  /**
   * Runs one declared step: registers its undo first (an action whose activity timed out may
   * still have taken effect, and every undo is a no-op when there is nothing to undo), then runs
   * it and records its progress.
   */
  run<T>(action: SagaAction<T>): Promise<T> {
    if (action.undo) {
      const { name, run, ...options } = action.undo;
      this.addCompensation(name, run, options);
    }
    return this.step(action.name, action.run);
  }

  /** Runs one step and records its progress (the first release's workflows call this and `addCompensation`). */
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
      const pause = compensationRetryPauses[Math.min(attempt, compensationRetryPauses.length - 1)] ?? longestPause;
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
