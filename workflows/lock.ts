/**
 * A mutual-exclusion lock for workflow code. `await condition(() => !held)` alone is not one: when
 * the lock is released, every waiter's condition is true in the same activation and all of them
 * go on together (two parcel actions then ran at once). Here a waiter that wakes re-checks and
 * waits again unless it really got the lock, and waiters are served in arrival order.
 */
import { condition } from '@temporalio/workflow';

export class FifoLock {
  private held = false;
  private readonly queue: number[] = [];
  private nextTicket = 0;

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const ticket = this.nextTicket++;
    this.queue.push(ticket);
    while (this.held || this.queue[0] !== ticket) await condition(() => !this.held && this.queue[0] === ticket);
    this.queue.shift();
    this.held = true;
    try {
      return await fn();
    } finally {
      this.held = false;
    }
  }
}
