/**
 * Builds the app's ports from the real services (services/index.ts, the composition root shared
 * with the worker). api/main.ts uses it for production and the tests use it with the test
 * database, so both run the same wiring.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Client } from '@temporalio/client';
import { price } from '../pricing';
import { createServices, type Services } from '../services';
import type { CartService } from '../services/cart';
import type { CheckoutPricing } from '../services/checkout-pricing';
import type { PaymentGateway } from '../services/payments';
import type { AdminPort, AppDeps, CartPort, CheckoutPort, OrdersPort, PaymentsPort } from './deps';

export function wireOrders(pool: Pool, orders: Services['orders']): OrdersPort {
  return {
    getOrder: (orderId) => orders.getOrder(orderId),
    findOrder: (orderId) => orders.findOrder(orderId),
    listOrders: (buyerId, options) => orders.listOrders(buyerId, options),
    acceptCheckoutRequest: (input) => orders.acceptCheckoutRequest(input),
    findCheckoutRequest: (buyerId, key) => orders.findCheckoutRequest(buyerId, key),
  };
}

export function wirePayments(payments: Services['payments']): PaymentsPort {
  return { signatureHeader: payments.signatureHeader, handleWebhook: (raw, signature) => payments.handleWebhook(raw, signature) };
}

export function wireAdmin(catalog: Services['catalog'], vouchers: Services['vouchers']): AdminPort {
  return {
    putSeller: (sellerId, body) => catalog.upsertSeller(sellerId, body),
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

/** The saga prices with the same CheckoutPricing (through its loadPricingInput activity). */
export function wireCheckout(cart: CartService, pricing: CheckoutPricing): CheckoutPort {
  return {
    async snapshot(userId) {
      const snapshot = await cart.snapshot(userId);
      return { items: snapshot.lines, voucherCodes: snapshot.vouchers };
    },
    async quote(_userId, snapshot) {
      return price(await pricing.buildPricingInput(snapshot.items, snapshot.voucherCodes));
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
}

/** Every port, from the real services. */
export function wireServices(input: WiringInput): Pick<AppDeps, 'temporal' | 'orders' | 'payments' | 'admin' | 'cart' | 'checkout'> {
  const services = input.services ?? createServices({ pool: input.pool, redis: input.redis, gateway: input.gateway });
  return {
    temporal: input.temporal,
    orders: wireOrders(input.pool, services.orders),
    payments: wirePayments(services.payments),
    admin: wireAdmin(services.catalog, services.vouchers),
    cart: wireCart(services.cart),
    checkout: wireCheckout(services.cart, services.checkoutPricing),
  };
}
