/** POST /v1/checkouts (api-contract.md, Checkout); the logic is in api/checkout.ts. */
import type { RequestHandler } from 'express';
import { rateLimit, type IncrementResponse, type Store } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { z } from 'zod';
import { AppError, ServiceUnavailableError } from '../../lib/errors';
import { checkoutWorkflowId } from '../../workflows/contract';
import type { Principal } from '../auth';
import { handleCheckout, type CheckoutDeps } from '../checkout';
import { noteIds } from '../observability';
import { route, type AnyRoute } from '../route';
import { checkoutAcceptedSchema, checkoutBodySchema, checkoutHeadersSchema, orderSchema } from '../schemas';
import { authErrors, errorResponse as err } from './responses';

const retryAfter = { 'Retry-After': { description: 'seconds to wait before trying again', schema: z.string().regex(/^[0-9]+$/) } };
const location = { Location: { description: 'the order: /v1/orders/{orderId}', schema: z.string() } };
const toOrder = { getOrder: { operationId: 'getOrder', parameters: { orderId: '$response.body#/orderId' }, description: 'the order this checkout made' } };

export interface CheckoutRateLimitOptions {
  limit: number;
  windowMs: number;
  /** Redis key prefix of the counters (default `rl:checkout:`): one per environment sharing a Redis database. */
  prefix?: string;
  /** The shared store; absent: counters in this process's memory (one API process only). */
  redis?: Redis;
  /** Where the limiter's own complaints go (a store that failed to load its scripts); default: the console. */
  log?: Logger;
}

export const defaultRateLimitPrefix = 'rl:checkout:';

/**
 * rate-limit-redis loads its Lua scripts when the limiter is created; if Redis is unreachable at
 * that moment the failed load would fail every later call too. Any failed increment therefore
 * reloads the script (the request itself is answered 503; the next one works once Redis is back).
 */
class SharedCounterStore extends RedisStore {
  override async increment(key: string): Promise<IncrementResponse> {
    try {
      return await super.increment(key);
    } catch (err) {
      const reload = this.loadIncrementScript();
      reload.catch(() => undefined);
      this.incrementScriptSha = reload;
      throw err;
    }
  }
}

function redisStore(redis: Redis, prefix: string): Store {
  return new SharedCounterStore({
    prefix,
    sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
  });
}

function limiterLogger(log: Logger): { error: (err: unknown, message?: string) => void; warn: (err: unknown, message?: string) => void } {
  return {
    error: (err, message) => log.error({ err }, message ?? 'checkout rate limiter error'),
    warn: (err, message) => log.warn({ err }, message ?? 'checkout rate limiter warning'),
  };
}

/** Whole seconds until the caller's window resets (at least 1). */
function secondsUntil(resetTime: Date | undefined, windowMs: number): number {
  const ms = resetTime ? resetTime.getTime() - Date.now() : windowMs;
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Per-user limit on checkout requests: beyond it `429 RATE_LIMITED` in the error shape, with
 * `Retry-After` (seconds until the user's window resets) and the IETF `RateLimit` headers. With
 * `redis` the counters live there (rate-limit-redis: one atomic Lua script per request), so every
 * API process on that Redis shares one limit per user; without it, in this process's memory. When
 * Redis does not answer, the request is `503 SERVICE_UNAVAILABLE` with `Retry-After` (the cart lives
 * in the same Redis: the checkout could not proceed anyway), never a 500 and never unlimited.
 */
export function checkoutRateLimiter(options: CheckoutRateLimitOptions): RequestHandler {
  const limiter = rateLimit({
    windowMs: options.windowMs,
    limit: options.limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    ...(options.redis ? { store: redisStore(options.redis, options.prefix ?? defaultRateLimitPrefix) } : {}),
    // Runs after authentication: the key is the user, never the IP address.
    keyGenerator: (_req, res) => (res.locals.principal as Principal).userId,
    // express-rate-limit sets Retry-After itself (from the store's reset time) before calling this.
    handler: (req, _res, next, opts) => {
      const retryAfterSeconds = secondsUntil((req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime, options.windowMs);
      next(new AppError('rate_limited', 'RATE_LIMITED', `too many checkout requests; at most ${String(opts.limit)} per ${Math.round(options.windowMs / 1000)} s`, { retryAfterSeconds }));
    },
    validate: { keyGeneratorIpFallback: false },
    ...(options.log ? { logger: limiterLogger(options.log) } : {}),
  });
  return (req, res, next) => {
    void limiter(req, res, (err?: unknown) => {
      if (err === undefined || err instanceof AppError) {
        next(err);
        return;
      }
      // The store failed (Redis down or too slow): a dependency is unavailable, not a 500.
      const reason = err instanceof Error ? err.message : 'unknown error';
      next(new ServiceUnavailableError('redis', `checkout rate limit store failed: ${reason}`, 2, { cause: err }));
    });
  };
}

/** `admission`: admission control (api/admission.ts), run before the per-user limit. */
export function checkoutRoutes(deps: CheckoutDeps & { rateLimit: CheckoutRateLimitOptions; admission?: RequestHandler }): AnyRoute[] {
  return [
    route({
      operationId: 'createCheckout',
      method: 'post',
      path: '/v1/checkouts',
      summary: "Checks out the caller's cart: starts the checkout saga and waits a bounded time for it to settle",
      description:
        'Idempotent by the Idempotency-Key header (per buyer): the same key and body again answer 200 with the same order and never start a second saga; the same key with another body is 409 IDEMPOTENCY_KEY_REUSED.',
      tags: ['checkout'],
      auth: { roles: ['buyer'] },
      middleware: [...(deps.admission ? [deps.admission] : []), checkoutRateLimiter(deps.rateLimit)],
      headers: checkoutHeadersSchema,
      body: checkoutBodySchema,
      responses: {
        200: { description: 'a repeated request: the order this Idempotency-Key made', schema: orderSchema, headers: location, links: toOrder },
        201: { description: 'the saga settled within the wait: the order (COMPLETED or FAILED)', schema: orderSchema, headers: location, links: toOrder },
        202: { description: 'accepted; the saga is still running', schema: checkoutAcceptedSchema, headers: location, links: toOrder },
        400: err('VALIDATION_FAILED (body, Idempotency-Key; or a cart the pricing engine cannot price, issues at cart.items.<sku>) or MALFORMED_JSON'),
        ...authErrors,
        409: err('IDEMPOTENCY_KEY_REUSED, or PRICE_CHANGED with the fresh breakdown in details.pricing'),
        413: err('PAYLOAD_TOO_LARGE'),
        415: err('UNSUPPORTED_MEDIA_TYPE'),
        422: err('refused before anything is written: CART_EMPTY; VOUCHER_EXPIRED / VOUCHER_NOT_STARTED / VOUCHER_NOT_FOUND (details.code); INSUFFICIENT_STOCK (details.lines: [{sku, requested, available}], a sku known to be sold out)'),
        429: { ...err('RATE_LIMITED: too many checkouts for this user in the window (shared by every API process); OVERLOADED: admission control, past the capacity of the service (details.reason); nothing was read, written or reserved'), headers: retryAfter },
        503: { ...err('SERVICE_UNAVAILABLE: a dependency (Redis, Temporal, …) is down; nothing was written'), headers: retryAfter },
      },
      async handle({ principal, headers, body, res, log }) {
        const outcome = await handleCheckout(deps, { buyerId: principal.userId, idempotencyKey: headers['idempotency-key'], body }, log, (orderId) =>
          noteIds(res, { orderId, workflowId: checkoutWorkflowId(orderId) }),
        );
        return outcome.reply;
      },
    }),
  ];
}
