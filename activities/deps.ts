/**
 * What the activities need from the services: narrow ports, so each activity names exactly the
 * operations it calls and tests can wire whatever they need — no module mocking.
 */
import type { PricingInput } from '../pricing';
import type { InventoryService } from '../services/inventory';
import type { LedgerService } from '../services/ledger';
import type { OrdersService } from '../services/orders';
import type { PaymentsService } from '../services/payments';
import type { CartEntries } from '../services/cart';
import type { CheckoutItem } from '../lib/vocabulary';

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
