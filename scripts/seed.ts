/**
 * Demo data: the product brief's scenario (pricing-spec.md §5). Sellers X, Y and Z with shipping
 * fees $3, $3 and $5; an electronics item ($10, X), a clothing item ($20, Y) and a book ($50, Z);
 * the vouchers "10 % off total" (VOUCHER10), "$2 off electronics" of seller X (X2OFF) and free
 * shipping (FREESHIP); tax 10 % and commission 5 %. With all three items and all three vouchers the
 * grand total is 7722 minor units ($77.22).
 *
 * `npm run seed` writes it (every write is an upsert: running it again resets the demo stock) and
 * prints a ready-to-paste curl walkthrough with tokens signed by the configured JWT_SECRET.
 * `seedIfEmpty` does the same only on a database without sellers (for `npm start`).
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { loadConfig } from '../lib/config';
import { createRedis } from '../lib/redis';
import { createCatalogService, type PricingConfigInput, type ProductInput, type SellerInput } from '../services/catalog';
import { createVoucherService, type VoucherInputBody } from '../services/vouchers';
import { signToken } from '../api/auth';
import { createPool } from '../db/pool';

export const demoSellers: Record<string, SellerInput> = {
  seller_x: { name: 'Seller X (electronics)', shippingFee: 300 },
  seller_y: { name: 'Seller Y (clothing)', shippingFee: 300 },
  seller_z: { name: 'Seller Z (books)', shippingFee: 500 },
};

/** The brief's items; 100 units each, so the walkthrough can run many times. */
export const demoStockUnits = 100;

export const demoProducts: Record<string, ProductInput> = {
  'sku-a': { sellerId: 'seller_x', name: 'Wireless earbuds', category: 'electronics', unitPrice: 1000, currency: 'USD', stock: demoStockUnits },
  'sku-b': { sellerId: 'seller_y', name: 'Cotton T-shirt', category: 'clothing', unitPrice: 2000, currency: 'USD', stock: demoStockUnits },
  'sku-c': { sellerId: 'seller_z', name: 'Hardcover novel', category: 'books', unitPrice: 5000, currency: 'USD', stock: demoStockUnits },
};

export const demoVouchers: Record<string, VoucherInputBody> = {
  VOUCHER10: { scope: 'platform', type: 'percent', rateBps: 1000, maxDiscount: 15000, minSpend: 0 },
  X2OFF: { scope: 'seller', sellerId: 'seller_x', category: 'electronics', type: 'fixed', amount: 200, minSpend: 0 },
  FREESHIP: { scope: 'shipping', type: 'free_shipping', maxDiscount: null, minSpend: 0 },
};

export const demoPricingConfig: PricingConfigInput = { defaultTaxRateBps: 1000, taxRatesBps: {}, defaultCommissionBps: 500, commissionRatesBps: {} };

/** The grand total of the walkthrough's cart (pricing-spec.md §5). */
export const demoGrandTotalMinor = 7722;

export interface SeedDeps {
  pool: Pool;
  redis: Redis;
}

/** Writes the demo scenario (idempotent upserts). */
export async function seed(deps: SeedDeps): Promise<void> {
  const catalog = createCatalogService({ pool: deps.pool });
  const vouchers = createVoucherService({ pool: deps.pool, redis: deps.redis });
  for (const [sellerId, seller] of Object.entries(demoSellers)) await catalog.upsertSeller(sellerId, seller);
  for (const [sku, product] of Object.entries(demoProducts)) await catalog.upsertProduct(sku, product);
  for (const [code, voucher] of Object.entries(demoVouchers)) await vouchers.upsert(code, voucher);
  await catalog.putPricingConfig(demoPricingConfig);
}

/** Seeds only a database that has no seller yet; true when it seeded. */
export async function seedIfEmpty(deps: SeedDeps): Promise<boolean> {
  const { rows } = await deps.pool.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM sellers) AS any');
  if (rows[0]?.any) return false;
  await seed(deps);
  return true;
}

/** A ready-to-paste shell walkthrough of the whole journey against a running API. */
export function walkthrough(options: { apiUrl: string; jwtSecret: string; buyerId?: string }): string {
  const validity = '30d';
  const buyer = signToken({ sub: options.buyerId ?? 'demo-buyer', role: 'buyer' }, options.jwtSecret, validity);
  const sellerX = signToken({ sub: 'demo-seller-x', role: 'seller', sellerId: 'seller_x' }, options.jwtSecret, validity);
  const admin = signToken({ sub: 'demo-admin', role: 'admin' }, options.jwtSecret, validity);
  const json = `-H 'Content-Type: application/json'`;
  return `
# Demo walkthrough (tokens valid for 30 days, signed with this JWT_SECRET). Needs curl and jq.
export API=${options.apiUrl}
export BUYER='${buyer}'
export SELLER_X='${sellerX}'
export ADMIN='${admin}'
auth() { echo "Authorization: Bearer $1"; }

# 1. Fill the cart: one item from each seller, then the three vouchers.
curl -s -X POST "$API/v1/cart/items" -H "$(auth $BUYER)" ${json} -d '{"sku":"sku-a","quantity":1}' > /dev/null
curl -s -X POST "$API/v1/cart/items" -H "$(auth $BUYER)" ${json} -d '{"sku":"sku-b","quantity":1}' > /dev/null
curl -s -X POST "$API/v1/cart/items" -H "$(auth $BUYER)" ${json} -d '{"sku":"sku-c","quantity":1}' > /dev/null
for code in X2OFF VOUCHER10 FREESHIP; do
  curl -s -X POST "$API/v1/cart/vouchers" -H "$(auth $BUYER)" ${json} -d "{\\"code\\":\\"$code\\"}" > /dev/null
done
curl -s "$API/v1/cart" -H "$(auth $BUYER)" | jq '.pricing.totals'     # grandTotal ${demoGrandTotalMinor} ($77.22)

# 2. Check out (idempotent: run it twice with the same key, you get the same order).
KEY=demo-$(date +%s)
curl -s -i -X POST "$API/v1/checkouts" -H "$(auth $BUYER)" -H "Idempotency-Key: $KEY" ${json} \\
  -d '{"paymentMethod":{"token":"tok_visa"},"expectedGrandTotal":${demoGrandTotalMinor}}'
ORDER=$(curl -s -X POST "$API/v1/checkouts" -H "$(auth $BUYER)" -H "Idempotency-Key: $KEY" ${json} \\
  -d '{"paymentMethod":{"token":"tok_visa"},"expectedGrandTotal":${demoGrandTotalMinor}}' | jq -r .orderId)
curl -s "$API/v1/orders/$ORDER" -H "$(auth $BUYER)" | jq '{status, parcels, saga}'

# 3. Seller X ships, logistics (admin) delivers, the buyer confirms: X's parcel is RELEASED.
curl -s -X POST "$API/v1/orders/$ORDER/parcels/seller_x/ship" -H "$(auth $SELLER_X)" | jq .status
curl -s -X POST "$API/v1/orders/$ORDER/parcels/seller_x/deliver" -H "$(auth $ADMIN)" | jq .status
curl -s -X POST "$API/v1/orders/$ORDER/parcels/seller_x/confirm-receipt" -H "$(auth $BUYER)" | jq .status

# 4. The buyer refunds seller Y's parcel (before it was released).
curl -s -X POST "$API/v1/orders/$ORDER/parcels/seller_y/refund" -H "$(auth $BUYER)" ${json} -d '{"reason":"wrong size"}' | jq .status

# 5. Stock and voucher usage as the admin sees them; the saga in the Temporal Web UI.
curl -s "$API/v1/admin/products/sku-a" -H "$(auth $ADMIN)" | jq .stock
curl -s "$API/v1/admin/vouchers/VOUCHER10" -H "$(auth $ADMIN)" | jq .usage
curl -s "$API/v1/orders" -H "$(auth $BUYER)" | jq '.orders[] | {orderId, status}'
`;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const pool = createPool(config.databaseUrl);
  const redis = createRedis(config.redisUrl, 'checkout-seed');
  try {
    await seed({ pool, redis });
    console.log(`Seeded the demo scenario into ${config.databaseUrl.replace(/\/\/[^@]*@/, '//')}: sellers ${Object.keys(demoSellers).join(', ')}; products ${Object.keys(demoProducts).join(', ')}; vouchers ${Object.keys(demoVouchers).join(', ')}; tax 10 %, commission 5 %.`);
    console.log(walkthrough({ apiUrl: `http://localhost:${config.port}`, jwtSecret: config.jwtSecret }));
  } finally {
    await pool.end();
    redis.disconnect();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error('seed failed:', err);
    process.exit(1);
  });
}
