/** The simulator's resources. Field names follow Stripe's API where Stripe has the same concept. */

/**
 * Stripe's statuses: a declined or failed payment goes back to `requires_payment_method`; a payment
 * cancelled before it succeeded is `canceled` (final: it can never succeed afterwards).
 */
export type IntentStatus = 'processing' | 'succeeded' | 'requires_payment_method' | 'canceled';

/** Stripe's reasons for cancelling a PaymentIntent. */
export const cancellationReasons = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const;
export type CancellationReason = (typeof cancellationReasons)[number];

export interface PaymentError {
  readonly code: string;
  readonly decline_code?: string;
  readonly message: string;
}

export interface PaymentIntent {
  readonly id: string;
  readonly object: 'payment_intent';
  readonly amount: number;
  readonly currency: string;
  status: IntentStatus;
  readonly payment_method: string;
  readonly metadata: Record<string, string>;
  readonly transfer_group: string | null;
  amount_refunded: number;
  readonly created: number;
  last_payment_error: PaymentError | null;
  /**
   * Unix seconds of the cancellation, and why. Optional because state persisted before cancellation
   * existed lacks them; the API always shows them (null when not cancelled).
   */
  canceled_at?: number | null;
  cancellation_reason?: CancellationReason | null;
  /** When an asynchronous payment settles (ms since the epoch), and how; null once settled. */
  settle_at_ms: number | null;
  settle_to: 'succeeded' | 'failed' | null;
}

export interface Refund {
  readonly id: string;
  readonly object: 'refund';
  readonly amount: number;
  readonly currency: string;
  readonly payment_intent: string;
  readonly status: 'succeeded';
  readonly metadata: Record<string, string>;
  readonly created: number;
}

export interface Transfer {
  readonly id: string;
  readonly object: 'transfer';
  readonly amount: number;
  readonly currency: string;
  readonly destination: string;
  readonly transfer_group: string | null;
  readonly metadata: Record<string, string>;
  readonly created: number;
}

/**
 * The three types of api-contract.md, plus `payment.canceled` (Stripe's payment_intent.canceled),
 * which this system's receiver acknowledges and ignores: the canceller already knows.
 */
export type WebhookEventType = 'payment.succeeded' | 'payment.failed' | 'payment.canceled' | 'refund.succeeded';

/** The webhook body of api-contract.md ("Payment webhooks"), plus refundId / sellerId for refunds. */
export interface WebhookEvent {
  readonly id: string;
  readonly type: WebhookEventType;
  readonly created: number;
  readonly data: {
    readonly paymentId: string;
    readonly orderId: string;
    readonly amount: number;
    readonly currency: string;
    readonly refundId?: string;
    readonly sellerId?: string;
  };
}

/** The stored outcome of a request, replayed for a repeat with the same Idempotency-Key. */
export interface IdempotencyRecord {
  readonly key: string;
  readonly fingerprint: string;
  readonly statusCode: number;
  readonly body: unknown;
  readonly createdAtMs: number;
}

/** One delivery of one event to the webhook URL (a duplicated event has two deliveries). */
export interface Delivery {
  readonly deliveryId: string;
  readonly event: WebhookEvent;
  attempts: number;
  nextAttemptAtMs: number;
  readonly createdAtMs: number;
  state: 'pending' | 'delivered' | 'abandoned';
  lastError: string | null;
}

/**
 * Switches for tests of refusal paths: initial values from the constructor (or PSP_REFUSE_* in the
 * environment), changed at runtime through POST /v1/test/settings. Not persisted: a restart goes
 * back to the initial values.
 */
export interface PspTestSettings {
  /** Every refund is refused (402 `refund_failed`), as if the PSP could not return the money. */
  refuseRefunds: boolean;
  /** Every transfer is refused (400 `account_invalid`), as if the seller's account could not receive it. */
  refusePayouts: boolean;
}
