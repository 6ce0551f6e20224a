/**
 * All activities, built from their dependencies by one factory, so the worker wires real services
 * and tests wire whatever they need — no module mocking.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Services } from '../services';
import { createCheckoutActivities, type CheckoutMetrics } from './checkout';
import { createPingActivities } from './ping';

export interface ActivityDeps {
  pool: Pool;
  redis: Redis;
  services: Services;
  metrics?: CheckoutMetrics;
  /** Pay released parcels out through the gateway (Stripe Connect transfers). */
  payoutsEnabled?: boolean;
}

export function createActivities(deps: ActivityDeps) {
  const { services } = deps;
  return {
    ...createPingActivities(deps),
    ...createCheckoutActivities({
      orders: services.orders,
      cart: services.cart,
      pricingSource: services.checkoutPricing,
      inventory: services.inventory,
      vouchers: services.vouchers,
      payments: services.payments,
      ledger: services.ledger,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(deps.payoutsEnabled ? { payoutsEnabled: true } : {}),
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
