/**
 * Webhook delivery with Stripe-like behaviour: every event is POSTed, signed, to the configured URL
 * and retried with exponential backoff (with jitter) until the receiver answers 2xx, or until the
 * give-up age passes. Pending deliveries live in the store, so a restart resumes them.
 *
 * To exercise receivers, an event can be delivered twice (duplicateRate) and held back for a while
 * (reorderRate, reorderDelayMs) so that later events overtake it.
 */
import { randomBytes } from 'node:crypto';
import { signPayload } from './signature';
import type { PspStore } from './store';
import type { Delivery, WebhookEvent } from './types';

export interface DispatcherOptions {
  store: PspStore;
  url: string;
  secret: string;
  random: () => number;
  log: (line: string) => void;
  retryBaseMs: number;
  retryMaxMs: number;
  giveUpAfterMs: number;
  requestTimeoutMs: number;
  duplicateRate: number;
  reorderRate: number;
  reorderDelayMs: number;
  /** Deliveries in flight at once. */
  concurrencyMax: number;
}

export interface WebhookDispatcher {
  enqueue(event: WebhookEvent): void;
  /** Arms the timer for the deliveries already in the store (after a restart). */
  start(): void;
  close(): Promise<void>;
}

/** setTimeout's largest delay; longer waits are re-armed when it fires. */
const timerMaxMs = 2_147_483_647;

export function createWebhookDispatcher(options: DispatcherOptions): WebhookDispatcher {
  const { store, random, log } = options;
  const inFlight = new Map<string, Promise<void>>();
  const aborts = new Set<AbortController>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function backoffMs(attempts: number): number {
    const exponential = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.min(attempts - 1, 30));
    return Math.max(1, Math.floor(exponential * (0.5 + random() / 2)));
  }

  function dueDeliveries(now: number): Delivery[] {
    return [...store.deliveries.values()]
      .filter((d) => d.state === 'pending' && !inFlight.has(d.deliveryId) && d.nextAttemptAtMs <= now)
      .sort((a, b) => a.nextAttemptAtMs - b.nextAttemptAtMs);
  }

  function schedule(): void {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = undefined;
    let next = Infinity;
    for (const d of store.deliveries.values()) {
      if (d.state === 'pending' && !inFlight.has(d.deliveryId)) next = Math.min(next, d.nextAttemptAtMs);
    }
    if (next === Infinity) return;
    timer = setTimeout(pump, Math.min(timerMaxMs, Math.max(0, next - Date.now())));
    timer.unref();
  }

  function pump(): void {
    timer = undefined;
    if (closed) return;
    const free = options.concurrencyMax - inFlight.size;
    for (const delivery of dueDeliveries(Date.now()).slice(0, Math.max(0, free))) {
      const attempt = deliver(delivery).finally(() => {
        inFlight.delete(delivery.deliveryId);
        schedule();
      });
      inFlight.set(delivery.deliveryId, attempt);
    }
    schedule();
  }

  async function deliver(delivery: Delivery): Promise<void> {
    const body = JSON.stringify(delivery.event);
    const abort = new AbortController();
    aborts.add(abort);
    let failure: string;
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Payment-Signature': signPayload(options.secret, Math.floor(Date.now() / 1000), body),
          'User-Agent': 'checkout-psp-simulator',
        },
        body,
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(options.requestTimeoutMs)]),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) {
        delivery.state = 'delivered';
        delivery.attempts += 1;
        delivery.lastError = null;
        store.saveDelivery(delivery);
        return;
      }
      failure = `HTTP ${response.status}`;
    } catch (err) {
      failure = (err as Error).message;
    } finally {
      aborts.delete(abort);
    }
    if (closed) return; // shutting down: the attempt does not count, the delivery stays pending
    delivery.attempts += 1;
    delivery.lastError = failure;
    if (Date.now() - delivery.createdAtMs > options.giveUpAfterMs) {
      delivery.state = 'abandoned';
      log(`webhook ${delivery.event.id} (${delivery.event.type}) abandoned after ${delivery.attempts} attempts: ${failure}`);
    } else {
      delivery.nextAttemptAtMs = Date.now() + backoffMs(delivery.attempts);
    }
    store.saveDelivery(delivery);
  }

  return {
    enqueue(event) {
      const copies = options.duplicateRate > 0 && random() < options.duplicateRate ? 2 : 1;
      const now = Date.now();
      for (let copy = 0; copy < copies; copy += 1) {
        const heldBack = options.reorderRate > 0 && random() < options.reorderRate ? options.reorderDelayMs : 0;
        store.saveDelivery({
          deliveryId: `whd_${randomBytes(10).toString('hex')}`,
          event,
          attempts: 0,
          // A duplicate follows its original a little later, as a redelivery would.
          nextAttemptAtMs: now + heldBack + copy * 25,
          createdAtMs: now,
          state: 'pending',
          lastError: null,
        });
      }
      schedule();
    },
    start: schedule,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const abort of aborts) abort.abort();
      await Promise.allSettled([...inFlight.values()]);
    },
  };
}
