/**
 * The gateway to the built-in PSP simulator (simulators/psp): JSON over HTTP with Stripe-like
 * semantics. Every call has a timeout; a transient failure (network error, timeout, 5xx, 429) is
 * retried a bounded number of times with the same Idempotency-Key, which is what makes a retry safe:
 * a charge that went through but whose answer was lost (tok_timeout) is found again, not repeated.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../lib/config';
import { BusinessError, NotFoundError, type AppError } from '../../lib/errors';
import type {
  GatewayCharge,
  GatewayChargeStatus,
  GatewayRefund,
  GatewayTransfer,
  PaymentEvent,
  PaymentGateway,
} from './types';
import { parsePaymentEvent, verifyPaymentSignature } from './webhook-signature';

export interface SimulatorGatewayOptions {
  /** e.g. http://127.0.0.1:4242 */
  baseUrl: string;
  /** Per HTTP request. */
  timeoutMs?: number;
  /** Verifies the simulator's Payment-Signature headers; default WEBHOOK_SECRET (lib/config.ts). */
  webhookSecret?: string;
  /** Attempts per call, the first included, for transient failures. */
  attemptsMax?: number;
  /** Wait before the second attempt; doubled for each further one. */
  retryDelayMs?: number;
  /** The connected account of a seller (the simulator accepts any string); none refuses the payout (PAYOUT_REFUSED). */
  sellerDestination?: (sellerId: string) => string | null | undefined | Promise<string | null | undefined>;
}

export const simulatorGatewayDefaults = { timeoutMs: 5_000, attemptsMax: 3, retryDelayMs: 100 } as const;

interface SimIntent {
  id: string;
  amount: number;
  currency: string;
  status: 'processing' | 'succeeded' | 'requires_payment_method' | 'canceled';
  last_payment_error: { code?: string; decline_code?: string } | null;
}

interface SimError {
  error?: { type?: string; code?: string; message?: string; decline_code?: string; payment_intent?: SimIntent };
}

/** A failure worth retrying with the same idempotency key. Plain Error: Temporal retries it too. */
function transient(what: string, cause: unknown): Error {
  return new Error(`payment simulator unavailable (${what}): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}


function toCharge(intent: SimIntent): GatewayCharge {
  let status: GatewayChargeStatus;
  if (intent.status === 'succeeded') status = 'succeeded';
  else if (intent.status === 'processing') status = 'processing';
  else if (intent.status === 'canceled') status = 'canceled';
  else status = intent.last_payment_error?.code === 'card_declined' ? 'declined' : 'failed';
  return {
    paymentId: intent.id,
    status,
    amountMinor: intent.amount,
    currency: intent.currency.toUpperCase(),
    declineCode: status === 'declined' || status === 'failed' ? (intent.last_payment_error?.decline_code ?? intent.last_payment_error?.code ?? null) : null,
  };
}

export function createSimulatorGateway(options: SimulatorGatewayOptions): PaymentGateway {
  const timeoutMs = options.timeoutMs ?? simulatorGatewayDefaults.timeoutMs;
  const attemptsMax = options.attemptsMax ?? simulatorGatewayDefaults.attemptsMax;
  const retryDelayMs = options.retryDelayMs ?? simulatorGatewayDefaults.retryDelayMs;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const webhookSecret = options.webhookSecret ?? loadConfig().webhookSecret;

  /** One HTTP exchange; a transport failure or a 5xx/429 is a transient Error. */
  async function once(method: 'GET' | 'POST', path: string, body: unknown, idempotencyKey: string | undefined): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (idempotencyKey !== undefined) headers['Idempotency-Key'] = idempotencyKey;
    let response: Response;
    let json: unknown;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      json = await response.json();
    } catch (err) {
      throw transient(`${method} ${path}`, err);
    }
    if (response.status >= 500 || response.status === 429) throw transient(`${method} ${path}`, new Error(`HTTP ${response.status}`));
    return { status: response.status, json };
  }

  /** `once` with bounded retries of transient failures, always with the same idempotency key. */
  async function request(method: 'GET' | 'POST', path: string, body?: unknown, idempotencyKey?: string): Promise<{ status: number; json: unknown }> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= attemptsMax; attempt += 1) {
      try {
        return await once(method, path, body, idempotencyKey);
      } catch (err) {
        lastError = err;
        if (attempt < attemptsMax) await sleep(retryDelayMs * 2 ** (attempt - 1));
      }
    }
    throw lastError;
  }

  /**
   * Maps a 4xx answer to the project's errors (never retried: the same request would fail again).
   * Any other refusal of a refund is REFUND_REFUSED, of a transfer PAYOUT_REFUSED: the PSP will not
   * move that money, whatever the cause (a disputed charge, an account that cannot receive funds).
   */
  function refusal(status: number, json: unknown, what: string, paymentId?: string, operation?: 'refund' | 'payout'): AppError {
    const error = (json as SimError).error ?? {};
    if (status === 409 && error.type === 'idempotency_error') {
      return new BusinessError('IDEMPOTENCY_KEY_REUSED', `${what}: ${error.message ?? 'idempotency key reused'}`, {}, 'conflict');
    }
    if (status === 404) return new NotFoundError('payment', paymentId ?? what);
    if (error.code === 'amount_too_large') return new BusinessError('REFUND_EXCEEDS_CHARGE', `${what}: ${error.message ?? ''}`);
    if (error.code === 'payment_intent_unexpected_state') return new BusinessError('INVALID_STATE', `${what}: ${error.message ?? ''}`, {}, 'conflict');
    const message = `${what}: ${error.message ?? `HTTP ${status}`}`;
    if (operation === 'refund') return new BusinessError('REFUND_REFUSED', message, { pspCode: error.code ?? null });
    if (operation === 'payout') return new BusinessError('PAYOUT_REFUSED', message, { pspCode: error.code ?? null });
    return new BusinessError('PAYMENT_GATEWAY_REJECTED', message, { code: error.code ?? null });
  }

  return {
    name: 'simulator',
    signatureHeader: 'payment-signature',

    async charge(req) {
      const { status, json } = await request(
        'POST',
        '/v1/payment_intents',
        { amount: req.amountMinor, currency: req.currency, payment_method: req.token, metadata: { orderId: req.orderId }, transfer_group: req.orderId },
        req.idempotencyKey,
      );
      if (status === 200) return toCharge(json as SimIntent);
      const error = (json as SimError).error;
      if (status === 402 && error?.payment_intent) return toCharge(error.payment_intent);
      // An unknown or unusable payment token is the buyer's problem: the payment is declined.
      if (status === 400 && error?.code === 'resource_missing') {
        return { paymentId: '', status: 'declined', amountMinor: req.amountMinor, currency: req.currency, declineCode: 'invalid_payment_method' };
      }
      throw refusal(status, json, `charge of order ${req.orderId}`);
    },

    async getCharge(paymentId) {
      const { status, json } = await request('GET', `/v1/payment_intents/${encodeURIComponent(paymentId)}`);
      if (status === 200) return toCharge(json as SimIntent);
      throw refusal(status, json, `payment ${paymentId}`, paymentId);
    },

    async cancel(req) {
      const { status, json } = await request(
        'POST',
        `/v1/payment_intents/${encodeURIComponent(req.paymentId)}/cancel`,
        { cancellation_reason: 'abandoned' },
        req.idempotencyKey,
      );
      if (status === 200) return toCharge(json as SimIntent);
      throw refusal(status, json, `cancel of the payment of order ${req.orderId}`, req.paymentId);
    },

    async refund(req): Promise<GatewayRefund> {
      const { status, json } = await request(
        'POST',
        '/v1/refunds',
        { payment_intent: req.paymentId, amount: req.amountMinor, metadata: { orderId: req.orderId, sellerId: req.sellerId } },
        req.idempotencyKey,
      );
      if (status !== 200) throw refusal(status, json, `refund of parcel ${req.sellerId} of order ${req.orderId}`, req.paymentId, 'refund');
      const refund = json as { id: string; status: string; amount: number };
      return { refundId: refund.id, status: refund.status === 'succeeded' ? 'succeeded' : 'pending', amountMinor: refund.amount };
    },

    async transfer(req): Promise<GatewayTransfer> {
      const { status, json } = await request(
        'POST',
        '/v1/transfers',
        {
          amount: req.amountMinor,
          currency: req.currency,
          destination: req.destination,
          transfer_group: req.orderId,
          metadata: { orderId: req.orderId, sellerId: req.sellerId },
        },
        req.idempotencyKey,
      );
      if (status !== 200) throw refusal(status, json, `payout of parcel ${req.sellerId} of order ${req.orderId}`, undefined, 'payout');
      return { transferId: (json as { id: string }).id };
    },

    async sellerDestination(sellerId) {
      if (!options.sellerDestination) return `acct_sim_${sellerId}`;
      const destination = await options.sellerDestination(sellerId);
      if (!destination) throw new BusinessError('PAYOUT_REFUSED', `seller ${sellerId} has no account to pay out to`, { sellerId, reason: 'no_connected_account' });
      return destination;
    },

    parseWebhook(rawBody, signature, nowMs): PaymentEvent | undefined {
      verifyPaymentSignature(rawBody, signature, webhookSecret, nowMs);
      return parsePaymentEvent(rawBody);
    },
  };
}
