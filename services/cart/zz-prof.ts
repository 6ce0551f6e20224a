import { closeTestHandles, testPool, testRedis, uniqueId } from '../../test/support/env';
import { createServices } from '../index';
async function main() {
  const pool = testPool(); const redis = testRedis();
  const s = createServices({ pool, redis, gateway: {} as never });
  const id = uniqueId('p').slice(2);
  await s.catalog.upsertSeller('ps_'+id, { name: 'x', shippingFee: 300 });
  const skus = ['a','b','c'].map(x => `sku-${x}-${id}`);
  for (const sku of skus) await s.catalog.upsertProduct(sku, { sellerId: 'ps_'+id, name: 'n', category: 'c', unitPrice: 1000, currency: 'USD', stock: 100 });
  const t = async (name: string, fn: () => Promise<unknown>) => { for (let i=0;i<100;i++) await fn(); const c0 = process.cpuUsage(); const xs: number[] = []; for (let i=0;i<500;i++){ const st=process.hrtime.bigint(); await fn(); xs.push(Number(process.hrtime.bigint()-st)/1e6);} const c = process.cpuUsage(c0); xs.sort((a,b)=>a-b); console.log(name.padEnd(22), 'p50', xs[250]!.toFixed(3), 'p99', xs[495]!.toFixed(3), 'cpu', ((c.user+c.system)/1000/500).toFixed(3)); };
  await t('loadPricingData', () => s.catalog.loadPricingData(skus));
  await t('old: products+3', async () => { await pool.query('SELECT p.sku, p.seller_id, p.name, p.category, p.unit_price_minor, p.currency, s.shipping_fee_minor FROM products p JOIN sellers s ON s.seller_id = p.seller_id WHERE p.sku = ANY ($1::text[])', [skus]); await Promise.all([pool.query('SELECT 1 FROM seller_promotions WHERE active AND seller_id = ANY ($1::text[]) ORDER BY position', [['x']]), pool.query('SELECT 1 FROM category_campaigns WHERE active ORDER BY position'), pool.query('SELECT * FROM pricing_config')]); });
  const user = 'pu_'+id;
  await s.cart.addItem(user, { sku: skus[0]!, quantity: 1 });
  await t('cart.addItem', () => s.cart.addItem(user, { sku: skus[1]!, quantity: 1 }));
  await t('cart.get', () => s.cart.get(user));
  await closeTestHandles();
}
void main();
