/**
 * All activities, built from their dependencies by one factory, so the worker wires real services
 * and tests wire whatever they need — no module mocking.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Services } from '../services';
import { createCheckoutActivities } from './checkout';
import type { CheckoutDeps, CheckoutMetrics } from './deps';
import { createLegacyActivities } from './legacy';
import { createParcelActivities } from './parcel';

export interface ActivityDeps {
  pool: Pool;
  redis: Redis;
  services: Services;
  metrics?: CheckoutMetrics;
  /** Pay released parcels out through the gateway (Stripe Connect transfers). */
  payoutsEnabled?: boolean;
}

/** Every activity the worker registers: the checkout saga's, the parcels', and the first release's. */
export function createActivities(deps: ActivityDeps) {
  const { services } = deps;
  const wired: CheckoutDeps = {
    orders: services.orders,
    cart: services.cart,
    pricingSource: services.checkoutPricing,
    inventory: services.inventory,
    vouchers: services.vouchers,
    payments: services.payments,
    ledger: services.ledger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(deps.payoutsEnabled ? { payoutsEnabled: true } : {}),
  };
  return { ...createCheckoutActivities(wired), ...createParcelActivities(wired), ...createLegacyActivities(wired) };
}

export type Activities = ReturnType<typeof createActivities>;
export type { CheckoutActivities } from './checkout';
export type { ParcelActivities } from './parcel';
export type { LegacyActivities } from './legacy';
export type { CheckoutMetrics } from './deps';
