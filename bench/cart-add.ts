/**
 * Cart add latency: `npm run bench:cart-add` (the stack must be up).
 *
 * The API app in-process (the same createApp + wireServices as api/main.ts, request logging to
 * /dev/null at INFO like production) on a random loopback port, on the test database and Redis
 * db 1 (test/support/env.ts). It seeds a unique scenario (3 sellers, 3 products, a platform and a
 * free-shipping voucher in the cart), then sends BENCH_ADDS (default 200) `POST /v1/cart/items`
 * one at a time, one buyer, rotating over the three skus, after BENCH_WARMUP (50) warm-up adds on
 * another buyer (BENCH_VOUCHERS=0: a cart without the vouchers), and prints p50 / p90 / p99 / max in milliseconds, measured by the client around
 * each request (node:http, one keep-alive connection). BENCH_ROUNDS (default 3) repeats the measurement and
 * prints each round, so a load spike of the shared machine shows.
 */
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import { loadavg } from 'node:os';
import type { AddressInfo } from 'node:net';
import { createApp } from '../api/app';
import { signToken } from '../api/auth';
import { createLogger } from '../api/observability';
import { wireCart } from '../api/wiring';
import { closeTestHandles, testConfig, testPool, testRedis, uniqueId } from '../test/support/env';
import { createServices } from '../services';
import type { PaymentGateway } from '../services/payments';

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const adds = Number(process.env.BENCH_ADDS ?? 200);
  const warmup = Number(process.env.BENCH_WARMUP ?? 50);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const withVouchers = process.env.BENCH_VOUCHERS !== '0';
  const pool = testPool();
  const redis = testRedis();
  const services = createServices({ pool, redis, gateway: {} as PaymentGateway });
  const { catalog, vouchers } = services;
  const id = uniqueId('b').slice(2);
  const sellers = [`bx_${id}`, `by_${id}`, `bz_${id}`];
  const skus = sellers.map((s) => `sku-${s}`);
  for (const [i, sellerId] of sellers.entries()) {
    await catalog.upsertSeller(sellerId, { name: sellerId, shippingFee: 300 + 100 * i });
    await catalog.upsertProduct(skus[i]!, { sellerId, name: `Item ${i}`, category: `bench-${i}`, unitPrice: 1000 * (i + 1), currency: 'USD', stock: 1000 });
  }
  const platform = `BP_${id}`.toUpperCase();
  const ship = `BS_${id}`.toUpperCase();
  await vouchers.upsert(platform, { scope: 'platform', type: 'percent', rateBps: 1000, maxDiscount: 15000 });
  await vouchers.upsert(ship, { scope: 'shipping', type: 'free_shipping' });

  const logger = createLogger({ level: 'info', destination: createWriteStream('/dev/null') });
  const app = createApp({ probes: {}, logger, config: { jwtSecret: testConfig.jwtSecret }, cart: wireCart(services.cart) });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // node:http with one keep-alive socket: a lighter client than fetch, so the figures are mostly the server's.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const post = (token: string, path: string, body: unknown): Promise<number> =>
    new Promise((resolve, reject) => {
      const payload = JSON.stringify(body);
      const started = process.hrtime.bigint();
      const req = http.request(
        `${url}${path}`,
        { method: 'POST', agent, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } },
        (res) => {
          res.resume();
          res.on('end', () => {
            const ms = Number(process.hrtime.bigint() - started) / 1e6;
            if (res.statusCode !== 200) reject(new Error(`${path} answered ${res.statusCode}`));
            else resolve(ms);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  try {
    for (let round = 1; round <= rounds; round += 1) {
      const warm = signToken({ sub: uniqueId('bw'), role: 'buyer' }, testConfig.jwtSecret, '1h');
      for (let i = 0; i < warmup; i += 1) await post(warm, '/v1/cart/items', { sku: skus[i % 3], quantity: 1 });
      const token = signToken({ sub: uniqueId('bb'), role: 'buyer' }, testConfig.jwtSecret, '1h');
      await post(token, '/v1/cart/items', { sku: skus[0], quantity: 1 });
      if (withVouchers) {
        await post(token, '/v1/cart/vouchers', { code: platform });
        await post(token, '/v1/cart/vouchers', { code: ship });
      }
      const times: number[] = [];
      const cpuBefore = process.cpuUsage();
      for (let i = 0; i < adds; i += 1) times.push(await post(token, '/v1/cart/items', { sku: skus[i % 3], quantity: 1 }));
      const cpu = process.cpuUsage(cpuBefore);
      const cpuMsPerAdd = (cpu.user + cpu.system) / 1000 / adds;
      times.sort((a, b) => a - b);
      const fmt = (n: number): string => n.toFixed(2);
      console.log(
        `round ${round}: ${adds} sequential POST /v1/cart/items: p50 ${fmt(percentile(times, 50))} ms, p90 ${fmt(percentile(times, 90))} ms, ` +
          `p99 ${fmt(percentile(times, 99))} ms, max ${fmt(times[times.length - 1] ?? Number.NaN)} ms; ${fmt(cpuMsPerAdd)} ms CPU of this process per add (load ${loadavg().map((l) => l.toFixed(2)).join(' ')})`,
      );
    }
  } finally {
    agent.destroy();
    server.closeAllConnections();
    server.close();
    await closeTestHandles();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
