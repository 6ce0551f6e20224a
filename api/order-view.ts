/**
 * The order as GET /v1/orders/{orderId} shows it: the database record (services/orders) merged
 * with the saga's progress from the checkout workflow's query. The query is bounded by a deadline
 * and optional: when the workflow is gone, the worker is down or Temporal is unreachable, the
 * answer is the database record with empty saga arrays rather than an error.
 */
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { OrderRecord } from '../services/orders';
import { checkoutStateQuery, checkoutWorkflowId, type CheckoutState, type OrderStatus, type ParcelSummary, type SagaStep } from '../workflows/contract';
import type { PriceBreakdown } from '../pricing';

export interface OrderView {
  orderId: string;
  userId: string;
  status: OrderStatus;
  failure?: { code: string; message: string; details: Record<string, unknown> };
  pricing: PriceBreakdown | null;
  parcels: ParcelSummary[];
  saga: { steps: SagaStep[]; compensations: SagaStep[] };
  createdAt: string;
}

export type OrderSummary = Omit<OrderView, 'saga'>;

const terminal: readonly OrderStatus[] = ['COMPLETED', 'FAILED'];

export function isSettled(status: OrderStatus): boolean {
  return terminal.includes(status);
}

export function summaryOf(order: OrderRecord): OrderSummary {
  return {
    orderId: order.orderId,
    userId: order.userId,
    status: order.status,
    ...(order.failure ? { failure: order.failure } : {}),
    pricing: order.pricing ?? null,
    // Where a parcel's actions go is the API's business (api/parcel-actions.ts), not the client's.
    parcels: order.parcels.map(({ escrowWorkflowId: _internal, ...parcel }) => parcel),
    createdAt: order.createdAt,
  };
}

/**
 * Merges the record with the workflow's state. The database is the system of record and a
 * terminal status there is final; while it is not terminal, the workflow's view is fresher (the
 * saga changes its state before the activity that records it has run). Parcels come from the
 * database (their escrow workflows record every move there); the query's list is used only while
 * the database has none yet.
 */
export function mergeOrder(order: OrderRecord, state: CheckoutState | undefined): OrderView {
  const base = summaryOf(order);
  if (!state) return { ...base, saga: { steps: [], compensations: [] } };
  const fromWorkflow = !isSettled(order.status) && state.status !== order.status;
  const status = fromWorkflow ? state.status : order.status;
  const failure = fromWorkflow ? state.failure : (order.failure ?? state.failure);
  return {
    ...base,
    status,
    ...(failure && status === 'FAILED' ? { failure } : {}),
    pricing: order.pricing ?? state.pricing ?? null,
    parcels: order.parcels.length > 0 ? base.parcels : state.parcels,
    saga: { steps: state.saga.steps, compensations: state.saga.compensations },
  };
}

/**
 * The view of an order whose saga has just settled, from the settled state the workflow answered
 * (the `checkoutOutcome` Update): no database read. It is what the database holds at that moment
 * (the saga writes every one of these before it answers).
 */
export function viewOfSettled(state: CheckoutState): OrderView {
  return {
    orderId: state.orderId,
    userId: state.buyerId,
    status: state.status,
    ...(state.failure && state.status === 'FAILED' ? { failure: state.failure } : {}),
    pricing: state.pricing ?? null,
    parcels: state.parcels,
    saga: { steps: state.saga.steps, compensations: state.saga.compensations },
    createdAt: state.createdAt,
  };
}

/** The workflow's state, or undefined when it cannot be had within the deadline. */
export async function queryCheckoutState(client: Client, orderId: string, timeoutMs: number, log: Logger): Promise<CheckoutState | undefined> {
  try {
    return await client.withDeadline(Date.now() + timeoutMs, () => client.workflow.getHandle(checkoutWorkflowId(orderId)).query(checkoutStateQuery));
  } catch (err) {
    log.debug({ err, orderId }, 'checkout state query failed; answering from the database');
    return undefined;
  }
}

export async function loadOrderView(deps: { client: Client; getOrder: (orderId: string) => Promise<OrderRecord>; queryTimeoutMs: number; log: Logger }, orderId: string): Promise<OrderView> {
  const order = await deps.getOrder(orderId);
  const state = await queryCheckoutState(deps.client, orderId, deps.queryTimeoutMs, deps.log);
  return mergeOrder(order, state);
}
