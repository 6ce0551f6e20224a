/**
 * What the app needs from the rest of the system, as narrow interfaces ("ports"). api/wiring.ts
 * builds them from the real services; the app itself never constructs a client or a pool, so tests
 * wire real services, a real Temporal client and their own configuration.
 */
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { OrdersService, OrderRecord } from '../services/orders';
import type { PaymentsService } from '../services/payments';
import type { CampaignInput, PricingConfigInput, ProductInput, PromotionInput, SellerInput } from '../services/catalog';
import type { VoucherInputBody } from '../services/vouchers/schemas';
import type { PriceBreakdown, PricingInput } from '../pricing';
import type { CartEntries, CheckoutItem, CheckoutSettings } from '../workflows/contract';
import type { Probes } from './health';
import type { HttpMetrics } from './observability';
import type { AdmissionConfig } from './admission';
import type { CatalogViewPort } from './catalog-view';
import type { DevUser } from './routes/dev';

export interface CartLine {
  sku: string;
  sellerId: string;
  name: string;
  category: string;
  unitPrice: number;
  quantity: number;
}

/** GET /v1/cart (api-contract.md): lines with catalog prices, voucher codes, and the priced breakdown. */
export interface CartView {
  userId: string;
  items: CartLine[];
  vouchers: string[];
  /** null for an empty cart. */
  pricing: PriceBreakdown | null;
}

export interface CartPort {
  get(userId: string): Promise<CartView>;
  addItem(userId: string, sku: string, quantity: number): Promise<CartView>;
  setQuantity(userId: string, sku: string, quantity: number): Promise<CartView>;
  removeItem(userId: string, sku: string): Promise<CartView>;
  /** Throws a 422 BusinessError VOUCHER_* when the voucher cannot be applied. */
  addVoucher(userId: string, code: string): Promise<CartView>;
  removeVoucher(userId: string, code: string): Promise<CartView>;
}

export interface CheckoutSnapshot {
  items: CheckoutItem[];
  voucherCodes: string[];
  /** The cart entries behind the snapshot, removed from the cart when the order completes. */
  cartEntries?: CartEntries;
}

export interface CheckoutPort {
  /** The caller's cart as the checkout saga gets it. */
  snapshot(userId: string): Promise<CheckoutSnapshot>;
  /**
   * Refuses, before anything is written, what the saga would refuse anyway and can be known now:
   * a voucher outside its window (422 VOUCHER_EXPIRED / VOUCHER_NOT_STARTED / VOUCHER_NOT_FOUND,
   * the first in cart order), a line known to be sold out from the Redis gate (422
   * INSUFFICIENT_STOCK, details.lines: every short line; unknown availability never refuses), a
   * cart the engine cannot price (400 VALIDATION_FAILED naming the lines). Otherwise returns the
   * snapshot's price exactly as the saga will compute it (for PRICE_CHANGED), with the pricing
   * input it was computed from (handed to the saga, which then prices without loading it again).
   */
  precheck(userId: string, snapshot: CheckoutSnapshot): Promise<{ pricing: PriceBreakdown; pricingInput: PricingInput }>;
}

/** Catalog administration of api-contract.md; bodies arrive validated by the API's schemas. */
export interface AdminPort {
  putSeller(sellerId: string, body: SellerInput): Promise<unknown>;
  /** The seller with its connected account and the payouts it is still owed. */
  getSeller(sellerId: string): Promise<unknown>;
  putProduct(sku: string, body: ProductInput): Promise<unknown>;
  getProduct(sku: string): Promise<unknown>;
  putVoucher(code: string, body: VoucherInputBody): Promise<unknown>;
  getVoucher(code: string): Promise<unknown>;
  putPromotion(id: string, body: PromotionInput): Promise<unknown>;
  putCampaign(id: string, body: CampaignInput): Promise<unknown>;
  putPricingConfig(body: PricingConfigInput): Promise<unknown>;
}

/** An order found by its buyer's idempotency key, with the hash of the request that made it. */
export interface CheckoutRequestRecord {
  order: OrderRecord;
  requestHash: string | null;
}

export interface OrdersPort extends Pick<OrdersService, 'getOrder' | 'findOrder' | 'listOrders' | 'listSellerParcels' | 'acceptCheckoutRequest' | 'checkoutInputOf'> {
  /** The order a buyer's idempotency key made, without creating anything. */
  findCheckoutRequest(buyerId: string, idempotencyKey: string): Promise<CheckoutRequestRecord | undefined>;
}

export type PaymentsPort = Pick<PaymentsService, 'handleWebhook' | 'signatureHeader'>;

export interface ApiConfig {
  jwtSecret: string;
  taskQueue: string;
  /** How long POST /v1/checkouts waits for the saga to settle before answering 202. */
  checkoutWaitMs: number;
  /**
   * Per-user checkout requests allowed per window (429 beyond). With `AppDeps.redis` the counters
   * are shared by every API process on that Redis, under keys `<prefix><userId>` (default prefix
   * `rl:checkout:`; environments sharing one Redis database need prefixes of their own).
   */
  checkoutRateLimit: { limit: number; windowMs: number; prefix?: string };
  /**
   * Serve `/metrics` on this port, on a small server of its own (api/main.ts), and NOT on the API
   * port; undefined: `/metrics` is served by the app itself.
   */
  metricsPort?: number;
  /** Largest accepted JSON body (bytes); larger is 413. */
  bodyLimitBytes: number;
  /** Deadline of one workflow query (order saga progress) before falling back to the database. */
  queryTimeoutMs: number;
  /**
   * Saga periods passed to every checkout (payment webhook wait, ship-by, auto-release); absent
   * ones take the workflow's defaults (15 minutes, 3 days, 7 days).
   */
  checkoutSettings?: Partial<CheckoutSettings>;
  /**
   * Admission control of POST /v1/checkouts (api/admission.ts): in-flight limit per process, optional
   * shared token bucket; what is given overrides the environment's (admissionConfigFromEnv).
   */
  admission?: Partial<AdmissionConfig>;
  /** Who the dev sign-in (`/v1/dev/*`, never with NODE_ENV=production) offers; default: the seed's demo users. */
  devUsers?: readonly DevUser[];
}

export const apiDefaults = {
  checkoutWaitMs: 2000,
  checkoutRateLimit: { limit: 30, windowMs: 60_000, prefix: 'rl:checkout:' },
  bodyLimitBytes: 64 * 1024,
  queryTimeoutMs: 1500,
} as const;

/**
 * The app mounts the routes whose dependencies it is given: health alone needs only probes; the
 * order routes need `orders` and `temporal`; checkout needs those and `checkout`; and so on.
 * Production (api/main.ts) wires everything.
 */
export interface AppDeps {
  probes: Probes;
  /** Defaults: apiDefaults, and JWT_SECRET / TEMPORAL_TASK_QUEUE from the environment (lib/config.ts). */
  config?: Partial<ApiConfig>;
  /** Default: a silent logger. */
  logger?: Logger;
  /** Default: a fresh registry per app. */
  metrics?: HttpMetrics;
  temporal?: Client;
  /** The shared store of the checkout rate limit; absent: counters in this process's memory. */
  redis?: Redis;
  orders?: OrdersPort;
  payments?: PaymentsPort;
  cart?: CartPort;
  checkout?: CheckoutPort;
  admin?: AdminPort;
  /** The storefront's public catalog read (GET /v1/products). */
  catalogView?: CatalogViewPort;
}
