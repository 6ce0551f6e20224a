/**
 * The catalog a load run needs, written through the admin API (like an operator would) and the
 * inventory service (the bucket layout has no HTTP route): the seed's sellers, the products
 * `lt-a/b/c` (the seed's items under the harness's own skus, stock topped up), the harness's
 * copies of the seed vouchers without usage limits (`LT_X2OFF`, ...), and per scenario a hot sku
 * with limited stock in buckets, or a voucher with total and per-user limits. Carts are filled
 * before the clock starts, never timed.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { demoProducts, demoSellers, demoVouchers, seedIfEmpty } from '../scripts/seed';
import { createInventoryService } from '../services/inventory';
import { expectStatus, type ApiClient } from '../bench/checkout/http';

export const loadSkus = ['lt-a', 'lt-b', 'lt-c'] as const;
const skuOfSeed: Record<string, string> = { 'sku-a': 'lt-a', 'sku-b': 'lt-b', 'sku-c': 'lt-c' };
export const loadVoucher = (code: string): string => `LT_${code}`;

export interface CartSpec {
  items: { sku: string; quantity: number }[];
  vouchers: string[];
}

/** The seed cart (3 sellers, 3 vouchers) on the harness's skus and vouchers. */
export const seedCart: CartSpec = { items: loadSkus.map((sku) => ({ sku, quantity: 1 })), vouchers: Object.keys(demoVouchers).map(loadVoucher) };

async function parallel<T>(items: readonly T[], concurrency: number, each: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await each(item);
  }));
}

/** Sellers, lt-a/b/c with at least `minAvailable` units, LT_ vouchers without limits. */
export async function prepareCatalog(api: ApiClient, deps: { pool: Pool; redis: Redis }, minAvailable: number): Promise<void> {
  await seedIfEmpty(deps);
  const admin = api.token('loadtest-admin', 'admin');
  for (const [sellerId, seller] of Object.entries(demoSellers)) expectStatus(await api.call('PUT', `/v1/admin/sellers/${sellerId}`, admin, seller), 200, `PUT seller ${sellerId}`);
  for (const [seedSku, product] of Object.entries(demoProducts)) {
    const sku = skuOfSeed[seedSku]!;
    const current = await api.call('GET', `/v1/admin/products/${sku}`, admin);
    const stock = current.body as { stock?: { reserved: number; available: number } };
    if (current.status === 200 && (stock.stock?.available ?? 0) >= minAvailable) continue;
    const reserved = current.status === 200 ? (stock.stock?.reserved ?? 0) : 0;
    expectStatus(await api.call('PUT', `/v1/admin/products/${sku}`, admin, { ...product, stock: reserved + 2 * minAvailable }), 200, `PUT product ${sku}`);
  }
  for (const [code, definition] of Object.entries(demoVouchers)) {
    expectStatus(await api.call('PUT', `/v1/admin/vouchers/${loadVoucher(code)}`, admin, { ...definition, totalLimit: null, perUserLimit: null }), 200, `PUT voucher ${loadVoucher(code)}`);
  }
}

/** A hot sku of seller X with `stock` units split over `buckets` rows (the flash-sale layout). */
export async function prepareHotSku(api: ApiClient, pool: Pool, sku: string, stock: number, buckets: number): Promise<void> {
  const admin = api.token('loadtest-admin', 'admin');
  expectStatus(
    await api.call('PUT', `/v1/admin/products/${sku}`, admin, { sellerId: 'seller_x', name: 'Flash-sale earbuds', category: 'electronics', unitPrice: 1000, currency: 'USD', stock }),
    200,
    `PUT product ${sku}`,
  );
  if (buckets > 1) await createInventoryService({ pool }).setBucketCount(sku, buckets);
}

/** A platform voucher (10 % off) with total and per-user limits. */
export async function prepareLimitedVoucher(api: ApiClient, code: string, totalLimit: number, perUserLimit: number): Promise<void> {
  const admin = api.token('loadtest-admin', 'admin');
  expectStatus(
    await api.call('PUT', `/v1/admin/vouchers/${code}`, admin, { scope: 'platform', type: 'percent', rateBps: 1000, maxDiscount: 15000, minSpend: 0, totalLimit, perUserLimit }),
    200,
    `PUT voucher ${code}`,
  );
}

/** Fills each buyer's cart (16 at a time); returns when all are filled. */
export async function fillCarts(api: ApiClient, buyers: readonly string[], cart: CartSpec): Promise<void> {
  await parallel(buyers, 16, async (buyer) => {
    const token = api.token(buyer);
    for (const item of cart.items) expectStatus(await api.call('POST', '/v1/cart/items', token, item), 200, `cart add ${item.sku} (${buyer})`);
    for (const code of cart.vouchers) expectStatus(await api.call('POST', '/v1/cart/vouchers', token, { code }), 200, `cart voucher ${code} (${buyer})`);
  });
}
