/**
 * Seller payouts that cannot be made yet: a parcel released while its seller has no connected
 * account. The payout is recorded as `awaiting_account` (payment_payouts), counted in a metric and
 * logged with its order and seller, and the release activity ends with the non-retryable
 * PAYOUT_PENDING refusal, which the parcel records as its problem (the order view shows it) without
 * holding up anything else. Setting the account (PUT /v1/admin/sellers/{sellerId} with
 * stripeAccountId) pays every payout the seller is owed (payments.payPendingPayouts): the same
 * idempotency key `payout:<orderId>:<sellerId>`, then the ledger's payout_paid entry, then the
 * parcel's problem is cleared. A transfer that fails leaves its payout pending with the reason.
 *
 * Why the release activity does not simply succeed: it posts the ledger's payout_paid entry right
 * after payments.payout returns, and no money has moved yet.
 */
import pino, { type Logger } from 'pino';
import { Counter, register as globalRegistry, type Registry } from 'prom-client';
import { BusinessError } from '../../lib/errors';
import type { LedgerService } from '../ledger';
import type { OrdersService } from '../orders';

/** The refusal a release ends with while its seller has no connected account (the parcel's problem code). */
export const payoutPendingCode = 'PAYOUT_PENDING';

export function payoutPending(orderId: string, sellerId: string, amountMinor: number, currency: string): BusinessError {
  return new BusinessError(
    payoutPendingCode,
    `the payout of ${amountMinor} ${currency} to seller ${sellerId} is pending: the seller has no connected account yet; it is paid when one is set`,
    { orderId, sellerId, amountMinor, currency, payoutStatus: 'awaiting_account', reason: 'no_connected_account' },
  );
}

export interface PayoutMetrics {
  /** A payout found its seller without a connected account. */
  awaitingAccount(): void;
  /** An owed payout was paid after its seller's account was set, or its transfer failed again. */
  settledLate(result: 'paid' | 'failed'): void;
}

function counter(registry: Registry, name: string, help: string, labelNames: string[] = []): Counter {
  // One counter per registry however many payments services a process builds (tests build many).
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** Counters on `registry` (default: prom-client's global registry). */
export function createPayoutMetrics(registry: Registry = globalRegistry): PayoutMetrics {
  const awaiting = counter(registry, 'payments_payouts_awaiting_account_total', 'Seller payouts that found the seller without a connected account (payout pending)');
  const late = counter(registry, 'payments_payouts_settled_late_total', 'Pending seller payouts retried once an account was set, by result', ['result']);
  return {
    awaitingAccount: () => awaiting.inc(),
    settledLate: (result) => late.inc({ result }),
  };
}

/** What follows a payout transferred after its release: the ledger entry and the parcel's problem. */
export interface PayoutBooks {
  /** Idempotent: posts payout_paid (seller payable -> PSP clearing) and clears the parcel's PAYOUT_PENDING problem. */
  payoutPaid(orderId: string, sellerId: string): Promise<void>;
}

/** The ledger and the orders read model (the composition root passes its own; services/index.ts). */
export function createPayoutBooks({ ledger, orders }: { ledger: Pick<LedgerService, 'recordPayoutPaid'>; orders: Pick<OrdersService, 'findOrder' | 'setParcelStatus'> }): PayoutBooks {
  return {
    async payoutPaid(orderId, sellerId) {
      await ledger.recordPayoutPaid(orderId, sellerId);
      const order = await orders.findOrder(orderId);
      const parcel = order?.parcels.find((p) => p.sellerId === sellerId);
      if (parcel?.problem?.code === payoutPendingCode) await orders.setParcelStatus(orderId, sellerId, parcel.status, undefined, null);
    },
  };
}

export const defaultPaymentsLogger = (): Logger => pino({ name: 'payments' });
