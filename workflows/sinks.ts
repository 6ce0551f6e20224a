/**
 * Sinks: how workflow code reports metrics to the worker's Prometheus registry. Sink calls are not
 * replayed, so a counter moves once per real event, not once per replay.
 */
import type { Sinks } from '@temporalio/workflow';

export interface CheckoutSinks extends Sinks {
  metrics: {
    checkoutFinished(status: 'COMPLETED' | 'FAILED', durationMs: number): void;
    compensationRan(compensation: string): void;
    /** A parcel's refund or payout was refused by its counterparty; the parcel waits for an operator. */
    parcelMoneyMoveRefused(action: string, code: string): void;
  };
}
