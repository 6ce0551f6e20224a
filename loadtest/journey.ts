/**
 * One buyer's checkout as the load harness drives it, through the public HTTP API: POST
 * /v1/checkouts with an Idempotency-Key on a cart filled before the clock started; a 201 is the
 * outcome, a 202 is followed until the order settles (one batched database poll for every pending
 * order, not one poller each); 429/503 are refusals, optionally retried after Retry-After with the
 * same key (what a real client does); the chaos scenario sends every POST twice with the same key
 * and checks both name the same order.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import type { ApiClient, Reply } from '../bench/checkout/http';
import type { Outcome } from './recorder';

export interface OrderOutcome {
  outcome: Outcome;
  orderId?: string;
  /** The refusal's or failure's details (INSUFFICIENT_STOCK: details.lines). */
  details?: Record<string, unknown>;
  /** ms from the first POST until the answer, or until the order settled. */
  latencyMs: number;
  /** Refusals (429/503) retried before this outcome. */
  retries: number;
  /** The duplicate POST named another order (chaos): an idempotency violation. */
  duplicateMismatch?: string;
}

interface ErrorBody {
  error?: { code?: string; details?: Record<string, unknown> };
}
interface OrderBody {
  orderId?: string;
  status?: string;
  failure?: { code?: string; details?: Record<string, unknown> };
}

/** 0.5-1.5 x the wait: clients told the same Retry-After must not come back in one wave. */
const jittered = (ms: number): number => Math.round(ms * (0.5 + Math.random()));

/** Waits for many orders to settle with one query per tick. */
export class Settler {
  private readonly waiting = new Map<string, (row: SettledRow | undefined) => void>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly pool: Pool,
    private readonly intervalMs = 100,
  ) {}

  /** Resolves with the settled row, or undefined when `timeoutMs` passes first. */
  wait(orderId: string, timeoutMs: number): Promise<SettledRow | undefined> {
    return new Promise((resolve) => {
      const timeout = setTimeout(() => {
        this.waiting.delete(orderId);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(orderId, (row) => {
        clearTimeout(timeout);
        resolve(row);
      });
      this.timer ??= setInterval(() => void this.poll(), this.intervalMs);
    });
  }

  pending(): number {
    return this.waiting.size;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    if (this.waiting.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    this.polling = true;
    try {
      const { rows } = await this.pool.query<SettledRow>(
        `SELECT order_id, status, updated_at, failure FROM orders WHERE order_id = ANY($1) AND status IN ('COMPLETED', 'FAILED')`,
        [[...this.waiting.keys()]],
      );
      for (const row of rows) {
        const done = this.waiting.get(row.order_id);
        this.waiting.delete(row.order_id);
        done?.(row);
      }
    } catch {
      /* the database may be behind a fault: the next tick asks again */
    } finally {
      this.polling = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
    for (const done of this.waiting.values()) done(undefined);
    this.waiting.clear();
  }
}

export interface SettledRow {
  order_id: string;
  status: 'COMPLETED' | 'FAILED';
  updated_at: Date;
  failure: { code?: string; details?: Record<string, unknown> } | null;
}

export interface JourneyOptions {
  api: ApiClient;
  settler: Settler;
  buyer: string;
  key: string;
  paymentToken: string;
  /**
   * Retry 429/503 after Retry-After (jittered), and a request that timed out, with the same key,
   * until this many ms have passed since the first POST.
   */
  retryRefusalsForMs?: number;
  /** Send the POST a second time, 20 ms later, with the same key (chaos). */
  duplicate?: boolean;
  /** How long a 202 may take to settle. */
  settleTimeoutMs: number;
  /** Per-request timeout. */
  requestTimeoutMs?: number;
}

function post(options: JourneyOptions): Promise<Reply> {
  return options.api.call(
    'POST',
    '/v1/checkouts',
    options.api.token(options.buyer),
    { paymentMethod: { token: options.paymentToken } },
    { 'Idempotency-Key': options.key },
    options.requestTimeoutMs ?? 30_000,
  );
}

function retryAfterMs(reply: Reply & { retryAfter?: string | null }): number {
  const seconds = Number(reply.retryAfter ?? 1);
  return Math.max(100, Math.min(5_000, (Number.isFinite(seconds) ? seconds : 1) * 1000));
}

async function postWithHeaders(options: JourneyOptions): Promise<Reply & { retryAfter?: string | null }> {
  // ApiClient.call does not return headers; Retry-After is read from a plain fetch of the same call.
  const started = performance.now();
  const res = await fetch(`${options.api.baseUrl}/v1/checkouts`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${options.api.token(options.buyer)}`, 'Content-Type': 'application/json', 'Idempotency-Key': options.key },
    body: JSON.stringify({ paymentMethod: { token: options.paymentToken } }),
    signal: AbortSignal.timeout(options.requestTimeoutMs ?? 30_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    /* keep the text */
  }
  return { status: res.status, body, ms: performance.now() - started, retryAfter: res.headers.get('retry-after') };
}

function settledOutcome(status: string | undefined, failure: { code?: string; details?: Record<string, unknown> } | null | undefined): { outcome: Outcome; details?: Record<string, unknown> } {
  if (status === 'COMPLETED') return { outcome: 'COMPLETED' };
  return { outcome: `FAILED:${failure?.code ?? 'UNKNOWN'}`, ...(failure?.details ? { details: failure.details } : {}) };
}

export async function checkoutJourney(options: JourneyOptions): Promise<OrderOutcome> {
  const started = performance.now();
  let retries = 0;
  let duplicateMismatch: string | undefined;
  for (;;) {
    let reply: Reply & { retryAfter?: string | null };
    let duplicate: Promise<Reply> | undefined;
    try {
      if (options.duplicate) duplicate = sleep(20).then(() => post(options));
      reply = await postWithHeaders(options);
    } catch (err) {
      await duplicate?.catch(() => undefined);
      const outcome = (err as Error).name === 'TimeoutError' ? 'ERROR:timeout' : 'ERROR:network';
      // A client that gave up asks again with the same key (idempotent: the same order, never a second).
      if (options.retryRefusalsForMs !== undefined && performance.now() - started + 1000 < options.retryRefusalsForMs) {
        retries += 1;
        await sleep(jittered(1000));
        continue;
      }
      return { outcome, latencyMs: performance.now() - started, retries };
    }
    const elapsed = performance.now() - started;
    if ((reply.status === 429 || reply.status === 503) && options.retryRefusalsForMs !== undefined && elapsed + retryAfterMs(reply) < options.retryRefusalsForMs) {
      await duplicate?.catch(() => undefined);
      retries += 1;
      await sleep(jittered(retryAfterMs(reply)));
      continue;
    }
    const body = reply.body as OrderBody & ErrorBody;
    if (duplicate) {
      const second = await duplicate.catch(() => undefined);
      const otherId = (second?.body as OrderBody | undefined)?.orderId;
      if (body.orderId && otherId && otherId !== body.orderId) duplicateMismatch = `${options.key}: ${body.orderId} and ${otherId}`;
    }
    const base = { retries, ...(duplicateMismatch ? { duplicateMismatch } : {}) };
    if (reply.status === 200 || reply.status === 201 || reply.status === 202) {
      const orderId = body.orderId;
      if (body.status === 'COMPLETED' || body.status === 'FAILED') return { ...base, orderId, latencyMs: elapsed, ...settledOutcome(body.status, body.failure) };
      if (!orderId) return { ...base, outcome: `HTTP_${reply.status}:no-order`, latencyMs: elapsed };
      const row = await options.settler.wait(orderId, options.settleTimeoutMs);
      if (!row) return { ...base, orderId, outcome: 'UNSETTLED', latencyMs: performance.now() - started };
      return { ...base, orderId, latencyMs: performance.now() - started, ...settledOutcome(row.status, row.failure) };
    }
    const code = body.error?.code ?? 'UNKNOWN';
    const prefix = reply.status === 422 ? 'REFUSED_422' : String(reply.status);
    return { ...base, outcome: reply.status === 503 ? '503' : `${prefix}:${code}`, latencyMs: elapsed, ...(body.error?.details ? { details: body.error.details } : {}) };
  }
}
