/**
 * The Payment-Signature scheme of api-contract.md (Stripe's scheme): the header is
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. Verification runs over the
 * raw request bytes (never re-serialised JSON), compares in constant time, and rejects timestamps
 * more than 300 s away from now, so a captured delivery cannot be replayed later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppError, ValidationError } from '../../lib/errors';
import type { PaymentEvent } from './types';
import { idLimits, isPaymentEventType, paymentEventTypes } from '../../lib/vocabulary';

export const webhookToleranceSec = 300;

/** Thrown for a missing, malformed, wrong or stale signature: 400 INVALID_SIGNATURE, no effect. */
export function invalidSignature(reason: string): AppError {
  return new AppError('validation', 'INVALID_SIGNATURE', `invalid webhook signature: ${reason}`);
}

function hmacHex(secret: string, timestamp: string, rawBody: string | Buffer): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(rawBody).digest();
}

/** Builds a header value; the simulator signs the same way, tests use this to forge deliveries. */
export function signPaymentPayload(secret: string, timestampSec: number, rawBody: string | Buffer): string {
  return `t=${timestampSec},v1=${hmacHex(secret, String(timestampSec), rawBody).toString('hex')}`;
}

/** Throws INVALID_SIGNATURE unless `header` is a valid, fresh signature of `rawBody` with `secret`. */
export function verifyPaymentSignature(
  rawBody: string | Buffer,
  header: string | undefined,
  secret: string,
  nowMs: number = Date.now(),
  toleranceSec: number = webhookToleranceSec,
): void {
  if (!header || header.length > 2000) throw invalidSignature('missing Payment-Signature header');
  let timestamp: string | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value !== undefined) timestamp = value;
    if (key === 'v1' && value !== undefined) candidates.push(value);
  }
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) throw invalidSignature('no timestamp');
  if (candidates.length === 0) throw invalidSignature('no v1 signature');
  if (Math.abs(Math.floor(nowMs / 1000) - Number(timestamp)) > toleranceSec) {
    throw invalidSignature(`timestamp is more than ${toleranceSec} s from now`);
  }
  const expected = hmacHex(secret, timestamp, rawBody);
  // Every candidate is compared (no early exit on the first match), each in constant time.
  let valid = false;
  for (const candidate of candidates) {
    const given = /^[0-9a-f]{64}$/i.test(candidate) ? Buffer.from(candidate, 'hex') : Buffer.alloc(0);
    if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
  }
  if (!valid) throw invalidSignature('signature does not match');
}

const eventSchema = z.object({
  id: z.string().min(1).max(255),
  type: z.enum(paymentEventTypes),
  created: z.number().int().nonnegative(),
  data: z.object({
    paymentId: z.string().min(1).max(255),
    orderId: z.string().min(1).max(idLimits.externalIdLengthMax),
    amount: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    currency: z.string().regex(/^[A-Za-z]{3}$/).transform((c) => c.toUpperCase()),
    refundId: z.string().min(1).max(255).optional(),
    sellerId: z.string().min(1).max(idLimits.identifierLengthMax).optional(),
  }),
});

/** Parses a verified body. Event types other than the three of the contract are ignored (undefined). */
export function parsePaymentEvent(rawBody: string | Buffer): PaymentEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    throw new ValidationError([{ path: '', message: 'webhook body is not valid JSON' }]);
  }
  const typeOnly = z.object({ type: z.string() }).safeParse(json);
  if (typeOnly.success && !isPaymentEventType(typeOnly.data.type)) return undefined;
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) {
    throw new ValidationError(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  return parsed.data;
}
