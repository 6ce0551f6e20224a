/** POST /v1/checkouts (api-contract.md, Checkout); the logic is in api/checkout.ts. */
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import { AppError } from '../../lib/errors';
import { checkoutWorkflowId } from '../../workflows/contract';
import type { Principal } from '../auth';
import { handleCheckout, type CheckoutDeps } from '../checkout';
import { noteIds } from '../observability';
import { route, type AnyRoute, type ResponseSpec } from '../route';
import { checkoutAcceptedSchema, checkoutBodySchema, checkoutHeadersSchema, errorResponseSchema, orderSchema } from '../schemas';
import { authErrors } from './orders';

const err = (description: string): ResponseSpec => ({ description, schema: errorResponseSchema });
const location = { Location: { description: 'the order: /v1/orders/{orderId}', schema: z.string() } };
const toOrder = { getOrder: { operationId: 'getOrder', parameters: { orderId: '$response.body#/orderId' }, description: 'the order this checkout made' } };

/**
 * Per-user limit on checkout requests (429 RATE_LIMITED in the error shape). The counters live in
 * this process's memory: behind several API processes each allows `limit` (a shared store, e.g.
 * Redis, would make it global; see docs/api.md).
 */
export function checkoutRateLimiter(options: { limit: number; windowMs: number }): RequestHandler {
  return rateLimit({
    windowMs: options.windowMs,
    limit: options.limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Runs after authentication: the key is the user, never the IP address.
    keyGenerator: (_req, res) => (res.locals.principal as Principal).userId,
    handler: (_req, _res, next, opts) => {
      next(new AppError('rate_limited', 'RATE_LIMITED', `too many checkout requests; at most ${String(opts.limit)} per ${Math.round(options.windowMs / 1000)} s`, { retryAfterSeconds: Math.ceil(options.windowMs / 1000) }));
    },
    validate: { keyGeneratorIpFallback: false },
  });
}

export function checkoutRoutes(deps: CheckoutDeps & { rateLimit: { limit: number; windowMs: number } }): AnyRoute[] {
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
      middleware: [checkoutRateLimiter(deps.rateLimit)],
      headers: checkoutHeadersSchema,
      body: checkoutBodySchema,
      responses: {
        200: { description: 'a repeated request: the order this Idempotency-Key made', schema: orderSchema, headers: location, links: toOrder },
        201: { description: 'the saga settled within the wait: the order (COMPLETED or FAILED)', schema: orderSchema, headers: location, links: toOrder },
        202: { description: 'accepted; the saga is still running', schema: checkoutAcceptedSchema, headers: location, links: toOrder },
        400: err('VALIDATION_FAILED (body, Idempotency-Key) or MALFORMED_JSON'),
        ...authErrors,
        409: err('IDEMPOTENCY_KEY_REUSED, or PRICE_CHANGED with the fresh breakdown in details.pricing'),
        413: err('PAYLOAD_TOO_LARGE'),
        415: err('UNSUPPORTED_MEDIA_TYPE'),
        422: err('CART_EMPTY, VOUCHER_* (the cart has a voucher that cannot be used)'),
        429: err('RATE_LIMITED'),
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
