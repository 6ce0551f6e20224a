/**
 * The gateway for real deployments: Stripe, through the official SDK. Behind the same
 * PaymentGateway interface as the simulator, selected by PAYMENT_GATEWAY=stripe.
 *
 * - Charges are PaymentIntents confirmed at once, with the order's idempotency key, metadata.orderId
 *   and transfer_group = order id (so seller payouts are linked to the charge). A payment the saga
 *   stops waiting for is cancelled (paymentIntents.cancel, reason `abandoned`).
 * - Refunds are Refunds of the PaymentIntent, one per seller parcel, with their own key.
 * - Seller payouts are Connect Transfers to the seller's connected account, transfer_group = order id.
 * - Webhooks are verified with stripe.webhooks.constructEvent (Stripe-Signature header, 300 s
 *   tolerance) and mapped to the project's PaymentEvent shape: payment_intent.succeeded /
 *   payment_failed, refund.created / refund.updated (one refund, by its metadata), and
 *   charge.refunded (the payment's cumulative refunded total; the order is found by the payment).
 * - `apiBase` points the SDK at another server speaking Stripe's API (stripe-mock in tests).
 *
 * Amounts: Stripe's "smallest currency unit" is the ISO 4217 minor unit for the currencies this
 * project supports; Stripe's few special cases (e.g. ISK, HUF, UGX as two-decimal in the API) must
 * be reviewed before enabling such a currency.
 */
import Stripe from 'stripe';
import { AppError, BusinessError, ValidationError } from '../../lib/errors';
import type { GatewayCharge, GatewayChargeStatus, GatewayRefund, PaymentEvent, PaymentGateway } from './types';
import { invalidSignature, webhookToleranceSec } from './webhook-signature';

export interface StripeGatewayOptions {
  /** STRIPE_SECRET_KEY (sk_live_... / sk_test_...). */
  secretKey: string;
  /** STRIPE_WEBHOOK_SECRET (whsec_...) of the webhook endpoint. */
  webhookSecret: string;
  /**
   * The connected account (acct_...) that receives a seller's payouts; none (undefined, null, '')
   * refuses the payout (PAYOUT_REFUSED). A plain Error it throws (its store unreachable) stays transient.
   */
  sellerAccountId: (sellerId: string) => string | null | undefined | Promise<string | null | undefined>;
  /** Per request. */
  timeoutMs?: number;
  /** The SDK retries network failures with the same idempotency key this many times. */
  maxNetworkRetries?: number;
  /** For tests: an HTTP client stub (Stripe.createFetchHttpClient(fakeFetch) or a custom HttpClient). */
  httpClient?: Stripe.HttpClient;
  /** Another server speaking Stripe's API, e.g. stripe-mock's http://127.0.0.1:12111 (STRIPE_API_BASE); default api.stripe.com. */
  apiBase?: string;
}

/** The SDK's host/port/protocol options for a base URL (http or https only). */
export function stripeHostOptions(apiBase: string | undefined): { host?: string; port?: number; protocol?: 'http' | 'https' } {
  if (!apiBase) return {};
  const url = new URL(apiBase);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`STRIPE_API_BASE must be an http(s) URL, got "${apiBase}"`);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port), protocol };
}

export const stripeGatewayDefaults = { timeoutMs: 10_000, maxNetworkRetries: 2 } as const;

type StripeIntent = Stripe.PaymentIntent;

function toCharge(intent: StripeIntent): GatewayCharge {
  const error = intent.last_payment_error;
  let status: GatewayChargeStatus;
  switch (intent.status) {
    case 'succeeded':
      status = 'succeeded';
      break;
    case 'processing':
    case 'requires_capture':
      status = 'processing';
      break;
    case 'canceled':
      status = 'canceled';
      break;
    case 'requires_action':
      // 3-D Secure cannot be completed server-side: for this flow it is a decline.
      status = 'declined';
      break;
    default:
      // requires_payment_method / requires_confirmation: a failed attempt carries its decline or
      // error code. Without one, no attempt has decided anything yet (a synchronous decline comes
      // as a card error instead): the outcome is to come by webhook (payment_intent.succeeded /
      // payment_failed), and a payment the saga stops waiting for is cancelled, so nothing is
      // taken unseen.
      status = error?.decline_code || error?.code ? 'declined' : 'processing';
  }
  return {
    paymentId: intent.id,
    status,
    amountMinor: intent.amount,
    currency: intent.currency.toUpperCase(),
    declineCode: status === 'declined' ? (error?.decline_code ?? error?.code ?? intent.status) : null,
  };
}

/**
 * Maps an SDK error: transient ones become plain Errors (retryable), refusals AppErrors. A refused
 * refund is REFUND_REFUSED (e.g. charge_disputed, charge_expired_for_refund), a refused transfer
 * PAYOUT_REFUSED (e.g. no such destination, account_invalid) — except balance_insufficient, which
 * clears once the platform's pending funds become available, so it stays transient.
 */
function classify(err: unknown, what: string, operation?: 'refund' | 'payout'): Error {
  if (!(err instanceof Stripe.errors.StripeError)) return err instanceof Error ? err : new Error(String(err));
  if (err instanceof Stripe.errors.StripeIdempotencyError) {
    return new BusinessError('IDEMPOTENCY_KEY_REUSED', `${what}: ${err.message}`, {}, 'conflict');
  }
  if (err instanceof Stripe.errors.StripeInvalidRequestError || err instanceof Stripe.errors.StripeCardError) {
    if (err.code === 'amount_too_large' || err.code === 'charge_already_refunded') return new BusinessError('REFUND_EXCEEDS_CHARGE', `${what}: ${err.message}`);
    if (err.code === 'payment_intent_unexpected_state') return new BusinessError('INVALID_STATE', `${what}: ${err.message}`, {}, 'conflict');
    if (operation === 'payout' && err.code === 'balance_insufficient') return new Error(`Stripe balance insufficient (${what}): ${err.message}`, { cause: err });
    if (operation === 'refund') return new BusinessError('REFUND_REFUSED', `${what}: ${err.message}`, { pspCode: err.code ?? null });
    if (operation === 'payout') return new BusinessError('PAYOUT_REFUSED', `${what}: ${err.message}`, { pspCode: err.code ?? null });
    return new BusinessError('PAYMENT_GATEWAY_REJECTED', `${what}: ${err.message}`, { code: err.code ?? null });
  }
  // Connection, API (5xx), rate limit, lock timeout, and authentication/permission errors (a key
  // problem an operator fixes: retrying is better than failing every order meanwhile).
  return new Error(`Stripe unavailable (${what}): ${err.message}`, { cause: err });
}

/** A payout to a seller without a connected account: nothing to pay to, until an operator adds one. */
export function noConnectedAccount(sellerId: string): BusinessError {
  return new BusinessError('PAYOUT_REFUSED', `seller ${sellerId} has no Stripe connected account to pay out to`, { sellerId, reason: 'no_connected_account' });
}

export function createStripeGateway(options: StripeGatewayOptions): PaymentGateway {
  if (!options.secretKey) throw new Error('STRIPE_SECRET_KEY is required for PAYMENT_GATEWAY=stripe');
  if (!options.webhookSecret) throw new Error('STRIPE_WEBHOOK_SECRET is required for PAYMENT_GATEWAY=stripe');
  const stripe = new Stripe(options.secretKey, {
    ...stripeHostOptions(options.apiBase),
    timeout: options.timeoutMs ?? stripeGatewayDefaults.timeoutMs,
    maxNetworkRetries: options.maxNetworkRetries ?? stripeGatewayDefaults.maxNetworkRetries,
    telemetry: false,
    ...(options.httpClient ? { httpClient: options.httpClient } : {}),
  });

  function toEvent(event: Stripe.Event): PaymentEvent | undefined {
    const base = { id: event.id, created: event.created };
    if (event.type === 'payment_intent.succeeded' || event.type === 'payment_intent.payment_failed') {
      const intent = event.data.object;
      const orderId = intent.metadata?.orderId;
      if (!orderId) return undefined; // not a charge of this system
      return {
        ...base,
        type: event.type === 'payment_intent.succeeded' ? 'payment.succeeded' : 'payment.failed',
        data: { paymentId: intent.id, orderId, amount: intent.amount, currency: intent.currency.toUpperCase() },
      };
    }
    if (event.type === 'charge.refunded') {
      // Names the PaymentIntent and its cumulative refunded total, not a refund or (necessarily) our order.
      const charge = event.data.object;
      const paymentId = typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
      if (!paymentId) return undefined;
      return {
        ...base,
        type: 'refund.succeeded',
        data: { paymentId, orderId: charge.metadata?.orderId ?? '', amount: charge.amount_refunded, currency: charge.currency.toUpperCase(), cumulative: true },
      };
    }
    if (event.type === 'refund.created' || event.type === 'refund.updated') {
      const refund = event.data.object;
      const orderId = refund.metadata?.orderId;
      const paymentId = typeof refund.payment_intent === 'string' ? refund.payment_intent : refund.payment_intent?.id;
      if (!orderId || !paymentId || refund.status !== 'succeeded') return undefined;
      return {
        ...base,
        type: 'refund.succeeded',
        data: {
          paymentId,
          orderId,
          amount: refund.amount,
          currency: refund.currency.toUpperCase(),
          refundId: refund.id,
          ...(refund.metadata?.sellerId ? { sellerId: refund.metadata.sellerId } : {}),
        },
      };
    }
    return undefined;
  }

  return {
    name: 'stripe',
    signatureHeader: 'stripe-signature',

    async charge(req) {
      try {
        const intent = await stripe.paymentIntents.create(
          {
            amount: req.amountMinor,
            currency: req.currency.toLowerCase(),
            payment_method: req.token,
            confirm: true,
            automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
            metadata: { orderId: req.orderId },
            transfer_group: req.orderId,
          },
          { idempotencyKey: req.idempotencyKey },
        );
        return toCharge(intent);
      } catch (err) {
        // A card decline is an answer, not a failure: the PaymentIntent it carries is recorded.
        if (err instanceof Stripe.errors.StripeCardError) {
          const intent = err.payment_intent;
          return {
            paymentId: intent?.id ?? '',
            status: 'declined',
            amountMinor: req.amountMinor,
            currency: req.currency,
            declineCode: err.decline_code ?? err.code ?? 'card_declined',
          };
        }
        throw classify(err, `charge of order ${req.orderId}`);
      }
    },

    async getCharge(paymentId) {
      try {
        return toCharge(await stripe.paymentIntents.retrieve(paymentId));
      } catch (err) {
        throw classify(err, `payment ${paymentId}`);
      }
    },

    async cancel(req) {
      try {
        return toCharge(await stripe.paymentIntents.cancel(req.paymentId, { cancellation_reason: 'abandoned' }, { idempotencyKey: req.idempotencyKey }));
      } catch (err) {
        throw classify(err, `cancel of the payment of order ${req.orderId}`);
      }
    },

    async refund(req): Promise<GatewayRefund> {
      try {
        const refund = await stripe.refunds.create(
          { payment_intent: req.paymentId, amount: req.amountMinor, metadata: { orderId: req.orderId, sellerId: req.sellerId } },
          { idempotencyKey: req.idempotencyKey },
        );
        const status = refund.status === 'succeeded' ? 'succeeded' : refund.status === 'failed' || refund.status === 'canceled' ? 'failed' : 'pending';
        return { refundId: refund.id, status, amountMinor: refund.amount };
      } catch (err) {
        throw classify(err, `refund of parcel ${req.sellerId} of order ${req.orderId}`, 'refund');
      }
    },

    async transfer(req) {
      try {
        const transfer = await stripe.transfers.create(
          {
            amount: req.amountMinor,
            currency: req.currency.toLowerCase(),
            destination: req.destination,
            transfer_group: req.orderId,
            metadata: { orderId: req.orderId, sellerId: req.sellerId },
          },
          { idempotencyKey: req.idempotencyKey },
        );
        return { transferId: transfer.id };
      } catch (err) {
        throw classify(err, `payout of parcel ${req.sellerId} of order ${req.orderId}`, 'payout');
      }
    },

    async sellerDestination(sellerId) {
      const account = await options.sellerAccountId(sellerId);
      if (!account) throw noConnectedAccount(sellerId);
      if (!/^acct_[A-Za-z0-9_]+$/.test(account)) {
        throw new BusinessError('PAYOUT_REFUSED', `seller ${sellerId} has no valid Stripe connected account (${JSON.stringify(account)})`, { sellerId, reason: 'invalid_connected_account' });
      }
      return account;
    },

    parseWebhook(rawBody, signature, nowMs = Date.now()) {
      if (!signature) throw invalidSignature('missing Stripe-Signature header');
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(rawBody, signature, options.webhookSecret, webhookToleranceSec, undefined, nowMs);
      } catch (err) {
        if (err instanceof Stripe.errors.StripeSignatureVerificationError) throw invalidSignature(err.message);
        if (err instanceof AppError) throw err;
        throw new ValidationError([{ path: '', message: `webhook body is not a Stripe event: ${(err as Error).message}` }]);
      }
      return toEvent(event);
    },
  };
}
