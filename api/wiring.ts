/**
 * Builds the app's ports from the real services (services/index.ts, the composition root shared
 * with the worker). api/main.ts uses it for production and the tests use it with the test
 * database, so both run the same wiring.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Client } from '@temporalio/client';
import { BusinessError, ValidationError } from '../lib/errors';
import { tryPrice, type PriceBreakdown, type PricingInput } from '../pricing';
import type { Registry } from 'prom-client';
import { createServices, type Services } from '../services';
import type { CartService } from '../services/cart';
import type { CheckoutPricing } from '../services/checkout-pricing';
import type { StockGate } from '../services/inventory';
import type { PaymentGateway } from '../services/payments';
import { voucherHoldMsFromEnv } from '../services/vouchers';
import type { AdminPort, AppDeps, CartPort, CheckoutPort, OrdersPort, PaymentsPort } from './deps';
import { createCatalogView } from './catalog-view';
import { withPendingPayouts } from '../services/catalog';

export function wireOrders(pool: Pool, orders: Services['orders']): OrdersPort {
  return {
    getOrder: (orderId) => orders.getOrder(orderId),
    findOrder: (orderId) => orders.findOrder(orderId),
    listOrders: (buyerId, options) => orders.listOrders(buyerId, options),
    listSellerParcels: (sellerId, options) => orders.listSellerParcels(sellerId, options),
    acceptCheckoutRequest: (input) => orders.acceptCheckoutRequest(input),
    checkoutInputOf: (orderId) => orders.checkoutInputOf(orderId),
    findCheckoutRequest: (buyerId, key) => orders.findCheckoutRequest(buyerId, key),
  };
}

export function wirePayments(payments: Services['payments']): PaymentsPort {
  return { signatureHeader: payments.signatureHeader, handleWebhook: (raw, signature) => payments.handleWebhook(raw, signature) };
}

export function wireAdmin(catalog: Services['catalog'], vouchers: Services['vouchers'], payments: Pick<Services['payments'], 'unpaidPayouts'>): AdminPort {
  return {
    putSeller: (sellerId, body) => catalog.upsertSeller(sellerId, body),
    getSeller: async (sellerId) => {
      const seller = await catalog.getSeller(sellerId);
      // The same shape as the PUT's answer.
      return withPendingPayouts(seller, await payments.unpaidPayouts(seller.sellerId));
    },
    putProduct: (sku, body) => catalog.upsertProduct(sku, body),
    getProduct: (sku) => catalog.getProduct(sku),
    putVoucher: (code, body) => vouchers.upsert(code, body),
    getVoucher: (code) => vouchers.get(code),
    putPromotion: (id, body) => catalog.upsertPromotion(id, body),
    putCampaign: (id, body) => catalog.upsertCampaign(id, body),
    putPricingConfig: (body) => catalog.putPricingConfig(body),
  };
}

export function wireCart(cart: CartService): CartPort {
  return {
    get: (userId) => cart.get(userId),
    addItem: (userId, sku, quantity) => cart.addItem(userId, { sku, quantity }),
    setQuantity: (userId, sku, quantity) => cart.setItemQuantity(userId, sku, quantity),
    removeItem: (userId, sku) => cart.removeItem(userId, sku),
    addVoucher: (userId, code) => cart.applyVoucher(userId, code),
    removeVoucher: (userId, code) => cart.removeVoucher(userId, code),
  };
}

/** The engine's breakdown, or a 400 naming what it refused (a cart beyond the amount limits). */
function priceOrRefuse(input: PricingInput): PriceBreakdown {
  const result = tryPrice(input);
  if (result.ok) return result.breakdown;
  const lineOf = (path: string): string | undefined => {
    const index = /^lines\[(\d+)\]/.exec(path)?.[1];
    return index === undefined ? undefined : input.lines[Number(index)]?.sku;
  };
  throw new ValidationError(
    result.error.issues.map((issue) => {
      const sku = lineOf(issue.path);
      return { path: sku === undefined ? 'cart' : `cart.items.${sku}`, message: `the cart cannot be priced: ${issue.message}` };
    }),
  );
}

const isVoucherRefusal = (err: unknown): boolean => err instanceof BusinessError && err.code.startsWith('VOUCHER_');

/**
 * The saga prices with the same CheckoutPricing (through its loadPricingInput activity). The
 * pre-check reads the catalog and voucher definitions (Postgres, in parallel) and the sold-out
 * gate (one Redis HMGET for every sku) at once.
 */
export function wireCheckout(cart: CartService, pricing: CheckoutPricing, stockGate?: Pick<StockGate, 'shortLines'>): CheckoutPort {
  return {
    async precheck(_userId, snapshot) {
      const [input, short] = await Promise.allSettled([
        pricing.buildPricingInput(snapshot.items, snapshot.voucherCodes),
        // Redis unreachable = availability unknown: the saga decides, nothing is refused for it.
        stockGate ? stockGate.shortLines(snapshot.items).catch(() => []) : Promise.resolve([]),
      ]);
      // In the saga's order: a voucher outside its window refuses first, then stock, then pricing.
      if (input.status === 'rejected' && isVoucherRefusal(input.reason)) throw input.reason;
      const shortLines = short.status === 'fulfilled' ? short.value : [];
      if (shortLines.length > 0) {
        const list = shortLines.map((l) => `${l.sku} (requested ${l.requested}, available ${l.available})`).join(', ');
        throw new BusinessError('INSUFFICIENT_STOCK', `not enough stock for ${shortLines.length} line(s): ${list}`, { lines: shortLines });
      }
      if (input.status === 'rejected') throw input.reason;
      return { pricing: priceOrRefuse(input.value), pricingInput: input.value };
    },
    async snapshot(userId) {
      const snapshot = await cart.snapshot(userId);
      return { items: snapshot.lines, voucherCodes: snapshot.vouchers, cartEntries: snapshot.entries };
    },
  };
}

export interface WiringInput {
  pool: Pool;
  redis: Redis;
  temporal: Client;
  gateway: PaymentGateway;
  /** Already built services (the tests share them with their worker); built here otherwise. */
  services?: Services;
  /** The API's metrics registry, for the services' own counters (late payouts). */
  metricsRegistry?: Registry;
}

/** Every port, from the real services. */
export function wireServices(input: WiringInput): Pick<AppDeps, 'temporal' | 'redis' | 'orders' | 'payments' | 'admin' | 'cart' | 'checkout' | 'catalogView'> {
  // VOUCHER_HOLD_MS / PAYMENT_TIMEOUT_MS are checked here too: a bad value stops the API at start-up as it stops the worker.
  const services = input.services ?? createServices({ pool: input.pool, redis: input.redis, gateway: input.gateway, holdTimeoutMs: voucherHoldMsFromEnv(), ...(input.metricsRegistry ? { metricsRegistry: input.metricsRegistry } : {}) });
  return {
    temporal: input.temporal,
    // The checkout rate limit's counters: shared by every API process on this Redis.
    redis: input.redis,
    orders: wireOrders(input.pool, services.orders),
    payments: wirePayments(services.payments),
    admin: wireAdmin(services.catalog, services.vouchers, services.payments),
    cart: wireCart(services.cart),
    checkout: wireCheckout(services.cart, services.checkoutPricing, services.stockGate),
    catalogView: createCatalogView(input.pool),
  };
}
