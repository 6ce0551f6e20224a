/**
 * The checkout saga's activities (workflows/checkout.ts), each action next to its undo: one
 * function per side effect, each idempotent by business ids (order, seller, voucher code) enforced
 * by the services' unique keys. Thin adapters: the logic lives in services/.
 */
import type { PricingInput, PriceBreakdown } from '../pricing';
import { ledgerKeys } from '../services/ledger';
import type { CartEntries } from '../services/cart';
import type { CheckoutFailure, CheckoutItem, OrderStatus } from '../lib/vocabulary';
import { AppError, BusinessError } from '../lib/errors';
import type { CheckoutDeps } from './deps';
import { withFailureBoundary } from './errors';
import { refundParcelMoney } from './parcel';

/** Waits for every call; the failures, in call order. */
async function failuresOf(calls: Promise<unknown>[]): Promise<Error[]> {
  const results = await Promise.allSettled(calls);
  return results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => (r.reason instanceof Error ? r.reason : new Error(String(r.reason))));
}

export interface ParcelAmount {
  sellerId: string;
  amountMinor: number;
}

export function createCheckoutActivities(deps: CheckoutDeps) {
  const { orders, cart, pricingSource, inventory, vouchers, payments, ledger } = deps;

  return withFailureBoundary({
    // ---------------------------------------------------------------- price (no undo: reads only)

    async loadPricingInput(input: { items: CheckoutItem[]; voucherCodes: string[] }): Promise<PricingInput> {
      return pricingSource.buildPricingInput(input.items, input.voucherCodes);
    },

    // ---------------------------------------------------------------- the order row (its FAILED status is its undo)

    async recordOrder(input: { orderId: string; buyerId: string; pricing: PriceBreakdown }): Promise<void> {
      await orders.recordOrder(input);
    },

    async setOrderStatus(input: { orderId: string; buyerId: string; status: OrderStatus; failure?: CheckoutFailure }): Promise<OrderStatus> {
      return orders.setStatus(input.orderId, input.buyerId, input.status, input.failure);
    },

    // ---------------------------------------------------------------- stock: reserveOrderStock / releaseStock

    /**
     * Reserves every seller's lines of an order, each seller's in its own atomic, idempotent call
     * (per (order, sku)), all at once: one local activity for the whole order instead of one per
     * seller. Every short line of every seller is reported in one INSUFFICIENT_STOCK; a transient
     * failure of any seller is thrown as it is (the retry repeats only what is not done yet).
     */
    async reserveOrderStock(input: { orderId: string; sellers: { sellerId: string; lines: { sku: string; quantity: number }[] }[] }): Promise<void> {
      const failures = await failuresOf(input.sellers.map((seller) => inventory.reserve(input.orderId, seller.lines, { sellerId: seller.sellerId })));
      if (failures.length === 0) return;
      const isShortage = (err: Error): boolean => err instanceof AppError && err.code === 'INSUFFICIENT_STOCK';
      const other = failures.find((err) => !isShortage(err));
      if (other !== undefined) throw other;
      const lines = failures.flatMap((err) => ((err as AppError).details.lines as unknown[] | undefined) ?? []);
      throw new BusinessError('INSUFFICIENT_STOCK', `not enough stock for ${lines.length} line(s)`, { lines });
    },

    /** Undo of reserveOrderStock: returns every reserved unit of the order (a no-op when none). */
    async releaseStock(input: { orderId: string }): Promise<void> {
      await inventory.release(input.orderId);
    },

    // ---------------------------------------------------------------- vouchers: holdOrderVouchers / releaseVouchers

    /**
     * Holds every voucher of an order at once (each hold idempotent per (code, order)). A transient
     * failure is thrown first (retried); otherwise the first refusal in cart order decides.
     */
    async holdOrderVouchers(input: { orderId: string; buyerId: string; codes: string[] }): Promise<void> {
      const failures = await failuresOf(input.codes.map((code) => vouchers.hold(code, input.buyerId, input.orderId)));
      for (const err of failures) {
        const code = err instanceof AppError ? err.code : undefined;
        if (code?.startsWith('VOUCHER_')) deps.metrics?.voucherLockFailure(code);
      }
      const transient = failures.find((err) => !(err instanceof AppError));
      if (transient !== undefined) throw transient;
      if (failures[0] !== undefined) throw failures[0];
    },

    /** Undo of holdOrderVouchers: frees every hold of the order (a no-op when none). */
    async releaseVouchers(input: { orderId: string }): Promise<void> {
      await vouchers.release(input.orderId);
    },

    // ---------------------------------------------------------------- payment: chargePayment / refundCharge

    async chargePayment(input: { orderId: string; amountMinor: number; currency: string; token: string }): Promise<{ status: 'succeeded' | 'processing'; paymentId: string | null }> {
      const result = await payments.charge(input.orderId, input.amountMinor, input.currency, input.token);
      return { status: result.status, paymentId: result.paymentId };
    },

    /**
     * The payment wait ran out: asks the PSP what became of the payment, and cancels it there when
     * it is still pending. `succeeded` means the order can complete without its webhook.
     */
    async settleOrCancelPayment(input: { orderId: string }): Promise<{ status: 'succeeded' | 'canceled' | 'failed' | 'none' }> {
      const result = await payments.settleOrCancel(input.orderId);
      return { status: result.status };
    },

    /**
     * Undo of chargePayment: refunds what was captured, per seller parcel (the refunds sum to the
     * grand total). A payment still processing is cancelled at the PSP; should it have succeeded
     * meanwhile (the cancel is refused), it is refunded like any other.
     */
    async refundCharge(input: { orderId: string; parcels: ParcelAmount[] }): Promise<{ refundedMinor: number }> {
      const payment = await payments.settleOrCancel(input.orderId);
      if (payment.status !== 'succeeded') return { refundedMinor: 0 };
      let refundedMinor = 0;
      for (const parcel of input.parcels) {
        if (parcel.amountMinor === 0) continue;
        await payments.refund(input.orderId, parcel.sellerId, parcel.amountMinor);
        refundedMinor += parcel.amountMinor;
      }
      return { refundedMinor };
    },

    // ---------------------------------------------------------------- escrow: createEscrow / refundEscrow

    async createEscrow(input: { orderId: string; pricing: PriceBreakdown }): Promise<void> {
      await ledger.createEscrow(input.orderId, input.pricing);
    },

    /**
     * Undo of createEscrow: every parcel's escrow goes back to the buyer (ledger and PSP refund).
     * A no-op when the escrow was never created; the charge's own undo then finds the refunds done.
     */
    async refundEscrow(input: { orderId: string; parcels: ParcelAmount[] }): Promise<void> {
      if (!(await ledger.getEntry(ledgerKeys.escrow(input.orderId)))) return;
      for (const parcel of input.parcels) await refundParcelMoney(deps, { orderId: input.orderId, ...parcel });
    },

    // ---------------------------------------------------------------- confirm (the last step: nothing after it to undo it for)

    /**
     * The saga's confirmation in one local activity: the vouchers' holds become redemptions (can
     * still be refused: a hold that expired), then the reservations become sales and the cart loses
     * what was bought, then the parcels open and the order is COMPLETED in one statement. Each part
     * is idempotent, so a retry after a partial run finishes it.
     */
    async confirmOrder(input: {
      orderId: string;
      buyerId: string;
      withVouchers: boolean;
      cartEntries?: CartEntries;
      parcels: { sellerId: string; customerPaid: number; payout: number; shipBy: string }[];
      escrowWorkflowId: string;
    }): Promise<void> {
      if (input.withVouchers) await vouchers.consume(input.orderId);
      await Promise.all([inventory.commit(input.orderId), input.cartEntries ? cart.removeOrdered(input.buyerId, input.cartEntries) : undefined]);
      await orders.completeOrder(input.orderId, input.parcels, input.escrowWorkflowId);
    },
  });
}

export type CheckoutActivities = ReturnType<typeof createCheckoutActivities>;
