/**
 * The parcels' activities (workflows/parcels.ts): status bookkeeping and the two money moves of a
 * parcel, each in its ledger half and its PSP half — release (escrow to the seller, then the
 * payout) and refund (escrow back to the buyer, then the PSP refund, then the restock). A parcel's
 * money moves are final, not undone: a refused one is recorded on the parcel for an operator.
 */
import type { ParcelProblem, ParcelStatus } from '../lib/vocabulary';
import type { CheckoutDeps } from './deps';
import { withFailureBoundary } from './errors';

type ParcelDeps = Pick<CheckoutDeps, 'orders' | 'inventory' | 'payments' | 'ledger' | 'payoutsEnabled'>;

/**
 * Returns a parcel's customerPaid to the buyer. The ledger entry comes first: the ledger is what
 * refuses to refund a parcel already released, so no PSP refund can follow a release.
 */
export async function refundParcelMoney(deps: Pick<ParcelDeps, 'ledger' | 'payments'>, input: { orderId: string; sellerId: string; amountMinor: number }): Promise<void> {
  await deps.ledger.refundParcel(input.orderId, input.sellerId);
  if (input.amountMinor === 0) return; // nothing was paid for this parcel: nothing goes back
  await deps.payments.refund(input.orderId, input.sellerId, input.amountMinor);
  await deps.ledger.recordRefundPaid(input.orderId, input.sellerId);
}

export function createParcelActivities(deps: ParcelDeps) {
  const { orders, inventory, payments, ledger } = deps;

  return withFailureBoundary({
    /** `problem`: a refused money move to record on the parcel (null clears it; absent leaves it). */
    async setParcelStatus(input: { orderId: string; sellerId: string; status: ParcelStatus; autoReleaseAt?: string; problem?: ParcelProblem | null }): Promise<void> {
      await orders.setParcelStatus(input.orderId, input.sellerId, input.status, input.autoReleaseAt, input.problem);
    },

    // ---------------------------------------------------------------- release: ledger, then payout

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

    // ---------------------------------------------------------------- refund: ledger, then PSP, then restock

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

    /** The refunded parcel's units go back on sale. */
    async restockParcel(input: { orderId: string; sellerId: string }): Promise<void> {
      await inventory.restock(input.orderId, input.sellerId);
    },
  });
}

export type ParcelActivities = ReturnType<typeof createParcelActivities>;
