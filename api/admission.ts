/**
 * Admission control of POST /v1/checkouts (api-contract.md, Overload): past the load the system
 * sustains, a checkout is refused at the door — `429 OVERLOADED` with `Retry-After`, before anything
 * is read from the cart, written or reserved — instead of starting sagas that queue until every
 * latency collapses. Two gates, in this order:
 *
 * 1. **In-flight limit, per API process**: at most `maxInFlight` checkouts of this process are being
 *    handled at once (from admission until the response is finished or the client went away; a
 *    checkout answered 202 leaves the count, its saga goes on). Beyond that a request waits in a
 *    FIFO queue of at most `maxQueue` entries for at most `queueTimeoutMs`, else it is refused.
 *    Little's law sizes it: maxInFlight ≈ sustainable rate x checkout latency (docs/capacity.md).
 * 2. **Shared token bucket, optional** (`ratePerSecond` > 0 and a Redis): one bucket in Redis for
 *    every API process on it (one atomic Lua script per request, Redis's clock), refilling
 *    `ratePerSecond` tokens per second up to `burst`. A Redis that does not answer within
 *    `sharedTimeoutMs` does not refuse (the in-flight limit still holds; counted as `shared_error`).
 *
 * Every refusal is counted in `checkout_admission_shed_total{reason}` (queue_full, queue_timeout,
 * shared_rate); `checkout_admission_in_flight` and `checkout_admission_queued` show the gates.
 * Configuration: `admissionConfigFromEnv` (README, Configuration).
 */
import type { RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import { AppError } from '../lib/errors';

export interface AdmissionConfig {
  /** Checkouts handled at once by this process; 0 disables the gate. */
  maxInFlight: number;
  /** Checkouts waiting for a slot; beyond it a request is refused at once. */
  maxQueue: number;
  /** The longest a queued request waits for a slot before it is refused. */
  queueTimeoutMs: number;
  /** Retry-After of a refusal (seconds). */
  retryAfterSeconds: number;
  /** Shared admission rate over every API process on the Redis (per second); 0: off. */
  ratePerSecond: number;
  /** Tokens the shared bucket holds at most (a burst admitted at once); default: one second's worth. */
  burst: number;
  /** Redis key of the shared bucket (environments sharing one Redis database need their own). */
  sharedKey: string;
  /** How long the shared bucket may take before the request is admitted without it. */
  sharedTimeoutMs: number;
}

export const admissionDefaults: AdmissionConfig = {
  maxInFlight: 64,
  maxQueue: 0,
  queueTimeoutMs: 100,
  retryAfterSeconds: 1,
  ratePerSecond: 0,
  burst: 0,
  sharedKey: 'admission:checkout',
  sharedTimeoutMs: 50,
};

type Env = Record<string, string | undefined>;

function intFrom(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

/**
 * CHECKOUT_MAX_IN_FLIGHT (64; 0 = no limit), CHECKOUT_MAX_QUEUE (0), CHECKOUT_QUEUE_TIMEOUT_MS (100),
 * CHECKOUT_OVERLOAD_RETRY_AFTER_S (1), CHECKOUT_ADMISSION_RATE (0 = no shared bucket),
 * CHECKOUT_ADMISSION_BURST (= the rate), CHECKOUT_ADMISSION_KEY (`admission:checkout`).
 */
export function admissionConfigFromEnv(env: Env = process.env): AdmissionConfig {
  const ratePerSecond = intFrom(env, 'CHECKOUT_ADMISSION_RATE', admissionDefaults.ratePerSecond, 0, 1_000_000);
  const sharedKey = env.CHECKOUT_ADMISSION_KEY?.trim() || admissionDefaults.sharedKey;
  if (!/^[\x21-\x7e]{1,128}$/.test(sharedKey)) throw new Error(`CHECKOUT_ADMISSION_KEY must be 1-128 printable ASCII characters without spaces, got "${sharedKey}"`);
  return {
    maxInFlight: intFrom(env, 'CHECKOUT_MAX_IN_FLIGHT', admissionDefaults.maxInFlight, 0, 1_000_000),
    maxQueue: intFrom(env, 'CHECKOUT_MAX_QUEUE', admissionDefaults.maxQueue, 0, 1_000_000),
    queueTimeoutMs: intFrom(env, 'CHECKOUT_QUEUE_TIMEOUT_MS', admissionDefaults.queueTimeoutMs, 1, 60_000),
    retryAfterSeconds: intFrom(env, 'CHECKOUT_OVERLOAD_RETRY_AFTER_S', admissionDefaults.retryAfterSeconds, 1, 3600),
    ratePerSecond,
    burst: intFrom(env, 'CHECKOUT_ADMISSION_BURST', ratePerSecond, 1, 1_000_000),
    sharedKey,
    sharedTimeoutMs: admissionDefaults.sharedTimeoutMs,
  };
}

export type ShedReason = 'queue_full' | 'queue_timeout' | 'shared_rate';

/** The refusal: 429 in the one error shape (api/errors.ts maps the kind and sets Retry-After). */
export function overloaded(reason: ShedReason, retryAfterSeconds: number): AppError {
  return new AppError('rate_limited', 'OVERLOADED', 'the checkout service is at capacity; nothing was done, retry after the indicated delay', {
    reason,
    retryAfterSeconds,
  });
}

/**
 * Token bucket in one hash {tokens, ts}: refills by elapsed time (Redis's clock, so API hosts need
 * not agree on theirs), takes one token if there is one. Returns {1, 0} admitted, or {0, ms until
 * the next token}. Expires once it would be full again anyway.
 */
const tokenBucketScript = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = redis.call('TIME')
local t = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(data[1]) or burst
local ts = tonumber(data[2]) or t
tokens = math.min(burst, tokens + math.max(0, t - ts) * rate / 1000)
local allowed = 0
local waitMs = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  waitMs = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', t)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, waitMs}
`;

export interface AdmissionMetrics {
  shed: Counter<'reason'>;
  inFlight: Gauge;
  queued: Gauge;
  sharedErrors: Counter;
}

/**
 * The gates' metrics in the app's registry (one registry per app: tests build many apps); an app
 * built twice on one registry shares them instead of failing on a duplicate name.
 */
export function createAdmissionMetrics(registry?: Registry): AdmissionMetrics {
  const registers = registry ? [registry] : [];
  const existing = registry?.getSingleMetric('checkout_admission_shed_total');
  if (registry && existing) {
    return {
      shed: existing as Counter<'reason'>,
      inFlight: registry.getSingleMetric('checkout_admission_in_flight') as Gauge,
      queued: registry.getSingleMetric('checkout_admission_queued') as Gauge,
      sharedErrors: registry.getSingleMetric('checkout_admission_shared_errors_total') as Counter,
    };
  }
  return {
    shed: new Counter({ name: 'checkout_admission_shed_total', help: 'Checkouts refused by admission control (429 OVERLOADED), by reason.', labelNames: ['reason'], registers }),
    inFlight: new Gauge({ name: 'checkout_admission_in_flight', help: 'Checkouts this API process is handling now (admitted).', registers }),
    queued: new Gauge({ name: 'checkout_admission_queued', help: 'Checkouts waiting for an admission slot now.', registers }),
    sharedErrors: new Counter({ name: 'checkout_admission_shared_errors_total', help: 'Shared token bucket calls that failed or timed out (the request was admitted on the local gate).', registers }),
  };
}

interface Waiter {
  admit: () => void;
  timer: NodeJS.Timeout;
}

export interface Admission {
  middleware: RequestHandler;
  /** Checkouts being handled now (for tests and logs). */
  inFlight(): number;
  queued(): number;
}

export function createAdmission(config: AdmissionConfig, options: { redis?: Redis; metrics?: AdmissionMetrics } = {}): Admission {
  const metrics = options.metrics ?? createAdmissionMetrics();
  const queue: Waiter[] = [];
  let inFlight = 0;

  const refuse = (reason: ShedReason, next: (err?: unknown) => void): void => {
    metrics.shed.inc({ reason });
    next(overloaded(reason, config.retryAfterSeconds));
  };

  /** Frees the slot when the response is done (finished or the connection closed), exactly once. */
  const holdSlot = (res: Response): void => {
    inFlight += 1;
    metrics.inFlight.set(inFlight);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      inFlight -= 1;
      metrics.inFlight.set(inFlight);
      const waiter = queue.shift();
      metrics.queued.set(queue.length);
      if (waiter) {
        clearTimeout(waiter.timer);
        waiter.admit();
      }
    };
    res.once('finish', release);
    res.once('close', release);
  };

  async function sharedAdmits(): Promise<boolean> {
    const redis = options.redis;
    if (!redis || config.ratePerSecond <= 0) return true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = (await Promise.race([
        redis.eval(tokenBucketScript, 1, config.sharedKey, String(config.ratePerSecond), String(Math.max(1, config.burst))),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('shared admission bucket timed out')), config.sharedTimeoutMs);
        }),
      ])) as [number, number];
      return reply[0] === 1;
    } catch {
      metrics.sharedErrors.inc();
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  const localGate = (res: Response, next: (err?: unknown) => void, then: () => void): void => {
    if (config.maxInFlight <= 0 || inFlight < config.maxInFlight) {
      if (config.maxInFlight > 0) holdSlot(res);
      then();
      return;
    }
    if (queue.length >= config.maxQueue) {
      refuse('queue_full', next);
      return;
    }
    const waiter: Waiter = {
      admit: () => {
        // The client may have gone while it waited: then it takes no slot.
        if (res.destroyed || res.writableEnded) {
          const nextWaiter = queue.shift();
          if (nextWaiter) {
            clearTimeout(nextWaiter.timer);
            nextWaiter.admit();
          }
          metrics.queued.set(queue.length);
          return;
        }
        holdSlot(res);
        then();
      },
      timer: setTimeout(() => {
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
        metrics.queued.set(queue.length);
        refuse('queue_timeout', next);
      }, config.queueTimeoutMs),
    };
    queue.push(waiter);
    metrics.queued.set(queue.length);
  };

  const middleware: RequestHandler = (_req, res, next) => {
    localGate(res, next, () => {
      void sharedAdmits().then((admitted) => {
        if (admitted) next();
        else refuse('shared_rate', next);
      });
    });
  };

  return { middleware, inFlight: () => inFlight, queued: () => queue.length };
}
