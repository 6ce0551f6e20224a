/** The simulator's resources. Field names follow Stripe's API where Stripe has the same concept. */

/** Stripe's statuses: a declined or failed payment goes back to `requires_payment_method`. */
export type IntentStatus = 'processing' | 'succeeded' | 'requires_payment_method';

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

export type WebhookEventType = 'payment.succeeded' | 'payment.failed' | 'refund.succeeded';

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
