/**
 * The checkout saga's contract: workflow ids, inputs, states, and the signal, query and update
 * definitions that the API, the worker and the tests share. Workflow-safe (no Node built-ins, no I/O),
 * so workflows and the API import the same definitions.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PriceBreakdown, PricingInput } from '../pricing';
import type { CheckoutFailure, CheckoutItem, CheckoutSettings, OrderStatus, ParcelProblem, ParcelStatus, PaymentEvent } from '../lib/vocabulary';

// The shared vocabulary (statuses, refusal and failure codes, the payment event, workflow ids,
// settings) lives in lib/vocabulary.ts; it is re-exported here for the workflows and their tests.
export {
  checkoutFailureCodes,
  checkoutWorkflowId,
  defaultCheckoutSettings,
  invalidStateErrorType,
  orderIdOfWorkflowId,
  orderStatuses,
  orderWorkflowType,
  parcelStatuses,
  parcelWorkflowId,
  type CheckoutFailure,
  type CheckoutFailureCode,
  type CheckoutItem,
  type CheckoutSettings,
  type OrderStatus,
  type ParcelProblem,
  type ParcelStatus,
  type PaymentEvent,
} from '../lib/vocabulary';

// ------------------------------------------------------------------ checkout workflow

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
