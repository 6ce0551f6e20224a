/**
 * The composition root of the domain services: one place where they are wired to each other and to
 * their stores, used by the worker, the API and the integration tests alike.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { createCartService } from './cart';
import { createCatalogService } from './catalog';
import { createCheckoutPricing } from './checkout-pricing';
import { createInventoryService, createStockGate } from './inventory';
import { createLedgerService } from './ledger';
import { createOrdersService } from './orders';
import { createPaymentsService, createPayoutBooks, createPayoutMetrics } from './payments';
import type { PaymentGateway } from './payments';
import { createVoucherService } from './vouchers';

export interface ServicesDeps {
  pool: Pool;
  redis: Redis;
  gateway: PaymentGateway;
  /** The clock for voucher windows and hold expiry; injectable for tests. */
  now?: () => Date;
  /** How long an unconsumed voucher hold lasts; must exceed the saga's payment timeout (processes pass voucherHoldMsFromEnv()). */
  holdTimeoutMs?: number;
  /** The process's metrics registry (its /metrics); default: prom-client's global registry. */
  metricsRegistry?: Registry;
}

export function createServices(deps: ServicesDeps) {
  const { pool, redis, gateway, now } = deps;
  // The sold-out gate: refreshed by inventory and catalog stock changes, read by the API's checkout pre-check.
  const stockGate = createStockGate({ pool, redis });
  const ledger = createLedgerService({ pool });
  const orders = createOrdersService({ pool });
  const payments = createPaymentsService({
    pool,
    gateway,
    // A payout paid late is booked in this composition's ledger and orders services.
    books: createPayoutBooks({ ledger, orders }),
    ...(deps.metricsRegistry ? { metrics: createPayoutMetrics(deps.metricsRegistry) } : {}),
  });
  // A seller given a connected account is paid what it is owed at once (payouts that found it without one).
  const catalog = createCatalogService({ pool, stockGate, sellerPayouts: (sellerId) => payments.payPendingPayouts(sellerId) });
  const vouchers = createVoucherService({ pool, redis, ...(now ? { now } : {}), ...(deps.holdTimeoutMs ? { holdTimeoutMs: deps.holdTimeoutMs } : {}) });
  return {
    catalog,
    vouchers,
    stockGate,
    cart: createCartService({ redis, catalog, vouchers, ...(now ? { now } : {}) }),
    inventory: createInventoryService({ pool, stockGate }),
    payments,
    ledger,
    orders,
    checkoutPricing: createCheckoutPricing({ catalog, vouchers, ...(now ? { now } : {}) }),
  };
}

export type Services = ReturnType<typeof createServices>;
