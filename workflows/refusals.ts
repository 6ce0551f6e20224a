/**
 * What both generations of the checkout saga (workflows/checkout.ts, workflows/legacy/checkout-v1.ts)
 * share: business refusals and how an activity's failure maps to one, the payment webhook events
 * the saga collects, and the per-parcel refunds of a charge. Workflow-safe, pure: moving code here
 * changes no command a workflow issues, so recorded histories keep replaying.
 */
import { ActivityFailure, ApplicationFailure, log } from '@temporalio/workflow';
import type { PriceBreakdown } from '../pricing';
import { refusalOfCode, type CheckoutFailure, type CheckoutFailureCode, type PaymentEvent } from '../lib/vocabulary';

/** A refusal decided in the workflow itself (price changed, voucher rejected, payment outcome). */
export class CheckoutRefusal extends Error {
  constructor(readonly failure: CheckoutFailure) {
    super(failure.message);
  }
}

export const refuse = (code: CheckoutFailureCode, message: string, details: Record<string, unknown> = {}): CheckoutRefusal =>
  new CheckoutRefusal({ code, message, details });

/**
 * The ApplicationFailure behind an activity's failure: a regular activity's comes wrapped in an
 * ActivityFailure, a local activity's may come as it is.
 */
export function failureCause(err: unknown): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? cause : undefined;
}

export function failureDetails(err: unknown): Record<string, unknown> {
  const cause = failureCause(err);
  if (cause) {
    const first: unknown = cause.details?.[0];
    return first && typeof first === 'object' ? (first as Record<string, unknown>) : {};
  }
  return {};
}

/** The business refusal an error stands for, or undefined when it is not one. */
export function refusalOf(err: unknown): CheckoutFailure | undefined {
  if (err instanceof CheckoutRefusal) return err.failure;
  const cause = failureCause(err);
  if (!cause?.type) return undefined;
  // A code of the refusal table becomes its failure code; anything else is CHECKOUT_REFUSED. When
  // the two differ, the refusal's own code is kept as the failure's `reason`.
  const code: CheckoutFailureCode = refusalOfCode(cause.type)?.failureCode ?? 'CHECKOUT_REFUSED';
  const known = code === cause.type;
  return { code, message: cause.message, details: { ...failureDetails(err), ...(known ? {} : { reason: cause.type }) } };
}

/** Every short line a stock refusal reports. */
export function shortLinesOf(err: unknown): unknown[] {
  const details = failureDetails(err);
  return Array.isArray(details.lines) ? (details.lines as unknown[]) : [];
}

export type PaymentOutcome = 'succeeded' | 'failed';
export type PaymentEvents = ReturnType<typeof paymentEvents>;

/** Collects payment webhook events: duplicates and out-of-order arrivals change nothing. */
export function paymentEvents() {
  const seen = new Set<string>();
  let outcome: PaymentOutcome | undefined;
  return {
    onEvent: (event: PaymentEvent): void => {
      if (seen.has(event.eventId)) return;
      seen.add(event.eventId);
      // The first terminal event decides; a later contradictory one is logged, not obeyed.
      if (event.type === 'payment.succeeded' || event.type === 'payment.failed') {
        const said: PaymentOutcome = event.type === 'payment.succeeded' ? 'succeeded' : 'failed';
        if (outcome !== undefined && outcome !== said) log.warn('contradictory payment event ignored', { eventId: event.eventId, type: event.type });
        outcome ??= said;
      }
    },
    outcome: (): PaymentOutcome | undefined => outcome,
  };
}

export function parcelRefunds(pricing: PriceBreakdown): { sellerId: string; amountMinor: number }[] {
  return Object.entries(pricing.sellers).map(([sellerId, seller]) => ({ sellerId, amountMinor: seller.customerPaid }));
}
