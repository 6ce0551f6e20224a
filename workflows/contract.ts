/**
 * The checkout saga's contract: workflow ids, inputs, states, and the signal, query and update
 * definitions that the API, the worker and the tests share. Workflow-safe (no Node built-ins, no I/O),
 * so workflows and the API import the same definitions.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { PriceBreakdown, PricingInput } from '../pricing';

// ------------------------------------------------------------------ ids

export const checkoutWorkflowId = (orderId: string): string => `checkout:${orderId}`;
/** The order id of a checkout workflow id, or undefined when the id is not one. */
export const orderIdOfWorkflowId = (workflowId: string): string | undefined =>
  workflowId.startsWith('checkout:') ? workflowId.slice('checkout:'.length) : undefined;
/** Legacy: the escrow workflow of one parcel of an order placed before `orderWorkflow` (workflows/legacy). */
export const parcelWorkflowId = (orderId: string, sellerId: string): string => `parcel:${orderId}:${sellerId}`;

/** The workflow type of every new order: its checkout saga, then its parcels' escrow. */
export const orderWorkflowType = 'orderWorkflow';

// ------------------------------------------------------------------ statuses

export const orderStatuses = ['PROCESSING', 'AWAITING_PAYMENT', 'COMPLETED', 'FAILED'] as const;
export type OrderStatus = (typeof orderStatuses)[number];

export const parcelStatuses = ['HELD', 'SHIPPED', 'DELIVERED', 'RELEASED', 'REFUNDED', 'CANCELLED'] as const;
export type ParcelStatus = (typeof parcelStatuses)[number];

/** Failure codes of a FAILED order (api-contract.md). */
export const checkoutFailureCodes = [
  'INSUFFICIENT_STOCK',
  'VOUCHER_EXPIRED',
  'VOUCHER_NOT_STARTED',
  'VOUCHER_EXHAUSTED',
  'VOUCHER_USER_LIMIT',
  'VOUCHER_NOT_FOUND',
  'VOUCHER_REJECTED',
  'PAYMENT_DECLINED',
  'PAYMENT_TIMEOUT',
  'PRICE_CHANGED',
  // Beyond the contract's list: the cart snapshot no longer prices (a product was removed, say),
  // or a step refused for a reason with no code of its own.
  'CART_INVALID',
  'CHECKOUT_REFUSED',
] as const;
export type CheckoutFailureCode = (typeof checkoutFailureCodes)[number];

export interface CheckoutFailure {
  code: CheckoutFailureCode;
  message: string;
  details: Record<string, unknown>;
}

// ------------------------------------------------------------------ checkout workflow

export interface CheckoutItem {
  sku: string;
  quantity: number;
}

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

/**
 * The cart entries the snapshot was taken from, as the cart stored them (`seq` is the cart's own
 * sequence number of the line or voucher). A completed checkout removes exactly these from the
 * cart: a line added again or changed while the saga ran no longer matches and stays.
 */
export interface CartEntries {
  lines: { sku: string; seq: number; quantity: number }[];
  vouchers: { code: string; seq: number }[];
}

export interface CheckoutInput {
  orderId: string;
  buyerId: string;
  /** The cart snapshot taken when the checkout was requested. */
  items: CheckoutItem[];
  voucherCodes: string[];
  /** What to remove from the buyer's cart once the order completes (absent: leave the cart alone). */
  cartEntries?: CartEntries;
  /**
   * The catalog's pricing input for the snapshot, when the API loaded it already (it does, for its
   * pre-checks): the saga prices it without loading it again. Absent: the saga loads it.
   */
  pricingInput?: PricingInput;
  paymentToken: string;
  /** When given, the saga refuses with PRICE_CHANGED if the server's grand total differs. */
  expectedGrandTotal?: number;
  settings?: Partial<CheckoutSettings>;
}

export type StepStatus = 'running' | 'completed' | 'failed';

export interface SagaStep {
  name: string;
  status: StepStatus;
  /** RFC 3339 time of the last status change (workflow time). */
  at: string;
}

/**
 * A money move of a parcel that was refused (a PSP that refuses a refund, a payout with nowhere to
 * go). The parcel's workflow does not fail: it records the problem for an operator (this field, a
 * metric, an error log line with the order) and goes on; `owedMinor` is what is still to be paid.
 */
export interface ParcelProblem {
  action: 'refund' | 'release' | 'restock';
  code: string;
  message: string;
  at: string;
}

export interface ParcelSummary {
  sellerId: string;
  status: ParcelStatus;
  customerPaid: number;
  payout: number;
  shipBy?: string;
  autoReleaseAt?: string;
  problem?: ParcelProblem;
}

export interface CheckoutState {
  orderId: string;
  buyerId: string;
  status: OrderStatus;
  failure?: CheckoutFailure;
  pricing?: PriceBreakdown;
  saga: { steps: SagaStep[]; compensations: SagaStep[] };
  parcels: ParcelSummary[];
  createdAt: string;
}

/** A payment webhook event, forwarded by the API after signature check and de-duplication. */
export interface PaymentEvent {
  eventId: string;
  type: 'payment.succeeded' | 'payment.failed' | 'refund.succeeded';
  paymentId: string;
  amount: number;
  currency: string;
}

export const checkoutStateQuery = defineQuery<CheckoutState>('checkoutState');
/**
 * Update of `orderWorkflow`: answers once the checkout has settled (COMPLETED or FAILED) with its
 * state. The API sends it with the workflow's start (Update-with-Start) and so learns the outcome
 * from the workflow itself, in the same round trip, instead of polling the database.
 */
export const checkoutOutcomeUpdate = defineUpdate<CheckoutState, []>('checkoutOutcome');
export const paymentEventSignal = defineSignal<[PaymentEvent]>('paymentEvent');

// ------------------------------------------------------------------ parcel (escrow) workflow

export interface ParcelInput {
  orderId: string;
  buyerId: string;
  sellerId: string;
  currency: string;
  customerPaid: number;
  payout: number;
  /** RFC 3339 time of the order; the ship-by deadline counts from it. */
  orderedAt: string;
  settings: CheckoutSettings;
}

export interface ParcelEvent {
  status: ParcelStatus;
  at: string;
  by: string;
  reason?: string;
}

export interface ParcelState {
  orderId: string;
  sellerId: string;
  status: ParcelStatus;
  customerPaid: number;
  payout: number;
  shipBy: string;
  autoReleaseAt?: string;
  problem?: ParcelProblem;
  history: ParcelEvent[];
}

/** Who asks for a parcel action (the API checks roles; the workflow records it). */
export interface ParcelActionInput {
  by: string;
  reason?: string;
}

export const parcelActions = ['ship', 'deliver', 'confirmReceipt', 'refund'] as const;
export type ParcelAction = (typeof parcelActions)[number];

/** A parcel action sent to `orderWorkflow`, which holds every parcel of the order. */
export interface ParcelActionRequest extends ParcelActionInput {
  sellerId: string;
  action: ParcelAction;
}

/** Update of `orderWorkflow`: one action on one parcel; validated before it is written to history. */
export const parcelActionUpdate = defineUpdate<ParcelState, [ParcelActionRequest]>('parcelAction');
/** Query of `orderWorkflow`: one parcel's state with its history. */
export const parcelOfOrderQuery = defineQuery<ParcelState | null, [string]>('parcelOfOrder');

/** Legacy (`parcelWorkflow`) definitions below. */
export const parcelStateQuery = defineQuery<ParcelState>('parcelState');
export const shipUpdate = defineUpdate<ParcelState, [ParcelActionInput]>('ship');
export const deliverUpdate = defineUpdate<ParcelState, [ParcelActionInput]>('deliver');
export const confirmReceiptUpdate = defineUpdate<ParcelState, [ParcelActionInput]>('confirmReceipt');
export const refundUpdate = defineUpdate<ParcelState, [ParcelActionInput]>('refund');

/** The ApplicationFailure type an update validator throws for an action that does not fit the state. */
export const invalidStateErrorType = 'INVALID_STATE';
