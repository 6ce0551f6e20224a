/**
 * The checkout saga's activities: one function per side effect, each idempotent by business ids
 * (order, seller, voucher code) enforced by the services' unique keys, each next to its undo.
 * Thin adapters: the logic lives in services/.
 */
import type { PricingInput, PriceBreakdown } from '../pricing';
import type { InventoryService } from '../services/inventory';
import { ledgerKeys, type LedgerService } from '../services/ledger';
import type { OrdersService } from '../services/orders';
import type { PaymentsService } from '../services/payments';
import type { CartEntries } from '../services/cart';
import type { CheckoutFailure, CheckoutItem, OrderStatus, ParcelProblem, ParcelStatus } from '../workflows/contract';
import { AppError, BusinessError } from '../lib/errors';
import { withFailureBoundary } from './errors';

/** What the saga needs from the catalog: the pricing input for a cart snapshot, with catalog prices. */
export interface PricingSource {
  buildPricingInput(items: readonly CheckoutItem[], voucherCodes: readonly string[]): Promise<PricingInput>;
}

/** What the saga needs from the voucher service. */
export interface VoucherHolds {
  hold(code: string, userId: string, orderId: string): Promise<unknown>;
  consume(orderId: string): Promise<unknown>;
  release(orderId: string): Promise<unknown>;
}

export interface CheckoutMetrics {
  voucherLockFailure(reason: string): void;
}

/** What the saga needs from the cart: removing what an order bought once it completes. */
export interface OrderedCartEntries {
  removeOrdered(userId: string, entries: CartEntries): Promise<unknown>;
}

export interface CheckoutDeps {
  orders: OrdersService;
  cart: OrderedCartEntries;
  pricingSource: PricingSource;
  inventory: Pick<InventoryService, 'reserve' | 'release' | 'commit' | 'restock'>;
  vouchers: VoucherHolds;
  payments: Pick<PaymentsService, 'charge' | 'refund' | 'getPayment' | 'payout' | 'settleOrCancel'>;
  ledger: Pick<LedgerService, 'createEscrow' | 'releaseParcel' | 'refundParcel' | 'recordRefundPaid' | 'recordPayoutPaid' | 'getEntry'>;
  /** Whether released parcels are paid out to the seller's connected account (the Stripe gateway). */
  payoutsEnabled?: boolean;
  metrics?: CheckoutMetrics;
}

/** Waits for every call; the failures, in call order. */
async function failuresOf(calls: Promise<unknown>[]): Promise<Error[]> {
  const results = await Promise.allSettled(calls);
  return results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => (r.reason instanceof Error ? r.reason : new Error(String(r.reason))));
}

export function createCheckoutActivities(deps: CheckoutDeps) {
  const { orders, cart, pricingSource, inventory, vouchers, payments, ledger } = deps;

  async function refundParcelMoney(input: { orderId: string; sellerId: string; amountMinor: number }): Promise<void> {
    await ledger.refundParcel(input.orderId, input.sellerId);
    if (input.amountMinor === 0) return; // nothing was paid for this parcel: nothing goes back
    await payments.refund(input.orderId, input.sellerId, input.amountMinor);
    await ledger.recordRefundPaid(input.orderId, input.sellerId);
  }

  return withFailureBoundary({
    async loadPricingInput(input: { items: CheckoutItem[]; voucherCodes: string[] }): Promise<PricingInput> {
      return pricingSource.buildPricingInput(input.items, input.voucherCodes);
    },

    async recordOrder(input: { orderId: string; buyerId: string; pricing: PriceBreakdown }): Promise<void> {
      await orders.recordOrder(input);
    },

    async setOrderStatus(input: { orderId: string; buyerId: string; status: OrderStatus; failure?: CheckoutFailure }): Promise<OrderStatus> {
      return orders.setStatus(input.orderId, input.buyerId, input.status, input.failure);
    },

    async reserveStock(input: { orderId: string; sellerId: string; lines: { sku: string; quantity: number }[] }): Promise<void> {
      await inventory.reserve(input.orderId, input.lines);
    },

    /**
     * Reserves every seller's lines of an order, each seller's in its own atomic, idempotent call
     * (per (order, sku)), all at once: one local activity for the whole order instead of one per
     * seller. Every short line of every seller is reported in one INSUFFICIENT_STOCK; a transient
     * failure of any seller is thrown as it is (the retry repeats only what is not done yet).
     */
    async reserveOrderStock(input: { orderId: string; sellers: { sellerId: string; lines: { sku: string; quantity: number }[] }[] }): Promise<void> {
      const failures = await failuresOf(input.sellers.map((seller) => inventory.reserve(input.orderId, seller.lines)));
      if (failures.length === 0) return;
      const isShortage = (err: Error): boolean => err instanceof AppError && err.code === 'INSUFFICIENT_STOCK';
      const other = failures.find((err) => !isShortage(err));
      if (other !== undefined) throw other;
      const lines = failures.flatMap((err) => ((err as AppError).details.lines as unknown[] | undefined) ?? []);
      throw new BusinessError('INSUFFICIENT_STOCK', `not enough stock for ${lines.length} line(s)`, { lines });
    },

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

    /** Undo of reserveStock: returns every reserved unit of the order (a no-op when none). */
    async releaseStock(input: { orderId: string }): Promise<void> {
      await inventory.release(input.orderId);
    },

    async holdVoucher(input: { code: string; buyerId: string; orderId: string }): Promise<void> {
      try {
        await vouchers.hold(input.code, input.buyerId, input.orderId);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && code.startsWith('VOUCHER_')) deps.metrics?.voucherLockFailure(code);
        throw err;
      }
    },

    /** Undo of holdVoucher: frees every hold of the order (a no-op when none). */
    async releaseVouchers(input: { orderId: string }): Promise<void> {
      await vouchers.release(input.orderId);
    },

    async chargePayment(input: { orderId: string; amountMinor: number; currency: string; token: string }): Promise<{ status: 'succeeded' | 'processing'; paymentId: string | null }> {
      const result = await payments.charge(input.orderId, input.amountMinor, input.currency, input.token);
      return { status: result.status, paymentId: result.paymentId };
    },

    /**
     * Undo of chargePayment: refunds what was captured, per seller parcel (the refunds sum to the
     * grand total). A payment still processing is cancelled at the PSP; should it have succeeded
     * meanwhile (the cancel is refused), it is refunded like any other.
     */
    async refundCharge(input: { orderId: string; parcels: { sellerId: string; amountMinor: number }[] }): Promise<{ refundedMinor: number }> {
      // A payment still pending at the PSP is cancelled there; one that settled meanwhile is refunded.
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

    async createEscrow(input: { orderId: string; pricing: PriceBreakdown }): Promise<void> {
      await ledger.createEscrow(input.orderId, input.pricing);
    },

    async commitStock(input: { orderId: string }): Promise<void> {
      await inventory.commit(input.orderId);
    },

    async consumeVouchers(input: { orderId: string }): Promise<void> {
      await vouchers.consume(input.orderId);
    },

    /** Legacy (workflows/legacy/checkout-v1.ts): its parcels each live in a workflow of their own. */
    async createParcels(input: { orderId: string; parcels: { sellerId: string; customerPaid: number; payout: number; shipBy: string }[] }): Promise<void> {
      await orders.createParcels(input.orderId, input.parcels);
    },

    /** `problem`: a refused money move to record on the parcel (null clears it; absent leaves it). */
    async setParcelStatus(input: { orderId: string; sellerId: string; status: ParcelStatus; autoReleaseAt?: string; problem?: ParcelProblem | null }): Promise<void> {
      await orders.setParcelStatus(input.orderId, input.sellerId, input.status, input.autoReleaseAt, input.problem);
    },

    /**
     * The payment wait ran out: asks the PSP what became of the payment, and cancels it there when
     * it is still pending. `succeeded` means the order can complete without its webhook.
     */
    async settleOrCancelPayment(input: { orderId: string }): Promise<{ status: 'succeeded' | 'canceled' | 'failed' | 'none' }> {
      const result = await payments.settleOrCancel(input.orderId);
      return { status: result.status };
    },

    /** Escrow -> seller payable, commission, tax (the ledger half of a release). */
    async releaseParcelLedger(input: { orderId: string; sellerId: string }): Promise<void> {
      await ledger.releaseParcel(input.orderId, input.sellerId);
    },

    /** The payout half of a release, when the gateway pays sellers out (Stripe Connect transfers). */
    async payParcelPayout(input: { orderId: string; sellerId: string; payoutMinor: number }): Promise<void> {
      if (!deps.payoutsEnabled || input.payoutMinor <= 0) return;
      await payments.payout(input.orderId, input.sellerId, input.payoutMinor);
      await ledger.recordPayoutPaid(input.orderId, input.sellerId);
    },

    /** The ledger half of a parcel refund: escrow back to what the buyer is owed. Refuses after a release. */
    async refundParcelLedger(input: { orderId: string; sellerId: string }): Promise<void> {
      await ledger.refundParcel(input.orderId, input.sellerId);
    },

    /** The PSP half of a parcel refund: pays back what the ledger owes the buyer. */
    async payParcelRefund(input: { orderId: string; sellerId: string; amountMinor: number }): Promise<void> {
      if (input.amountMinor === 0) return;
      await payments.refund(input.orderId, input.sellerId, input.amountMinor);
      await ledger.recordRefundPaid(input.orderId, input.sellerId);
    },

    /** Escrow -> seller payable, commission, tax; then the payout transfer when the gateway makes one. */
    async releaseParcelFunds(input: { orderId: string; sellerId: string; payoutMinor: number; currency: string }): Promise<void> {
      await ledger.releaseParcel(input.orderId, input.sellerId);
      if (deps.payoutsEnabled && input.payoutMinor > 0) {
        await payments.payout(input.orderId, input.sellerId, input.payoutMinor);
        await ledger.recordPayoutPaid(input.orderId, input.sellerId);
      }
    },

    /**
     * Returns a parcel's customerPaid to the buyer. The ledger entry comes first: the ledger is what
     * refuses to refund a parcel already released, so no PSP refund can follow a release.
     */
    async refundParcel(input: { orderId: string; sellerId: string; amountMinor: number }): Promise<void> {
      await refundParcelMoney(input);
    },

    /**
     * Undo of createEscrow: every parcel's escrow goes back to the buyer (ledger and PSP refund).
     * A no-op when the escrow was never created; the charge's own undo then finds the refunds done.
     */
    async refundEscrow(input: { orderId: string; parcels: { sellerId: string; amountMinor: number }[] }): Promise<void> {
      if (!(await ledger.getEntry(ledgerKeys.escrow(input.orderId)))) return;
      for (const parcel of input.parcels) await refundParcelMoney({ orderId: input.orderId, ...parcel });
    },

    async restockParcel(input: { orderId: string; sellerId: string }): Promise<void> {
      await inventory.restock(input.orderId, input.sellerId);
    },
  });
}

export type CheckoutActivities = ReturnType<typeof createCheckoutActivities>;
