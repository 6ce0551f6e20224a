/**
 * Activities only the first release's workflows call (workflows/legacy/): registered until their
 * executions drain, then removed with them (docs/checkout-saga.md, "Changing workflow code").
 * Today's workflows do the same work through the batched activities of checkout.ts and parcel.ts.
 */
import type { CheckoutDeps } from './deps';
import { withFailureBoundary } from './errors';
import { refundParcelMoney } from './parcel';

export function createLegacyActivities(deps: CheckoutDeps) {
  const { orders, inventory, vouchers, payments, ledger } = deps;

  return withFailureBoundary({
    /** One seller's reservation (today: reserveOrderStock, every seller in one call). */
    async reserveStock(input: { orderId: string; sellerId: string; lines: { sku: string; quantity: number }[] }): Promise<void> {
      await inventory.reserve(input.orderId, input.lines, { sellerId: input.sellerId });
    },

    /** One voucher's hold (today: holdOrderVouchers). */
    async holdVoucher(input: { code: string; buyerId: string; orderId: string }): Promise<void> {
      try {
        await vouchers.hold(input.code, input.buyerId, input.orderId);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && code.startsWith('VOUCHER_')) deps.metrics?.voucherLockFailure(code);
        throw err;
      }
    },

    /** Today part of confirmOrder. */
    async commitStock(input: { orderId: string }): Promise<void> {
      await inventory.commit(input.orderId);
    },

    /** Today part of confirmOrder. */
    async consumeVouchers(input: { orderId: string }): Promise<void> {
      await vouchers.consume(input.orderId);
    },

    /** The parcel rows of an order whose parcels each live in a workflow of their own. */
    async createParcels(input: { orderId: string; parcels: { sellerId: string; customerPaid: number; payout: number; shipBy: string }[] }): Promise<void> {
      await orders.createParcels(input.orderId, input.parcels);
    },

    /** Escrow -> seller payable, commission, tax; then the payout transfer when the gateway makes one. */
    async releaseParcelFunds(input: { orderId: string; sellerId: string; payoutMinor: number; currency: string }): Promise<void> {
      await ledger.releaseParcel(input.orderId, input.sellerId);
      if (deps.payoutsEnabled && input.payoutMinor > 0) {
        await payments.payout(input.orderId, input.sellerId, input.payoutMinor);
        await ledger.recordPayoutPaid(input.orderId, input.sellerId);
      }
    },

    /** Today: refundParcelLedger, then payParcelRefund. */
    async refundParcel(input: { orderId: string; sellerId: string; amountMinor: number }): Promise<void> {
      await refundParcelMoney(deps, input);
    },
  });
}

export type LegacyActivities = ReturnType<typeof createLegacyActivities>;
