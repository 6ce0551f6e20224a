/**
 * No order is left without a saga. The API inserts an order's row (with the saga's input) before it
 * starts the saga; when Temporal cannot be reached then, the request is answered 503 with
 * Retry-After and the row stays PROCESSING with no saga. This sweep, run by every worker, starts
 * the saga of each such order from its stored input once Temporal answers again. Starting is
 * idempotent (workflow id `checkout:<orderId>`, USE_EXISTING / REJECT_DUPLICATE), so several
 * workers, a client retrying its key, and a saga that exists but has not yet recorded anything all
 * come to one saga per order.
 */
import type { Client } from '@temporalio/client';
import { ensureSaga } from '../api/checkout';
import type { OrdersService } from '../services/orders';
import type { CheckoutInput } from '../workflows/contract';

export interface ReconcilerOptions {
  client: Client;
  orders: Pick<OrdersService, 'ordersAwaitingSaga'>;
  taskQueue: string;
  /** How often to sweep. */
  intervalMs: number;
  /** Only orders accepted at least this long ago: younger ones are still being started by their request. */
  graceMs: number;
  /** Orders started per sweep at most. */
  batchMax?: number;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

/** One sweep: starts the saga of every order that has none; answers how many it started. */
export async function reconcileOnce(options: ReconcilerOptions): Promise<number> {
  const pending = await options.orders.ordersAwaitingSaga(options.graceMs, options.batchMax ?? 100);
  for (const { orderId, checkoutInput } of pending) {
    await ensureSaga(options.client, options.taskQueue, checkoutInput as CheckoutInput);
    options.log?.('reconciler: started the saga of an order accepted without one', { orderId });
  }
  return pending.length;
}

/** Sweeps every `intervalMs` until stopped; a failed sweep (Temporal or Postgres down) is retried next time. */
export function startReconciler(options: ReconcilerOptions): { stop: () => Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = reconcileOnce(options).catch((err: unknown) => options.log?.('reconciler: sweep failed; retrying next time', { error: (err as Error).message }));
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
