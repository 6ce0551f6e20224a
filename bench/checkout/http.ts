/**
 * The bench's HTTP client of the API: tokens signed with the configured JWT secret (as scripts/seed.ts
 * signs the walkthrough's), the seed cart, checkouts and order reads. Every call is bounded.
 */
import { performance } from 'node:perf_hooks';
import { signToken } from '../../api/auth';

export interface Reply {
  status: number;
  body: unknown;
  ms: number;
}

/** The catalog of the seed (scripts/seed.ts): one item of each seller. */
export const seedSkus = ['sku-a', 'sku-b', 'sku-c'] as const;
/** The seed's vouchers, and the bench's own copies of them (same definitions, no usage limits). */
export const seedVoucherCodes = ['X2OFF', 'VOUCHER10', 'FREESHIP'] as const;
export const benchVoucherCode = (code: string): string => `BENCH_${code}`;
export const expectedGrandTotal = 7722;

export interface OrderBody {
  orderId?: string;
  status?: string;
  failure?: { code?: string; message?: string };
  pricing?: { totals?: { grandTotal?: number } } | null;
  parcels?: { sellerId: string }[];
}

export class ApiClient {
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly baseUrl: string,
    private readonly jwtSecret: string,
  ) {}

  token(sub: string, role: 'buyer' | 'admin' = 'buyer'): string {
    const key = `${role}:${sub}`;
    let token = this.tokens.get(key);
    if (!token) {
      token = signToken({ sub, role }, this.jwtSecret, '2h');
      this.tokens.set(key, token);
    }
    return token;
  }

  forget(sub: string): void {
    this.tokens.delete(`buyer:${sub}`);
  }

  async call(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<Reply> {
    const started = performance.now();
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    let parsed: unknown = text;
    try {
      parsed = text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed, ms };
  }

  /** Fills a buyer's cart with the seed cart (3 items, 3 vouchers); checks it prices to 7722. */
  async fillSeedCart(buyer: string): Promise<void> {
    const token = this.token(buyer);
    for (const sku of seedSkus) expectStatus(await this.call('POST', '/v1/cart/items', token, { sku, quantity: 1 }), 200, `cart add ${sku}`);
    let last: Reply | undefined;
    for (const code of seedVoucherCodes) {
      last = await this.call('POST', '/v1/cart/vouchers', token, { code: benchVoucherCode(code) });
      expectStatus(last, 200, `cart voucher ${code}`);
    }
    const total = (last?.body as OrderBody | undefined)?.pricing?.totals?.grandTotal;
    if (total !== expectedGrandTotal) throw new Error(`the seed cart prices to ${String(total)}, not ${expectedGrandTotal}: the catalog is not the seed's (npm run seed resets it)`);
  }

  /** Empties a buyer's cart (lines and vouchers of the seed cart). */
  async clearSeedCart(buyer: string): Promise<void> {
    const token = this.token(buyer);
    for (const sku of seedSkus) await this.call('DELETE', `/v1/cart/items/${sku}`, token);
    for (const code of seedVoucherCodes) await this.call('DELETE', `/v1/cart/vouchers/${benchVoucherCode(code)}`, token);
    this.forget(buyer);
  }

  checkout(buyer: string, idempotencyKey: string, paymentToken: string): Promise<Reply> {
    return this.call(
      'POST',
      '/v1/checkouts',
      this.token(buyer),
      { paymentMethod: { token: paymentToken }, expectedGrandTotal },
      { 'Idempotency-Key': idempotencyKey },
    );
  }

  order(buyer: string, orderId: string): Promise<Reply> {
    return this.call('GET', `/v1/orders/${encodeURIComponent(orderId)}`, this.token(buyer));
  }
}

export function expectStatus(reply: Reply, status: number, what: string): void {
  if (reply.status !== status) throw new Error(`${what}: HTTP ${reply.status} (expected ${status}): ${JSON.stringify(reply.body).slice(0, 500)}`);
}

/** What is wrong with a settled order, or undefined when it is the expected outcome. */
export function wrongOutcome(body: OrderBody, expected: { status: 'COMPLETED' } | { status: 'FAILED'; code: string }): string | undefined {
  if (body.status !== expected.status) return `status ${String(body.status)}${body.failure?.code ? ` (${body.failure.code}: ${body.failure.message ?? ''})` : ''}, expected ${expected.status}`;
  if (expected.status === 'FAILED' && body.failure?.code !== expected.code) return `failure ${String(body.failure?.code)}, expected ${expected.code}`;
  const total = body.pricing?.totals?.grandTotal;
  if (total !== expectedGrandTotal) return `grand total ${String(total)}, expected ${expectedGrandTotal}`;
  return undefined;
}
