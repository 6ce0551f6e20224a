/**
 * LEGACY, kept registered until its executions drain: the checkout saga of the first release (workflow type `checkoutWorkflow`, one parcel child per seller).
 * New orders run `orderWorkflow` (workflows/checkout.ts). Executions started on this code keep
 * replaying on it, so its command sequence must not change except behind `patched()`; delete it
 * once no execution of this type is open (`temporal workflow count --query "WorkflowType='...' AND
 * ExecutionStatus='Running'"` answers 0; parcels live up to ship-by + auto-release, ~10 days).
 *
 * The checkout saga: one workflow per order (id `checkout:<orderId>`). It prices the cart snapshot,
 * freezes the order, reserves stock per seller in parallel, holds vouchers, charges once (waiting
 * for the payment webhook when the charge is processing), moves the money into escrow and confirms;
 * then one parcel (escrow) workflow per seller takes over. On a business refusal every completed
 * step is undone in reverse order and the order ends FAILED with a code of api-contract.md.
 * Transient faults never surface here: the activities retry them without limit.
 */
import {
  condition,
  log,
  ParentClosePolicy,
  proxyActivities,
  proxySinks,
  setHandler,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { price, type PriceBreakdown } from '../../pricing';
import type { Activities } from '../../activities';
import { compensationActivity, databaseActivity, pspActivity } from '../activity-options';
import {
  type CheckoutInput,
  type CheckoutSettings,
  type CheckoutState,
  checkoutStateQuery,
  defaultCheckoutSettings,
  type OrderStatus,
  parcelWorkflowId,
  paymentEventSignal,
} from '../contract';
import { parcelWorkflow } from './parcel-v1';
import { parcelRefunds, paymentEvents, refusalOf, refuse, shortLinesOf, type PaymentEvents } from '../refusals';
import { Saga } from '../saga';
import { searchAttributes } from '../search-attributes';
import type { CheckoutSinks } from '../sinks';

const db = proxyActivities<Activities>(databaseActivity);
const psp = proxyActivities<Activities>(pspActivity);
const undo = proxyActivities<Activities>(compensationActivity);
const { metrics } = proxySinks<CheckoutSinks>();

export async function checkoutWorkflow(input: CheckoutInput): Promise<CheckoutState> {
  const settings: CheckoutSettings = { ...defaultCheckoutSettings, ...input.settings };
  const startedAtMs = Date.now();
  const state: CheckoutState = {
    orderId: input.orderId,
    buyerId: input.buyerId,
    status: 'PROCESSING',
    saga: { steps: [], compensations: [] },
    parcels: [],
    createdAt: new Date(startedAtMs).toISOString(),
  };
  const saga = new Saga((name) => metrics.compensationRan(name));
  state.saga = { steps: saga.steps, compensations: saga.compensations };
  const payment = paymentEvents();
  setHandler(checkoutStateQuery, () => state);
  setHandler(paymentEventSignal, payment.onEvent);
  const index = (pairs: SearchAttributeUpdatePair[]): void => {
    if (settings.searchAttributes) upsertSearchAttributes(pairs);
  };
  index([
    { key: searchAttributes.orderId, value: input.orderId },
    { key: searchAttributes.buyerId, value: input.buyerId },
    { key: searchAttributes.checkoutStatus, value: 'PROCESSING' },
  ]);

  try {
    const pricing = await saga.step('price', () => priceCart(input));
    state.pricing = pricing;
    index([
      { key: searchAttributes.sellerIds, value: Object.keys(pricing.sellers) },
      { key: searchAttributes.grandTotalMinor, value: pricing.totals.grandTotal },
    ]);
    await saga.step('createOrder', () => db.recordOrder({ orderId: input.orderId, buyerId: input.buyerId, pricing }));

    saga.addCompensation('releaseStock', () => undo.releaseStock({ orderId: input.orderId }));
    await saga.step('reserveInventory', () => reserveInventory(input.orderId, input.items, pricing));

    if (input.voucherCodes.length > 0) {
      saga.addCompensation('releaseVouchers', () => undo.releaseVouchers({ orderId: input.orderId }));
      await saga.step('holdVouchers', () => holdVouchers(input));
    }

    // A zero grand total (fully discounted) is still recorded as the order's payment, with no PSP call.
    saga.addCompensation('refundPayment', () => undo.refundCharge({ orderId: input.orderId, parcels: parcelRefunds(pricing) }));
    await saga.step('charge', () => charge(input, pricing, settings, payment, (status) => setStatus(state, status, index)));

    saga.addCompensation('refundEscrow', () => undo.refundEscrow({ orderId: input.orderId, parcels: parcelRefunds(pricing) }));
    await saga.step('createEscrow', () => db.createEscrow({ orderId: input.orderId, pricing }));
    await saga.step('confirm', () => confirm(input, pricing, state, settings, index));
  } catch (err) {
    const failure = refusalOf(err);
    if (!failure) throw err; // not a business refusal: a bug. Fail the workflow task; fix and replay.
    log.info('checkout refused; compensating', { orderId: input.orderId, code: failure.code });
    await saga.compensate();
    state.failure = failure;
    await setStatus(state, 'FAILED', index);
  }
  metrics.checkoutFinished(state.status === 'COMPLETED' ? 'COMPLETED' : 'FAILED', Date.now() - startedAtMs);
  return state;
}

/** Prices the snapshot with catalog prices, inside the workflow (the engine is pure and deterministic). */
async function priceCart(input: CheckoutInput): Promise<PriceBreakdown> {
  const pricingInput = await db.loadPricingInput({ items: input.items, voucherCodes: input.voucherCodes });
  const pricing = price(pricingInput);
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

/** Reserves each seller's lines in parallel; every short line of every seller is reported at once. */
async function reserveInventory(orderId: string, items: CheckoutInput['items'], pricing: PriceBreakdown): Promise<void> {
  const sellerOfSku = new Map(pricing.lines.map((line) => [line.sku, line.sellerId]));
  const bySeller = new Map<string, { sku: string; quantity: number }[]>();
  for (const item of items) {
    const sellerId = sellerOfSku.get(item.sku);
    if (sellerId === undefined) throw new Error(`line ${item.sku} was not priced`);
    bySeller.set(sellerId, [...(bySeller.get(sellerId) ?? []), item]);
  }
  const results = await Promise.allSettled([...bySeller].map(([sellerId, lines]) => db.reserveStock({ orderId, sellerId, lines })));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  if (failures.length === 0) return;
  const isShortage = (err: unknown): boolean => refusalOf(err)?.code === 'INSUFFICIENT_STOCK';
  if (failures.every(isShortage)) {
    const lines = failures.flatMap(shortLinesOf);
    throw refuse('INSUFFICIENT_STOCK', `not enough stock for ${lines.length} line(s)`, { lines });
  }
  throw failures.find((err) => !isShortage(err));
}

/** Holds every voucher; the first refusal in input order decides the failure. */
async function holdVouchers(input: CheckoutInput): Promise<void> {
  const results = await Promise.allSettled(
    input.voucherCodes.map((code) => db.holdVoucher({ code, buyerId: input.buyerId, orderId: input.orderId })),
  );
  const firstFailure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (firstFailure) throw firstFailure.reason;
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
    if (!arrived) throw refuse('PAYMENT_TIMEOUT', `no payment outcome within ${String(settings.paymentTimeout)}`, { paymentId: result.paymentId });
  }
  if (payment.outcome() === 'failed') throw refuse('PAYMENT_DECLINED', 'the payment failed', { paymentId: result.paymentId });
  await setAwaiting('PROCESSING');
}

/** Reservations become sales, holds become redemptions, parcels go into escrow workflows. */
async function confirm(
  input: CheckoutInput,
  pricing: PriceBreakdown,
  state: CheckoutState,
  settings: CheckoutSettings,
  index: (pairs: SearchAttributeUpdatePair[]) => void,
): Promise<void> {
  const orderedAt = state.createdAt;
  const shipBy = new Date(Date.parse(orderedAt) + msToNumber(settings.shipBy)).toISOString();
  // Vouchers first: consuming can still be refused (a hold that expired), committing stock cannot,
  // and a committed reservation is no longer released by the stock compensation.
  if (input.voucherCodes.length > 0) await db.consumeVouchers({ orderId: input.orderId });
  await db.commitStock({ orderId: input.orderId });
  const parcels = Object.entries(pricing.sellers).map(([sellerId, seller]) => ({
    sellerId,
    customerPaid: seller.customerPaid,
    payout: seller.payout,
    shipBy,
  }));
  await db.createParcels({ orderId: input.orderId, parcels });
  for (const parcel of parcels) {
    // ABANDON: each parcel lives on (ship-by, delivery, 7-day auto-release) after the checkout completes.
    await startChild(parcelWorkflow, {
      workflowId: parcelWorkflowId(input.orderId, parcel.sellerId),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [
        {
          orderId: input.orderId,
          buyerId: input.buyerId,
          sellerId: parcel.sellerId,
          currency: pricing.currency,
          customerPaid: parcel.customerPaid,
          payout: parcel.payout,
          orderedAt,
          settings,
        },
      ],
    });
    state.parcels.push({ ...parcel, status: 'HELD' });
  }
  await setStatus(state, 'COMPLETED', index);
}

async function setStatus(state: CheckoutState, status: OrderStatus, index: (pairs: SearchAttributeUpdatePair[]) => void): Promise<void> {
  await db.setOrderStatus({ orderId: state.orderId, buyerId: state.buyerId, status, ...(state.failure ? { failure: state.failure } : {}) });
  state.status = status;
  index([{ key: searchAttributes.checkoutStatus, value: status }]);
}
