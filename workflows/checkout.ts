/**
 * The order workflow (type `orderWorkflow`, id `checkout:<orderId>`): the checkout saga, then the
 * escrow of every parcel of the order (workflows/parcels.ts).
 *
 * The saga prices the cart snapshot, freezes the order, reserves each seller's stock and holds the
 * vouchers (in parallel), charges once (waiting for the payment webhook when the charge is
 * processing), moves the money into escrow and confirms. On a business refusal every completed
 * step is undone (newest first; the payment's undo last, see below) and the order ends FAILED with
 * a code of api-contract.md. Transient faults never surface here: activities retry them without a
 * limit on attempts.
 *
 * Why it is shaped this way (docs/checkout-saga.md, *Speed*): the short Postgres and Redis steps
 * are local activities, so the whole saga up to the charge is one workflow task, and the rest one
 * more; the PSP call is a regular activity (it can be slow); the parcels live in this workflow
 * instead of one child workflow each; and the API learns the outcome through the
 * `checkoutOutcome` Update it sends with the start. A seed checkout costs 2 workflow tasks, 1
 * activity task and 1 execution, where the first release cost ~17, 14 and 4.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  log,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { price, type PriceBreakdown } from '../pricing';
import type { CheckoutActivities } from '../activities/checkout';
import { compensationActivity, localCompensationActivity, localDatabaseActivity, pspActivity, pspProbeActivity } from './activity-options';
import {
  checkoutOutcomeUpdate,
  checkoutStateQuery,
  checkoutWorkflowId,
  defaultCheckoutSettings,
  parcelActionUpdate,
  parcelOfOrderQuery,
  paymentEventSignal,
  type CheckoutInput,
  type CheckoutSettings,
  type CheckoutState,
  type OrderStatus,
  type ParcelActionRequest,
} from './contract';
import { Parcel } from './parcels';
import { failureCause, parcelRefunds, paymentEvents, refusalOf, refuse, type PaymentEvents } from './refusals';
import { Saga } from './saga';
import { searchAttributes } from './search-attributes';
import type { CheckoutSinks } from './sinks';

const db = proxyLocalActivities<CheckoutActivities>(localDatabaseActivity);
const undo = proxyLocalActivities<CheckoutActivities>(localCompensationActivity);
const psp = proxyActivities<CheckoutActivities>(pspActivity);
const pspProbe = proxyActivities<CheckoutActivities>(pspProbeActivity);
const pspUndo = proxyActivities<CheckoutActivities>(compensationActivity);
const { metrics } = proxySinks<CheckoutSinks>();

const isSettled = (status: OrderStatus): boolean => status === 'COMPLETED' || status === 'FAILED';

export async function orderWorkflow(input: CheckoutInput): Promise<CheckoutState> {
  const settings: CheckoutSettings = { ...defaultCheckoutSettings, ...input.settings };
  const startedAtMs = Date.now();
  const saga = new Saga((name) => metrics.compensationRan(name));
  const state: CheckoutState = {
    orderId: input.orderId,
    buyerId: input.buyerId,
    status: 'PROCESSING',
    saga: { steps: saga.steps, compensations: saga.compensations },
    parcels: [],
    createdAt: new Date(startedAtMs).toISOString(),
  };
  const parcels = new Map<string, Parcel>();
  const payment = paymentEvents();
  setHandler(checkoutStateQuery, () => state);
  setHandler(paymentEventSignal, payment.onEvent);
  setHandler(checkoutOutcomeUpdate, async () => {
    await condition(() => isSettled(state.status));
    return state;
  });
  setHandler(parcelOfOrderQuery, (sellerId: string) => parcels.get(sellerId)?.state ?? null);
  setHandler(
    parcelActionUpdate,
    (request) => parcelOf(parcels, request.sellerId, state).act(request.action, { by: request.by, ...(request.reason === undefined ? {} : { reason: request.reason }) }),
    { validator: (request: ParcelActionRequest) => parcelOf(parcels, request.sellerId, state).validate(request.action) },
  );
  // OrderId, BuyerId and CheckoutStatus=PROCESSING come with the start (api/checkout.ts).
  const index = (pairs: SearchAttributeUpdatePair[]): void => {
    if (settings.searchAttributes) upsertSearchAttributes(pairs);
  };

  try {
    const pricing = await runSaga(input, settings, saga, state, payment, index);
    for (const summary of state.parcels) {
      const seller = sellerPricing(pricing, summary.sellerId);
      const terms = { orderId: input.orderId, sellerId: summary.sellerId, currency: pricing.currency, customerPaidMinor: seller.customerPaid, payoutMinor: seller.payout, orderedAtMs: startedAtMs, settings };
      parcels.set(summary.sellerId, new Parcel(terms, summary));
    }
  } catch (err) {
    const failure = refusalOf(err);
    if (!failure) throw err; // not a business refusal: a bug. Fail the workflow task; fix and replay.
    log.info('checkout refused; compensating', { orderId: input.orderId, code: failure.code });
    // While it compensates the order is PROCESSING again (not AWAITING_PAYMENT): FAILED comes once
    // every effect is undone.
    if (state.status !== 'PROCESSING') await setStatus(state, 'PROCESSING', index);
    await saga.compensate();
    state.failure = failure;
    await setStatus(state, 'FAILED', index);
  }
  metrics.checkoutFinished(state.status === 'COMPLETED' ? 'COMPLETED' : 'FAILED', Date.now() - startedAtMs);

  await Promise.all([...parcels.values()].map((parcel) => parcel.run()));
  // Let an update that is still answering (a repeated action, the outcome) finish before closing.
  await condition(allHandlersFinished);
  return state;
}

function parcelOf(parcels: Map<string, Parcel>, sellerId: string, state: CheckoutState): Parcel {
  const parcel = parcels.get(sellerId);
  if (parcel) return parcel;
  throw ApplicationFailure.create({
    type: 'NOT_FOUND',
    message: isSettled(state.status) ? `order ${state.orderId} has no parcel of seller ${sellerId}` : `order ${state.orderId} is ${state.status}; its parcels exist once it is COMPLETED`,
    nonRetryable: true,
    details: [{ orderId: state.orderId, sellerId, orderStatus: state.status }],
  });
}

async function runSaga(
  input: CheckoutInput,
  settings: CheckoutSettings,
  saga: Saga,
  state: CheckoutState,
  payment: PaymentEvents,
  index: (pairs: SearchAttributeUpdatePair[]) => void,
): Promise<PriceBreakdown> {
  const { orderId, buyerId } = input;
  const pricing = await saga.run({ name: 'priceCart', run: () => priceCart(input) });
  state.pricing = pricing;
  index([
    { key: searchAttributes.sellerIds, value: Object.keys(pricing.sellers) },
    { key: searchAttributes.grandTotalMinor, value: pricing.totals.grandTotal },
  ]);

  // The order's frozen price, each seller's stock and the vouchers do not depend on each other:
  // all written at once; stock and vouchers go back together.
  await settleAll([
    saga.run({ name: 'recordOrder', run: () => db.recordOrder({ orderId, buyerId, pricing }) }),
    saga.run({
      name: 'reserveOrderStock',
      run: () => db.reserveOrderStock({ orderId, sellers: sellersOf(input, pricing) }),
      undo: { name: 'releaseStock', run: () => undo.releaseStock({ orderId }), group: 'reservations' },
    }),
    input.voucherCodes.length === 0
      ? Promise.resolve()
      : saga.run({
          name: 'holdOrderVouchers',
          run: () => db.holdOrderVouchers({ orderId, buyerId, codes: input.voucherCodes }),
          undo: { name: 'releaseVouchers', run: () => undo.releaseVouchers({ orderId }), group: 'reservations' },
        }),
  ]);

  // The payment's undo runs after the others (`last`): a payment still pending at the PSP must not
  // keep stock and vouchers from going back. A card the PSP declined took nothing: nothing to ask
  // it. A zero grand total is recorded with no PSP call.
  let declined = false;
  await saga.run({
    name: 'chargePayment',
    run: async () => {
      try {
        await charge(input, pricing, settings, payment, (status) => setStatus(state, status, index));
      } catch (err) {
        declined = failureCause(err)?.type === 'PAYMENT_DECLINED';
        throw err;
      }
    },
    undo: { name: 'refundCharge', run: () => (declined ? Promise.resolve() : pspUndo.refundCharge({ orderId, parcels: parcelRefunds(pricing) })), last: true },
  });

  await saga.run({
    name: 'createEscrow',
    run: () => db.createEscrow({ orderId, pricing }),
    undo: { name: 'refundEscrow', run: () => pspUndo.refundEscrow({ orderId, parcels: parcelRefunds(pricing) }) },
  });
  await saga.run({ name: 'confirmOrder', run: () => confirm(input, pricing, state, settings, index) });
  return pricing;
}

/** A seller's part of the price; every parcel is one seller's part, so a miss is a bug, said clearly. */
function sellerPricing(pricing: PriceBreakdown, sellerId: string): PriceBreakdown['sellers'][string] {
  const seller = pricing.sellers[sellerId];
  if (seller === undefined) throw new Error(`parcel of seller ${sellerId} has no part in the order's price`);
  return seller;
}

/** Waits for every promise; then throws the first failure in the given order, if any. */
async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Prices the snapshot with catalog prices, inside the workflow (the engine is pure and deterministic). */
async function priceCart(input: CheckoutInput): Promise<PriceBreakdown> {
  const pricingInput = input.pricingInput ?? (await db.loadPricingInput({ items: input.items, voucherCodes: input.voucherCodes }));
  let pricing: PriceBreakdown;
  try {
    pricing = price(pricingInput);
  } catch (err) {
    // The engine refuses what it cannot price exactly (an amount past its bounds, say). That is
    // deterministic: retrying the task would fail forever, so it is the order's refusal.
    throw refuse('CART_INVALID', `the cart cannot be priced: ${(err as Error).message}`, { reason: (err as Error).name });
  }
  const rejected = pricing.rejectedVouchers[0];
  if (rejected) {
    throw refuse('VOUCHER_REJECTED', `voucher ${rejected.code} was rejected: ${rejected.reason}`, { code: rejected.code, reason: rejected.reason, rejectedVouchers: pricing.rejectedVouchers });
  }
  if (input.expectedGrandTotal !== undefined && input.expectedGrandTotal !== pricing.totals.grandTotal) {
    throw refuse('PRICE_CHANGED', `the grand total is ${pricing.totals.grandTotal}, not ${input.expectedGrandTotal}`, {
      expectedGrandTotal: input.expectedGrandTotal,
      grandTotal: pricing.totals.grandTotal,
      pricing,
    });
  }
  return pricing;
}

/**
 * Each seller's lines of the snapshot, in cart order: one reservation per seller, all sent in one
 * call. Reserving and holding wait for every call (settleAll), so the undos find settled work; a
 * shortage wins over a voucher refusal (every short line of every seller is reported), otherwise
 * the first voucher refusal in cart order decides.
 */
function sellersOf(input: CheckoutInput, pricing: PriceBreakdown): { sellerId: string; lines: { sku: string; quantity: number }[] }[] {
  const sellerOfSku = new Map(pricing.lines.map((line) => [line.sku, line.sellerId]));
  const bySeller = new Map<string, { sku: string; quantity: number }[]>();
  for (const item of input.items) {
    const sellerId = sellerOfSku.get(item.sku);
    if (sellerId === undefined) throw refuse('CART_INVALID', `line ${item.sku} was not priced`, { sku: item.sku });
    bySeller.set(sellerId, [...(bySeller.get(sellerId) ?? []), { sku: item.sku, quantity: item.quantity }]);
  }
  return [...bySeller].map(([sellerId, lines]) => ({ sellerId, lines }));
}

async function charge(
  input: CheckoutInput,
  pricing: PriceBreakdown,
  settings: CheckoutSettings,
  payment: PaymentEvents,
  setAwaiting: (status: OrderStatus) => Promise<void>,
): Promise<void> {
  const result = await psp.chargePayment({
    orderId: input.orderId,
    amountMinor: pricing.totals.grandTotal,
    currency: pricing.currency,
    token: input.paymentToken,
  });
  if (result.status === 'succeeded') return;
  if (payment.outcome() === undefined) {
    await setAwaiting('AWAITING_PAYMENT');
    const arrived = await condition(() => payment.outcome() !== undefined, msToNumber(settings.paymentTimeout));
    if (!arrived) {
      await paymentWithoutWebhook(input.orderId, result.paymentId, settings);
      await setAwaiting('PROCESSING');
      return;
    }
  }
  if (payment.outcome() === 'failed') throw refuse('PAYMENT_DECLINED', 'the payment failed', { paymentId: result.paymentId });
  await setAwaiting('PROCESSING');
}

/**
 * The payment wait ran out without a webhook. Before refusing, ask the PSP: a payment that
 * succeeded (its webhook was lost) completes the order; a pending one is cancelled there. When the
 * PSP cannot be asked within the probe's bound, the order is refused and the payment's undo, which
 * runs last and without a limit, cancels or refunds it once the PSP answers.
 */
async function paymentWithoutWebhook(orderId: string, paymentId: string | null, settings: CheckoutSettings): Promise<void> {
  let status: string;
  try {
    ({ status } = await pspProbe.settleOrCancelPayment({ orderId }));
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    status = 'unknown';
  }
  if (status === 'succeeded') return;
  throw refuse('PAYMENT_TIMEOUT', `no payment outcome within ${String(settings.paymentTimeout)}`, { paymentId, pspStatus: status });
}

/**
 * Holds become redemptions, reservations become sales, the cart is emptied of what was bought, the
 * parcels open and the order completes: one local activity (activities/checkout.ts confirmOrder),
 * in that order — the voucher consumption can still be refused (a hold that expired) and must come
 * before the stock is committed (a committed reservation is no longer released by the stock's
 * undo), and the order is COMPLETED only once everything else is in place.
 */
async function confirm(
  input: CheckoutInput,
  pricing: PriceBreakdown,
  state: CheckoutState,
  settings: CheckoutSettings,
  index: (pairs: SearchAttributeUpdatePair[]) => void,
): Promise<void> {
  const { orderId } = input;
  const shipBy = new Date(Date.parse(state.createdAt) + msToNumber(settings.shipBy)).toISOString();
  const parcels = Object.entries(pricing.sellers).map(([sellerId, seller]) => ({ sellerId, customerPaid: seller.customerPaid, payout: seller.payout, shipBy }));
  // The cart is emptied of what was bought before COMPLETED is visible: a buyer who sees the order
  // completed never finds its lines still in the cart (and so never pays for them twice).
  await db.confirmOrder({
    orderId,
    buyerId: input.buyerId,
    withVouchers: input.voucherCodes.length > 0,
    ...(input.cartEntries ? { cartEntries: input.cartEntries } : {}),
    parcels,
    escrowWorkflowId: checkoutWorkflowId(orderId),
  });
  state.parcels = parcels.map((parcel) => ({ ...parcel, status: 'HELD' }));
  state.status = 'COMPLETED';
  index([{ key: searchAttributes.checkoutStatus, value: 'COMPLETED' }]);
}

async function setStatus(state: CheckoutState, status: OrderStatus, index: (pairs: SearchAttributeUpdatePair[]) => void): Promise<void> {
  await db.setOrderStatus({ orderId: state.orderId, buyerId: state.buyerId, status, ...(state.failure ? { failure: state.failure } : {}) });
  state.status = status;
  index([{ key: searchAttributes.checkoutStatus, value: status }]);
}
