/**
 * POST /v1/checkouts: idempotent, bounded-wait start of the checkout saga (api-contract.md,
 * Checkout; design in docs/api.md).
 *
 * 1. A key this buyer used before answers from the order it made: the same body -> 200 with that
 *    order (and the saga is made sure to exist), another body -> 409 IDEMPOTENCY_KEY_REUSED.
 * 2. Otherwise the request is validated before anything is written: an empty cart is 422
 *    CART_EMPTY; with `expectedGrandTotal` the cart is priced here and a difference is 409
 *    PRICE_CHANGED with the fresh breakdown, so nothing is reserved or charged.
 * 3. The order row is inserted under (buyer, key) (orders.acceptCheckoutRequest): of concurrent
 *    duplicates exactly one inserts; the others find its order and answer 200.
 * 4. The saga starts with workflow id `checkout:<orderId>`, conflict policy USE_EXISTING and reuse
 *    policy REJECT_DUPLICATE, so no request ever runs a second saga for an order.
 * 5. The answer waits up to `checkoutWaitMs` for the saga to settle (COMPLETED or FAILED): 201
 *    with the order if it did, else 202 {orderId, status}. Location points at the order.
 */
import { createHash, randomBytes } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { BusinessError } from '../lib/errors';
import type { OrderRecord } from '../services/orders';
import { checkoutWorkflowId, type CheckoutInput, type CheckoutSettings } from '../workflows/contract';
import type { CheckoutPort, CheckoutSnapshot, OrdersPort } from './deps';
import { isSettled, loadOrderView, type OrderView } from './order-view';
import type { Reply } from './route';

export const checkoutWorkflowType = 'checkoutWorkflow';

export interface CheckoutDeps {
  client: Client;
  orders: OrdersPort;
  checkout: CheckoutPort;
  taskQueue: string;
  checkoutWaitMs: number;
  queryTimeoutMs: number;
  checkoutSettings?: Partial<CheckoutSettings> | undefined;
  /** Interval of the database check while waiting (the workflow result is awaited at the same time). */
  pollIntervalMs?: number;
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
    paymentToken: request.body.paymentMethod.token,
    ...(request.body.expectedGrandTotal === undefined ? {} : { expectedGrandTotal: request.body.expectedGrandTotal }),
  };
}

/** Starts the saga, or attaches to the one already running; a finished one is never started again. */
async function ensureSaga(deps: CheckoutDeps, input: CheckoutInput): Promise<void> {
  try {
    await deps.client.workflow.start(checkoutWorkflowType, {
      workflowId: checkoutWorkflowId(input.orderId),
      taskQueue: deps.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    // The saga ran and closed already: REJECT_DUPLICATE refuses a second one, which is the point.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** Sleeps `ms`, or less when `signal` aborts; leaves no listener behind either way. */
const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Waits up to `waitMs` for the order to settle: the workflow's result (a long poll, abandoned
 * through an AbortSignal when the wait ends so it does not keep polling) or, whichever comes first,
 * a terminal status in the database (the saga records it before it returns). True when settled.
 */
async function waitForSettlement(deps: CheckoutDeps, orderId: string, waitMs: number): Promise<boolean> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), waitMs);
  const viaResult = deps.client
    .withAbortSignal(stop.signal, () => deps.client.workflow.getHandle(checkoutWorkflowId(orderId)).result())
    .then(
      () => true,
      // A failed or terminated saga has settled too; an aborted or unreachable wait has not.
      (err: unknown) => err instanceof WorkflowFailedError,
    );
  const viaDatabase = (async () => {
    while (!stop.signal.aborted) {
      const order = await deps.orders.findOrder(orderId).catch(() => undefined);
      if (order && isSettled(order.status)) return true;
      await sleep(deps.pollIntervalMs ?? 100, stop.signal);
    }
    return false;
  })();
  try {
    const first = await Promise.race([viaResult.then((settled) => settled || viaDatabase), viaDatabase]);
    return first;
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
}

async function view(deps: CheckoutDeps, orderId: string, log: Logger): Promise<OrderView> {
  return loadOrderView({ client: deps.client, getOrder: (id) => deps.orders.getOrder(id), queryTimeoutMs: deps.queryTimeoutMs, log }, orderId);
}

/** A repeated key with the same body: the order it made (200), making sure its saga exists. */
async function answerRepeat(deps: CheckoutDeps, request: CheckoutRequest, order: OrderRecord, log: Logger): Promise<CheckoutOutcome> {
  if (!isSettled(order.status)) {
    // Normally a no-op (USE_EXISTING / REJECT_DUPLICATE). It matters only when the first request
    // died between inserting the order and starting its saga: then this retry starts it.
    const snapshot = await deps.checkout.snapshot(request.buyerId);
    await ensureSaga(deps, inputOf(deps, order.orderId, request, snapshot));
  }
  const body = await view(deps, order.orderId, log);
  return { orderId: order.orderId, reply: { status: 200, body, headers: { Location: orderLocation(order.orderId) } } };
}

function keyReused(orderId: string): BusinessError {
  return new BusinessError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request body', { orderId }, 'conflict');
}

/** Refuses what the saga would refuse anyway, before anything is written, reserved or charged. */
async function precheck(deps: CheckoutDeps, request: CheckoutRequest, snapshot: CheckoutSnapshot): Promise<void> {
  if (snapshot.items.length === 0) throw new BusinessError('CART_EMPTY', 'the cart is empty', {});
  const expected = request.body.expectedGrandTotal;
  if (expected === undefined) return;
  const pricing = await deps.checkout.quote(request.buyerId, snapshot);
  if (pricing.totals.grandTotal !== expected) {
    throw new BusinessError(
      'PRICE_CHANGED',
      `the cart now costs ${pricing.totals.grandTotal}, not the expected ${expected} (minor units of ${pricing.currency})`,
      { expectedGrandTotal: expected, grandTotal: pricing.totals.grandTotal, currency: pricing.currency, pricing },
      'conflict',
    );
  }
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
  await precheck(deps, request, snapshot);

  const accepted = await deps.orders.acceptCheckoutRequest({
    orderId: newOrderId(),
    buyerId: request.buyerId,
    idempotencyKey: request.idempotencyKey,
    requestHash,
  });
  const orderId = accepted.order.orderId;
  onOrder(orderId);
  // A concurrent duplicate inserted first: answer with its order; its request starts the saga
  // (and so does this one, harmlessly, should the first die before it could).
  await ensureSaga(deps, inputOf(deps, orderId, request, snapshot));
  if (!accepted.created) {
    const body = await view(deps, orderId, log);
    return { orderId, reply: { status: 200, body, headers: { Location: orderLocation(orderId) } } };
  }
  log.info({ orderId, items: snapshot.items.length, vouchers: snapshot.voucherCodes.length }, 'checkout saga started');

  const settled = await waitForSettlement(deps, orderId, deps.checkoutWaitMs);
  const order = await view(deps, orderId, log);
  const headers = { Location: orderLocation(orderId) };
  if (settled && isSettled(order.status)) return { orderId, reply: { status: 201, body: order, headers } };
  return { orderId, reply: { status: 202, body: { orderId, status: order.status }, headers } };
}
