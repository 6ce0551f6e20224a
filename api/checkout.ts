/**
 * POST /v1/checkouts: idempotent, bounded-wait start of the checkout saga (api-contract.md,
 * Checkout; design in docs/api.md).
 *
 * 1. A key this buyer used before answers from the order it made: the same body -> 200 with that
 *    order (and the saga is made sure to exist), another body -> 409 IDEMPOTENCY_KEY_REUSED.
 * 2. Otherwise the request is validated before anything is written: an empty cart is 422
 *    CART_EMPTY; with `expectedGrandTotal` the cart is priced here and a difference is 409
 *    PRICE_CHANGED with the fresh breakdown, so nothing is reserved or charged.
 * 3. The order row is inserted under (buyer, key) (orders.acceptCheckoutRequest) with the saga's
 *    input: of concurrent duplicates exactly one inserts; the others find its order and answer 200.
 * 4. The saga starts with workflow id `checkout:<orderId>`, conflict policy USE_EXISTING and reuse
 *    policy REJECT_DUPLICATE, so no request ever runs a second saga for an order. The start carries
 *    the `checkoutOutcome` Update (Update-with-Start), so the workflow itself tells this request
 *    when the checkout has settled: no polling.
 * 5. The answer waits up to `checkoutWaitMs` for that: 201 with the order if it settled, else 202
 *    {orderId, status}. Location points at the order. Temporal unreachable: 503 with Retry-After;
 *    the order row stays and the worker's reconciler (workers/reconciler.ts) starts its saga from the
 *    stored input once Temporal is back, as does a retry of the same key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type { Logger } from 'pino';
import { BusinessError } from '../lib/errors';
import type { OrderRecord } from '../services/orders';
import {
  checkoutOutcomeUpdate,
  checkoutWorkflowId,
  defaultCheckoutSettings,
  orderWorkflowType,
  type CheckoutInput,
  type CheckoutSettings,
  type CheckoutState,
} from '../workflows/contract';
import { searchAttributes } from '../workflows/search-attributes';
import type { CheckoutPort, CheckoutSnapshot, OrdersPort } from './deps';
import { isSettled, loadOrderView, viewOfSettled, type OrderView } from './order-view';
import type { Reply } from './route';
import type { PricingInput } from '../pricing';


export interface CheckoutDeps {
  client: Client;
  orders: OrdersPort;
  checkout: CheckoutPort;
  taskQueue: string;
  checkoutWaitMs: number;
  queryTimeoutMs: number;
  checkoutSettings?: Partial<CheckoutSettings> | undefined;
}

export interface CheckoutRequest {
  buyerId: string;
  idempotencyKey: string;
  body: { paymentMethod: { token: string }; expectedGrandTotal?: number | undefined };
}

export interface CheckoutOutcome {
  reply: Reply;
  orderId: string;
}

/** JSON with object keys sorted, so that the hash does not depend on the client's key order or spacing. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function requestHashOf(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** A new order id: 96 random bits, URL-safe (the orders table's CHECK allows [A-Za-z0-9_-]{1,64}). */
export function newOrderId(): string {
  return `ord_${randomBytes(12).toString('base64url')}`;
}

export const orderLocation = (orderId: string): string => `/v1/orders/${orderId}`;

function inputOf(deps: CheckoutDeps, orderId: string, request: CheckoutRequest, snapshot: CheckoutSnapshot): CheckoutInput {
  const settings = deps.checkoutSettings;
  return {
    ...(settings && Object.keys(settings).length > 0 ? { settings } : {}),
    orderId,
    buyerId: request.buyerId,
    items: snapshot.items,
    voucherCodes: snapshot.voucherCodes,
    ...(snapshot.cartEntries ? { cartEntries: snapshot.cartEntries } : {}),
    paymentToken: request.body.paymentMethod.token,
    ...(request.body.expectedGrandTotal === undefined ? {} : { expectedGrandTotal: request.body.expectedGrandTotal }),
  };
}

/**
 * How every order's saga is started (the API, a retried key, the worker's reconciler): workflow id
 * `checkout:<orderId>`, conflict policy USE_EXISTING (a concurrent duplicate attaches to the running
 * saga) and reuse policy REJECT_DUPLICATE (a finished order never runs a second saga); the search
 * attributes known before the saga runs come with the start, so the workflow writes none of them.
 */
export function sagaStartOptions(input: CheckoutInput, taskQueue: string) {
  const withAttributes = input.settings?.searchAttributes ?? defaultCheckoutSettings.searchAttributes;
  return {
    workflowId: checkoutWorkflowId(input.orderId),
    taskQueue,
    args: [input] as [CheckoutInput],
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    ...(withAttributes
      ? {
          typedSearchAttributes: [
            { key: searchAttributes.orderId, value: input.orderId },
            { key: searchAttributes.buyerId, value: input.buyerId },
            { key: searchAttributes.checkoutStatus, value: 'PROCESSING' },
          ] as SearchAttributePair[],
        }
      : {}),
  };
}

/** Starts the saga, or attaches to the one already running; a finished one is never started again. */
export async function ensureSaga(client: Client, taskQueue: string, input: CheckoutInput): Promise<void> {
  try {
    await client.workflow.start(orderWorkflowType, sagaStartOptions(input, taskQueue));
  } catch (err) {
    // The saga ran and closed already: REJECT_DUPLICATE refuses a second one, which is the point.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** Bound of the "did the saga start?" question on the slow path: Temporal unreachable must not hold the answer. */
const sagaExistsDeadlineMs = 1500;

async function sagaExists(client: Client, orderId: string): Promise<boolean> {
  try {
    await client.withDeadline(Date.now() + sagaExistsDeadlineMs, () => client.workflow.getHandle(checkoutWorkflowId(orderId)).describe());
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/**
 * Starts the saga and, in the same call, sends it the `checkoutOutcome` Update (Update-with-Start),
 * which the workflow answers once the checkout has settled. Waits up to `waitMs`: the settled state,
 * or undefined when the saga is still running then (the Update stays with the workflow; nothing is
 * lost by abandoning the wait). A failure to reach Temporal is thrown (503; the order row stays and
 * the worker's reconciler, or a retry of the key, starts the saga).
 */
async function startAndAwaitOutcome(deps: CheckoutDeps, input: CheckoutInput, waitMs: number): Promise<CheckoutState | undefined> {
  const startWorkflowOperation = new WithStartWorkflowOperation(orderWorkflowType, sagaStartOptions(input, deps.taskQueue));
  try {
    // A gRPC deadline, not only an abort: it also bounds a call still waiting for a connection to
    // a Temporal that is down (an abort alone was measured to hold the answer for 20-35 s).
    const [state] = await deps.client.withDeadline(Date.now() + waitMs, () =>
      Promise.all([deps.client.workflow.executeUpdateWithStart(checkoutOutcomeUpdate, { startWorkflowOperation }), startWorkflowOperation.workflowHandle()]),
    );
    return state;
  } catch (err) {
    // Not the first start: the order's saga exists (a concurrent duplicate) or finished already.
    if (err instanceof WorkflowExecutionAlreadyStartedError) return undefined;
    // The wait ended first (the server answers the start together with the Update, so whether the
    // saga started is asked separately, only on this slow path): it has, and goes on -> 202.
    if (await sagaExists(deps.client, input.orderId).catch(() => false)) return undefined;
    throw err;
  }
}

async function view(deps: CheckoutDeps, orderId: string, log: Logger): Promise<OrderView> {
  return loadOrderView({ client: deps.client, getOrder: (id) => deps.orders.getOrder(id), queryTimeoutMs: deps.queryTimeoutMs, log }, orderId);
}

/** The input to (re)start an order's saga with: the one stored at acceptance, else today's cart. */
async function storedInputOf(deps: CheckoutDeps, request: CheckoutRequest, orderId: string): Promise<CheckoutInput> {
  const stored = await deps.orders.checkoutInputOf(orderId);
  if (stored) return stored as CheckoutInput;
  return inputOf(deps, orderId, request, await deps.checkout.snapshot(request.buyerId));
}

/** A repeated key with the same body: the order it made (200), making sure its saga exists. */
async function answerRepeat(deps: CheckoutDeps, request: CheckoutRequest, order: OrderRecord, log: Logger): Promise<CheckoutOutcome> {
  if (!isSettled(order.status)) {
    // Normally a no-op (USE_EXISTING / REJECT_DUPLICATE). It matters only when the first request
    // died between inserting the order and starting its saga: then this retry starts it.
    await ensureSaga(deps.client, deps.taskQueue, await storedInputOf(deps, request, order.orderId));
  }
  const body = await view(deps, order.orderId, log);
  return { orderId: order.orderId, reply: { status: 200, body, headers: { Location: orderLocation(order.orderId) } } };
}

function keyReused(orderId: string): BusinessError {
  return new BusinessError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request body', { orderId });
}

/** Refuses what the saga would refuse anyway, before anything is written, reserved or charged. */
async function precheck(deps: CheckoutDeps, request: CheckoutRequest, snapshot: CheckoutSnapshot): Promise<PricingInput> {
  if (snapshot.items.length === 0) throw new BusinessError('CART_EMPTY', 'the cart is empty', {});
  // 422 VOUCHER_EXPIRED / VOUCHER_NOT_STARTED / VOUCHER_NOT_FOUND, 422 INSUFFICIENT_STOCK (a sku the
  // Redis gate knows to be short), 400 for a cart that cannot be priced; else the saga's price.
  const { pricing, pricingInput } = await deps.checkout.precheck(request.buyerId, snapshot);
  const expected = request.body.expectedGrandTotal;
  if (expected === undefined) return pricingInput;
  if (pricing.totals.grandTotal !== expected) {
    throw new BusinessError(
      'PRICE_CHANGED',
      `the cart now costs ${pricing.totals.grandTotal}, not the expected ${expected} (minor units of ${pricing.currency})`,
      { expectedGrandTotal: expected, grandTotal: pricing.totals.grandTotal, currency: pricing.currency, pricing },
    );
  }
  return pricingInput;
}

export async function handleCheckout(deps: CheckoutDeps, request: CheckoutRequest, log: Logger, onOrder: (orderId: string) => void): Promise<CheckoutOutcome> {
  const requestHash = requestHashOf(request.body);
  const previous = await deps.orders.findCheckoutRequest(request.buyerId, request.idempotencyKey);
  if (previous) {
    onOrder(previous.order.orderId);
    if (previous.requestHash !== requestHash) throw keyReused(previous.order.orderId);
    return answerRepeat(deps, request, previous.order, log);
  }

  const snapshot = await deps.checkout.snapshot(request.buyerId);
  const pricingInput = await precheck(deps, request, snapshot);

  const orderId = newOrderId();
  // Stored without the pricing input: a saga started again from it (a retried key, the reconciler)
  // loads today's catalog prices itself.
  const storedInput = inputOf(deps, orderId, request, snapshot);
  const input: CheckoutInput = { ...storedInput, pricingInput };
  const accepted = await deps.orders.acceptCheckoutRequest({
    orderId,
    buyerId: request.buyerId,
    idempotencyKey: request.idempotencyKey,
    requestHash,
    checkoutInput: storedInput,
  });
  onOrder(accepted.order.orderId);
  if (!accepted.created) {
    // A concurrent duplicate inserted first: answer with its order; its request starts the saga
    // (and so does this one, harmlessly, should the first die before it could).
    await ensureSaga(deps.client, deps.taskQueue, await storedInputOf(deps, request, accepted.order.orderId));
    const body = await view(deps, accepted.order.orderId, log);
    return { orderId: accepted.order.orderId, reply: { status: 200, body, headers: { Location: orderLocation(accepted.order.orderId) } } };
  }

  const settled = await startAndAwaitOutcome(deps, input, deps.checkoutWaitMs);
  log.info({ orderId, items: snapshot.items.length, vouchers: snapshot.voucherCodes.length, settled: settled?.status }, 'checkout saga started');
  const headers = { Location: orderLocation(orderId) };
  if (settled) return { orderId, reply: { status: 201, body: viewOfSettled(settled), headers } };
  const order = await view(deps, orderId, log);
  if (isSettled(order.status)) return { orderId, reply: { status: 201, body: order, headers } };
  return { orderId, reply: { status: 202, body: { orderId, status: order.status }, headers } };
}
