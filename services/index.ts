/**
 * The composition root of the domain services: one place where they are wired to each other and to
 * their stores, used by the worker, the API and the integration tests alike.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { createCartService } from './cart';
import { createCatalogService } from './catalog';
import { createCheckoutPricing } from './checkout-pricing';
import { createInventoryService } from './inventory';
import { createStockGate } from './inventory/stock-gate';
import { createLedgerService } from './ledger';
import { createOrdersService } from './orders';
import { createPaymentsService } from './payments';
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
}

export function createServices(deps: ServicesDeps) {
  const { pool, redis, gateway, now } = deps;
  // The sold-out gate: refreshed by inventory and catalog stock changes, read by the API's checkout pre-check.
  const stockGate = createStockGate({ pool, redis });
  const catalog = createCatalogService({ pool, stockGate });
  const vouchers = createVoucherService({ pool, redis, ...(now ? { now } : {}), ...(deps.holdTimeoutMs ? { holdTimeoutMs: deps.holdTimeoutMs } : {}) });
  return {
    catalog,
    vouchers,
    stockGate,
    cart: createCartService({ redis, catalog, vouchers, ...(now ? { now } : {}) }),
    inventory: createInventoryService({ pool, stockGate }),
    payments: createPaymentsService({ pool, gateway }),
    ledger: createLedgerService({ pool }),
    orders: createOrdersService({ pool }),
    checkoutPricing: createCheckoutPricing({ catalog, vouchers, ...(now ? { now } : {}) }),
  };
}

export type Services = ReturnType<typeof createServices>;
