/**
 * Types of the payments service and of the gateways behind it. Amounts are integer minor units;
 * currencies are upper-case ISO 4217 codes. Everything a service method returns is plain JSON,
 * because activities hand it to Temporal workflows.
 */
import type { PaymentEventType } from '../../lib/vocabulary';

/** A verified payment event (api-contract.md, "Payment webhooks"), whichever gateway sent it. */
export interface PaymentEvent {
  readonly id: string;
  readonly type: PaymentEventType;
  /** Unix seconds. */
  readonly created: number;
  readonly data: {
    readonly paymentId: string;
    readonly orderId: string;
    readonly amount: number;
    readonly currency: string;
    /** Refund events only, when the gateway says which refund. */
    readonly refundId?: string;
    readonly sellerId?: string;
    /**
     * Refund events only: `amount` is the payment's cumulative refunded total rather than one
     * refund (Stripe's `charge.refunded`, which names no refund); every refund it covers is done.
     */
    readonly cumulative?: boolean;
  };
}

export interface GatewayChargeRequest {
  readonly idempotencyKey: string;
  readonly orderId: string;
  readonly amountMinor: number;
  readonly currency: string;
  /** The buyer's payment method token (tok_visa, pm_...). */
  readonly token: string;
}

/**
 * What the PSP says about a charge. `declined` = refused at once; `failed` = failed after processing;
 * `canceled` = cancelled before it succeeded (it never will).
 */
export type GatewayChargeStatus = 'succeeded' | 'processing' | 'declined' | 'failed' | 'canceled';

export interface GatewayCharge {
  /** The PSP's id (pi_...). */
  readonly paymentId: string;
  readonly status: GatewayChargeStatus;
  readonly amountMinor: number;
  readonly currency: string;
  readonly declineCode: string | null;
}

export interface GatewayCancelRequest {
  readonly idempotencyKey: string;
  readonly paymentId: string;
  readonly orderId: string;
}

export interface GatewayRefundRequest {
  readonly idempotencyKey: string;
  readonly paymentId: string;
  readonly orderId: string;
  readonly sellerId: string;
  readonly amountMinor: number;
}

export interface GatewayRefund {
  readonly refundId: string;
  readonly status: 'succeeded' | 'pending' | 'failed';
  readonly amountMinor: number;
}

export interface GatewayTransferRequest {
  readonly idempotencyKey: string;
  readonly orderId: string;
  readonly sellerId: string;
  /** The seller's connected account (acct_...). */
  readonly destination: string;
  readonly amountMinor: number;
  readonly currency: string;
}

export interface GatewayTransfer {
  readonly transferId: string;
}

/**
 * A payment service provider. Implementations classify every failure:
 * - a transient one (network, timeout, 5xx, rate limit) is a plain Error, safe to retry with the
 *   same idempotency key (they retry a bounded number of times themselves first);
 * - a business refusal is an AppError (IDEMPOTENCY_KEY_REUSED, REFUND_EXCEEDS_CHARGE, ...): the
 *   PSP refusing a refund is REFUND_REFUSED, refusing a payout (or no connected account to pay
 *   to) PAYOUT_REFUSED;
 * - a declined card is not an error at this level: `charge` returns status `declined`.
 */
export interface PaymentGateway {
  readonly name: 'simulator' | 'stripe';
  /** The HTTP header that carries the webhook signature (lower case). */
  readonly signatureHeader: string;
  charge(request: GatewayChargeRequest): Promise<GatewayCharge>;
  getCharge(paymentId: string): Promise<GatewayCharge>;
  /**
   * Cancels a payment that has not succeeded; resolves with it as the PSP now has it (`canceled`,
   * also when it already was). Throws BusinessError INVALID_STATE when the PSP refuses because the
   * payment succeeded (ask getCharge what it is then).
   */
  cancel(request: GatewayCancelRequest): Promise<GatewayCharge>;
  refund(request: GatewayRefundRequest): Promise<GatewayRefund>;
  transfer(request: GatewayTransferRequest): Promise<GatewayTransfer>;
  /** The account that receives a seller's payouts; BusinessError PAYOUT_REFUSED when the seller has none. */
  sellerDestination(sellerId: string): Promise<string>;
  /**
   * Verifies a webhook's signature over the raw body and parses it. Throws an AppError with code
   * INVALID_SIGNATURE (kind validation, 400) when the signature is missing, wrong or stale.
   * Returns undefined for a genuine event of a type this system does not use.
   */
  parseWebhook(rawBody: string | Buffer, signature: string | undefined, nowMs?: number): PaymentEvent | undefined;
}

/** `canceled`: cancelled at the PSP before it succeeded (settleOrCancel); final, nothing was taken. */
export type PaymentStatus = 'pending' | 'processing' | 'succeeded' | 'declined' | 'failed' | 'canceled';

/** The payment of one order as recorded in Postgres. */
export interface PaymentRecord {
  readonly orderId: string;
  readonly gateway: 'simulator' | 'stripe' | 'none';
  readonly idempotencyKey: string;
  /** The PSP's id, once the PSP has answered (null for a zero-amount order). */
  readonly paymentId: string | null;
  readonly status: PaymentStatus;
  readonly amountMinor: number;
  readonly currency: string;
  readonly refundedMinor: number;
  readonly declineCode: string | null;
  /** RFC 3339. */
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A charge that went through or is still processing (a decline is a BusinessError). */
export interface ChargeResult {
  readonly orderId: string;
  readonly paymentId: string | null;
  readonly status: 'succeeded' | 'processing';
  readonly amountMinor: number;
  readonly currency: string;
}

/**
 * What became of an order's payment once the saga stops waiting for it (settleOrCancel):
 * `succeeded` = the money was taken (complete the order, or refund it); `canceled` = it was still
 * pending and is now cancelled at the PSP; `failed` = declined or failed; `none` = no payment recorded.
 */
export interface SettleOrCancelResult {
  readonly orderId: string;
  readonly paymentId: string | null;
  readonly status: 'succeeded' | 'canceled' | 'failed' | 'none';
}

export interface RefundResult {
  readonly orderId: string;
  readonly sellerId: string;
  readonly refundId: string | null;
  readonly status: 'succeeded' | 'pending';
  readonly amountMinor: number;
}

export interface PayoutResult {
  readonly orderId: string;
  readonly sellerId: string;
  readonly transferId: string | null;
  readonly amountMinor: number;
  readonly currency: string;
}

/**
 * A parcel's payout as recorded: `awaiting_account` = the seller had no connected account when the
 * parcel was released (nothing sent yet); `pending` = to be transferred (or a transfer that failed:
 * `lastError`); `succeeded` = transferred (`transferId`, e.g. Stripe's tr_...).
 */
export type PayoutStatus = 'awaiting_account' | 'pending' | 'succeeded';

export interface PayoutRecord {
  readonly orderId: string;
  readonly sellerId: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly status: PayoutStatus;
  readonly destination: string | null;
  readonly transferId: string | null;
  readonly lastError: string | null;
}

/** What paying a seller's owed payouts did (payPendingPayouts): each payout, paid or still owed. */
export interface PendingPayoutsResult {
  readonly sellerId: string;
  readonly paid: readonly PayoutRecord[];
  /** Still owed: no account yet, or the transfer failed (their `lastError`); a later call retries them. */
  readonly unpaid: readonly PayoutRecord[];
}

export interface WebhookOutcome {
  /** The verified event; undefined for an event type this system ignores. */
  readonly event: PaymentEvent | undefined;
  /** False when this event id was seen before (its effect already happened). */
  readonly isNew: boolean;
  /** True when the event changed a payment or refund record. */
  readonly applied: boolean;
  /** False when no payment is recorded for the event's order: the event is kept (for audit) without effect. */
  readonly knownOrder: boolean;
  /**
   * Whether the order's saga may be waiting for this event: a payment outcome the charge call did
   * not already answer. False for refunds and for outcomes the saga learned from its charge.
   */
  readonly forSaga: boolean;
}
