/**
 * Orders and the parcel lifecycle (api-contract.md, Checkout and Parcel lifecycle).
 *
 * Reads: a buyer sees their own orders; a seller sees its own part of an order that holds its
 * parcel or lines (api/seller-scope.ts: never another seller's figures); admin sees every order.
 * Parcel actions are Temporal Updates on the workflow that holds the parcel (api/parcel-actions.ts):
 * the workflow's validator decides whether the action fits the parcel's state (409 INVALID_STATE
 * otherwise) and the workflow makes a repeated action a no-op.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { BusinessError, NotFoundError } from '../../lib/errors';
import type { OrderRecord } from '../../services/orders';
import { invalidStateErrorType, type ParcelAction as WorkflowParcelAction, type ParcelActionInput, type ParcelStatus } from '../../workflows/contract';
import { escrowWorkflowIdOf, sendParcelAction } from '../parcel-actions';
import { forbidden, type Principal } from '../auth';
import type { OrdersPort } from '../deps';
import { noteIds } from '../observability';
import { loadOrderView, summaryOf } from '../order-view';
import { scopeOrderForSeller } from '../seller-scope';
import { route, type AnyRoute, type ResponseSpec } from '../route';
import {
  orderListQuerySchema,
  orderPageSchema,
  orderParamsSchema,
  orderSchema,
  parcelActionBodySchema,
  parcelParamsSchema,
  parcelStateSchema,
  refundBodySchema,
} from '../schemas';
import { authErrors, errorResponse as err } from './responses';

export interface OrderRoutesDeps {
  client: Client;
  orders: OrdersPort;
  queryTimeoutMs: number;
}

/** May this principal read this order? */
function canRead(principal: Principal, order: OrderRecord): boolean {
  if (principal.role === 'admin') return true;
  if (principal.role === 'buyer') return order.userId === principal.userId;
  return order.parcels.some((p) => p.sellerId === principal.sellerId) || Object.keys(order.pricing?.sellers ?? {}).includes(principal.sellerId ?? '');
}

type ParcelAction = 'ship' | 'deliver' | 'confirm-receipt' | 'refund';

/** Who may act on a parcel (api-contract.md): admin always; otherwise per action. */
function canAct(action: ParcelAction, principal: Principal, order: OrderRecord, sellerId: string): boolean {
  if (principal.role === 'admin') return true;
  switch (action) {
    case 'ship':
      return principal.role === 'seller' && principal.sellerId === sellerId;
    case 'deliver':
      return false;
    case 'confirm-receipt':
    case 'refund':
      return principal.role === 'buyer' && order.userId === principal.userId;
  }
}

/** Statuses in which an action has already happened: repeating it is a no-op 200 (api-contract.md). */
const alreadyDone: Record<ParcelAction, readonly ParcelStatus[]> = {
  ship: ['SHIPPED', 'DELIVERED', 'RELEASED'],
  deliver: ['DELIVERED', 'RELEASED'],
  'confirm-receipt': ['RELEASED'],
  refund: ['REFUNDED'],
};

/** The workflow's name of each action of the HTTP paths. */
const workflowActions: Record<ParcelAction, WorkflowParcelAction> = {
  ship: 'ship',
  deliver: 'deliver',
  'confirm-receipt': 'confirmReceipt',
  refund: 'refund',
};

function invalidState(message: string, details: Record<string, unknown>): BusinessError {
  return new BusinessError(invalidStateErrorType, message, details, 'conflict');
}

async function actOnParcel(
  deps: OrderRoutesDeps,
  action: ParcelAction,
  principal: Principal,
  orderId: string,
  sellerId: string,
  reason: string | undefined,
  onWorkflow: (workflowId: string) => void,
): Promise<unknown> {
  const order = await deps.orders.getOrder(orderId);
  if (!canAct(action, principal, order, sellerId)) throw forbidden(`you may not ${action} this parcel`, { action });
  const parcel = order.parcels.find((p) => p.sellerId === sellerId);
  if (!parcel) {
    const sellerInOrder = Object.keys(order.pricing?.sellers ?? {}).includes(sellerId);
    if (sellerInOrder && order.status !== 'FAILED') {
      throw invalidState(`order ${orderId} is ${order.status}; its parcels exist once it is COMPLETED`, { orderId, sellerId, orderStatus: order.status });
    }
    throw new NotFoundError('parcel', `${orderId}/${sellerId}`);
  }
  const input: ParcelActionInput = { by: principal.userId, ...(reason === undefined ? {} : { reason }) };
  try {
    onWorkflow(escrowWorkflowIdOf(orderId, parcel));
    return await sendParcelAction(deps.client, orderId, parcel, workflowActions[action], input);
  } catch (error) {
    // The escrow workflow ends with the parcel (released, refunded or cancelled): answer from the record.
    if (!(error instanceof WorkflowNotFoundError) && !isClosedWorkflowError(error)) throw error;
    const fresh = (await deps.orders.getOrder(orderId)).parcels.find((p) => p.sellerId === sellerId) ?? parcel;
    if (alreadyDone[action].includes(fresh.status)) return { orderId, ...fresh, history: [] };
    throw invalidState(`parcel ${sellerId} of order ${orderId} is ${fresh.status}; ${action} does not fit`, { orderId, sellerId, status: fresh.status });
  }
}

/** An Update sent to a workflow that has completed is refused by the server with this message. */
function isClosedWorkflowError(error: unknown): boolean {
  return error instanceof Error && /workflow execution already completed/i.test(error.message);
}

export function orderRoutes(deps: OrderRoutesDeps): AnyRoute[] {
  const getOrder = route({
    operationId: 'getOrder',
    method: 'get',
    path: '/v1/orders/{orderId}',
    summary: 'An order with its price, parcels and saga progress (a seller sees its own part only)',
    description:
      "A seller sees only its part of the order (`scope: {sellerId}`): its lines, its parcel, its payout, and pricing totals of its part; never another seller's figures nor the order's grand total. A seller with no parcel or lines in the order gets 403, like a buyer for another buyer's order.",
    tags: ['orders'],
    auth: { roles: ['buyer', 'seller'] },
    params: orderParamsSchema,
    responses: { 200: { description: 'the order', schema: orderSchema }, 400: err('VALIDATION_FAILED'), ...authErrors, 404: err('NOT_FOUND') },
    async handle({ principal, params, res, log }) {
      noteIds(res, { orderId: params.orderId });
      const record = await deps.orders.getOrder(params.orderId);
      if (!canRead(principal, record)) throw forbidden('this order is not yours');
      const order = await loadOrderView({ client: deps.client, getOrder: () => Promise.resolve(record), queryTimeoutMs: deps.queryTimeoutMs, log }, params.orderId);
      if (principal.role !== 'seller') return { status: 200, body: order };
      // A seller sees its own part only: its lines, its parcel, its payout.
      const own = scopeOrderForSeller(order, principal.sellerId ?? '');
      if (!own) throw forbidden('this order is not yours');
      return { status: 200, body: own };
    },
  });

  const listOrders = route({
    operationId: 'listOrders',
    method: 'get',
    path: '/v1/orders',
    summary: "The caller's orders, newest first (keyset pagination)",
    tags: ['orders'],
    auth: { roles: ['buyer'] },
    query: orderListQuerySchema,
    responses: { 200: { description: 'a page of orders', schema: orderPageSchema }, 400: err('VALIDATION_FAILED (limit, cursor)'), ...authErrors },
    async handle({ principal, query }) {
      const page = await deps.orders.listOrders(principal.userId, {
        ...(query.limit === undefined ? {} : { limit: query.limit }),
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      });
      return { status: 200, body: { orders: page.orders.map(summaryOf), nextCursor: page.nextCursor ?? null } };
    },
  });

  const parcelResponses = (who: string): Record<number, ResponseSpec> => ({
    200: { description: 'the parcel after the action (a repeated action is a no-op)', schema: parcelStateSchema },
    400: err('VALIDATION_FAILED'),
    401: authErrors[401],
    403: err(`FORBIDDEN: only ${who}`),
    404: err('NOT_FOUND: no such order or parcel'),
    409: err('INVALID_STATE: the action does not fit the parcel state'),
  });

  const parcelAction = (action: ParcelAction, summary: string, who: string, roles: readonly ('buyer' | 'seller' | 'admin')[]): AnyRoute =>
    route({
      operationId: `${action.replace(/-(.)/g, (_m, c: string) => c.toUpperCase())}Parcel`,
      method: 'post',
      path: `/v1/orders/{orderId}/parcels/{sellerId}/${action}`,
      summary,
      tags: ['parcels'],
      auth: { roles },
      params: parcelParamsSchema,
      body: action === 'refund' ? refundBodySchema : parcelActionBodySchema,
      bodyOptional: action !== 'refund',
      responses: parcelResponses(who),
      async handle({ principal, params, body, res }) {
        noteIds(res, { orderId: params.orderId });
        const state = await actOnParcel(deps, action, principal, params.orderId, params.sellerId, body.reason, (workflowId) => noteIds(res, { orderId: params.orderId, workflowId }));
        return { status: 200, body: state };
      },
    });

  return [
    getOrder,
    listOrders,
    parcelAction('ship', 'The seller ships its parcel', 'that seller or admin', ['seller']),
    parcelAction('deliver', 'Logistics (admin) marks the parcel delivered', 'admin', ['admin']),
    parcelAction('confirm-receipt', "The buyer confirms receipt: the parcel's funds are released to the seller", "the order's buyer or admin", ['buyer']),
    parcelAction('refund', "Refunds the parcel's customerPaid to the buyer and returns its stock", "the order's buyer (before release) or admin", ['buyer']),
  ];
}
