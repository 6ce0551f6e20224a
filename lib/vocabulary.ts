/**
 * The project's shared vocabulary: order and parcel statuses, refusal codes, the payment event,
 * workflow ids and the limits every layer agrees on. A leaf: it imports nothing but types, and it
 * is workflow-safe (no Node built-ins, no I/O), so the workflows, the activities, the services, the
 * API and the scripts all read the same words from here instead of writing them out again.
 */
import type { Duration } from '@temporalio/common';

// ------------------------------------------------------------------ statuses

export const orderStatuses = ['PROCESSING', 'AWAITING_PAYMENT', 'COMPLETED', 'FAILED'] as const;
export type OrderStatus = (typeof orderStatuses)[number];

export const parcelStatuses = ['HELD', 'SHIPPED', 'DELIVERED', 'RELEASED', 'REFUNDED', 'CANCELLED'] as const;
export type ParcelStatus = (typeof parcelStatuses)[number];

/** One line of a cart snapshot: what a checkout reserves and prices. */
export interface CheckoutItem {
  sku: string;
  quantity: number;
}

// ------------------------------------------------------------------ refusals

/**
 * Every business refusal a service, a workflow or the API can give, in one table:
 * - `httpStatus`: what the API answers when the refusal reaches it (api/errors.ts);
 * - `retryable`: false = retrying cannot change the answer, so an activity that throws it ends at
 *   once (the activity presets' `nonRetryableErrorTypes`); every refusal here is final;
 * - `failureCode`: the failure code of a FAILED order that the refusal becomes when it ends a
 *   checkout saga (api-contract.md); a code of its own, or a broader one with the refusal's code
 *   kept in the failure's `details.reason`.
 * The order of the failure codes (their first appearance) is the order of the contract's list.
 */
const refusalTable = [
  { code: 'INSUFFICIENT_STOCK', httpStatus: 422, retryable: false, failureCode: 'INSUFFICIENT_STOCK' },
  { code: 'VOUCHER_EXPIRED', httpStatus: 422, retryable: false, failureCode: 'VOUCHER_EXPIRED' },
  { code: 'VOUCHER_NOT_STARTED', httpStatus: 422, retryable: false, failureCode: 'VOUCHER_NOT_STARTED' },
  { code: 'VOUCHER_EXHAUSTED', httpStatus: 422, retryable: false, failureCode: 'VOUCHER_EXHAUSTED' },
  { code: 'VOUCHER_USER_LIMIT', httpStatus: 422, retryable: false, failureCode: 'VOUCHER_USER_LIMIT' },
  { code: 'VOUCHER_NOT_FOUND', httpStatus: 422, retryable: false, failureCode: 'VOUCHER_NOT_FOUND' },
  { code: 'VOUCHER_REJECTED', httpStatus: 422, retryable: false, failureCode: 'VOUCHER_REJECTED' },
  { code: 'PAYMENT_DECLINED', httpStatus: 422, retryable: false, failureCode: 'PAYMENT_DECLINED' },
  { code: 'PAYMENT_TIMEOUT', httpStatus: 422, retryable: false, failureCode: 'PAYMENT_TIMEOUT' },
  { code: 'PRICE_CHANGED', httpStatus: 409, retryable: false, failureCode: 'PRICE_CHANGED' },
  // Beyond the contract's list: the cart snapshot no longer prices (a product was removed, say), or
  // a step refused for a reason with no failure code of its own.
  { code: 'CART_INVALID', httpStatus: 422, retryable: false, failureCode: 'CART_INVALID' },
  { code: 'CHECKOUT_REFUSED', httpStatus: 422, retryable: false, failureCode: 'CHECKOUT_REFUSED' },
  // Bad input and unknown ids: in a saga they mean the snapshot no longer prices.
  { code: 'VALIDATION_FAILED', httpStatus: 400, retryable: false, failureCode: 'CART_INVALID' },
  { code: 'NOT_FOUND', httpStatus: 404, retryable: false, failureCode: 'CART_INVALID' },
  // Refusals of the API, the parcels and the money moves; in a saga they are CHECKOUT_REFUSED.
  { code: 'CART_EMPTY', httpStatus: 422, retryable: false, failureCode: 'CHECKOUT_REFUSED' },
  { code: 'IDEMPOTENCY_KEY_REUSED', httpStatus: 409, retryable: false, failureCode: 'CHECKOUT_REFUSED' },
  { code: 'INVALID_STATE', httpStatus: 409, retryable: false, failureCode: 'CHECKOUT_REFUSED' },
  { code: 'RESERVATION_CONFLICT', httpStatus: 409, retryable: false, failureCode: 'CHECKOUT_REFUSED' },
  { code: 'HOLD_CONFLICT', httpStatus: 409, retryable: false, failureCode: 'CHECKOUT_REFUSED' },
  { code: 'VOUCHER_HOLD_EXPIRED', httpStatus: 409, retryable: false, failureCode: 'CHECKOUT_REFUSED' },
  { code: 'PAYMENT_GATEWAY_REJECTED', httpStatus: 422, retryable: false, failureCode: 'CHECKOUT_REFUSED' },
  { code: 'REFUND_EXCEEDS_CHARGE', httpStatus: 422, retryable: false, failureCode: 'CHECKOUT_REFUSED' },
  { code: 'REFUND_REFUSED', httpStatus: 422, retryable: false, failureCode: 'CHECKOUT_REFUSED' },
  // A released parcel whose seller has no connected account yet: its payout waits (services/payments).
  { code: 'PAYOUT_PENDING', httpStatus: 422, retryable: false, failureCode: 'CHECKOUT_REFUSED' },
  { code: 'PAYOUT_REFUSED', httpStatus: 422, retryable: false, failureCode: 'CHECKOUT_REFUSED' },
] as const satisfies readonly Refusal[];

export interface Refusal {
  code: string;
  httpStatus: 400 | 404 | 409 | 422;
  retryable: boolean;
  failureCode: string;
}

export const refusals: readonly Refusal[] = refusalTable;
export type RefusalCode = (typeof refusalTable)[number]['code'];
export type CheckoutFailureCode = (typeof refusalTable)[number]['failureCode'];

type RefusalRow = (typeof refusalTable)[number];
const refusalByCode: ReadonlyMap<string, RefusalRow> = new Map(refusalTable.map((r) => [r.code, r]));

/** The table's row of a code, or undefined when the code is not a known refusal. */
export const refusalOfCode = (code: string): RefusalRow | undefined => refusalByCode.get(code);

/** Failure codes of a FAILED order (api-contract.md), in the contract's order. */
export const checkoutFailureCodes: readonly CheckoutFailureCode[] = [...new Set(refusalTable.map((r) => r.failureCode))];

/** Codes that end an activity at once: retrying cannot change the answer. */
export const businessErrorTypes: string[] = refusalTable.filter((r) => !r.retryable).map((r) => r.code);

/** The ApplicationFailure type an update validator throws for an action that does not fit the state. */
export const invalidStateErrorType = 'INVALID_STATE' satisfies RefusalCode;

export interface CheckoutFailure {
  code: CheckoutFailureCode;
  message: string;
  details: Record<string, unknown>;
}

/**
 * A money move of a parcel that was refused (a PSP that refuses a refund, a payout with nowhere to
 * go). The order's workflow does not fail: it records the problem for an operator (this field, a
 * metric, an error log line with the order) and goes on.
 */
export interface ParcelProblem {
  action: 'refund' | 'release' | 'restock';
  code: string;
  message: string;
  at: string;
}

// ------------------------------------------------------------------ payment events

export const paymentEventTypes = ['payment.succeeded', 'payment.failed', 'refund.succeeded'] as const;
export type PaymentEventType = (typeof paymentEventTypes)[number];

/** A payment webhook event, forwarded by the API after signature check and de-duplication. */
export interface PaymentEvent {
  eventId: string;
  type: PaymentEventType;
  paymentId: string;
  amount: number;
  currency: string;
}

export const isPaymentEventType = (type: string): type is PaymentEventType => (paymentEventTypes as readonly string[]).includes(type);

// ------------------------------------------------------------------ workflow ids

/**
 * Workflow ids are derived from business ids through these helpers (and read back through their
 * inverses), so a second start for the same business object always collides with the first.
 */
const checkoutPrefix = 'checkout:';
const parcelPrefix = 'parcel:';

/** The order workflow (type `orderWorkflow`) of an order; also the first release's `checkoutWorkflow`. */
export const checkoutWorkflowId = (orderId: string): string => `${checkoutPrefix}${orderId}`;
/** The order id of a checkout workflow id, or undefined when the id is not one. */
export const orderIdOfWorkflowId = (workflowId: string): string | undefined =>
  workflowId.startsWith(checkoutPrefix) ? workflowId.slice(checkoutPrefix.length) : undefined;

/**
 * Legacy: the escrow workflow of one parcel of an order placed before `orderWorkflow`
 * (workflows/legacy). It has no inverse: order and seller ids may both hold `:`, so the API finds
 * a parcel's workflow id in `order_parcels.escrow_workflow_id` or derives it from both ids.
 */
export const parcelWorkflowId = (orderId: string, sellerId: string): string => `${parcelPrefix}${orderId}:${sellerId}`;

/** The workflow type of every new order: its checkout saga, then its parcels' escrow. */
export const orderWorkflowType = 'orderWorkflow';

// ------------------------------------------------------------------ checkout settings

/** Durations as Temporal duration strings (`'15 minutes'`, `'3 days'`) or milliseconds. */
export interface CheckoutSettings {
  /** How long to wait for the payment webhook when the charge is `processing`. */
  paymentTimeout: Duration;
  /** A parcel not shipped this long after the order is cancelled and refunded. */
  shipBy: Duration;
  /** A delivered parcel is released to the seller this long after delivery without buyer confirmation. */
  autoRelease: Duration;
  /**
   * Set the project's search attributes (OrderId, BuyerId, CheckoutStatus, …). Off only on a
   * Temporal without custom search attributes — the time-skipping test server has none.
   */
  searchAttributes: boolean;
}

export const defaultCheckoutSettings: CheckoutSettings = {
  paymentTimeout: '15 minutes',
  shipBy: '3 days',
  autoRelease: '7 days',
  searchAttributes: true,
};

// ------------------------------------------------------------------ limits shared by every layer

/**
 * Lengths of ids, the same at every layer (API validation, services, the database's CHECKs):
 * catalog ids (sku, seller, promotion, campaign) and ids coming from other systems (order, user).
 */
export const idLimits = {
  identifierLengthMax: 64,
  externalIdLengthMax: 128,
} as const;
