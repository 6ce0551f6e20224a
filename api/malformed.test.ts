/**
 * A table of malformed inputs per endpoint: wrong types, missing fields, negative, zero and huge
 * numbers, unknown fields, non-JSON, oversized bodies and odd unicode. Each must be answered 4xx in
 * the one error shape (never 500), and must change nothing: the buyer's cart, orders and the
 * catalog rows it names are the same afterwards.
 */
import assert from 'node:assert/strict';
import { createSimulatorGateway } from '../services/payments';
import { devServerClient } from '../test/support/temporal';
import { testConfig, testPool, testRedis, uniqueId } from '../test/support/env';
import { createScenario, fillCart, startHarness, type Harness, type Scenario } from './test-support';
import { wireServices } from './wiring';

type Case = [name: string, body: unknown];

/** Bodies every JSON endpoint must refuse, whatever its fields. */
const generic: Case[] = [
  ['an array', []],
  ['a string', 'text'],
  ['a number', 42],
  ['null', null],
  ['a deeply nested object', JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) as unknown],
];

const hugeNumbers = [2 ** 53, 1e308, -1, 0.5, -0.000001];
const oddStrings = ['', ' ', '\u0000', '\ud800', 'a\u202eb', '💩', 'x'.repeat(300), 'e\u0301', '\u200b', '../../etc/passwd', "'; DROP TABLE orders; --"];

describe('malformed inputs over HTTP @integration', function () {
  this.timeout(60_000);
  let harness: Harness;
  let closeTemporal: () => Promise<void>;
  let scenario: Scenario;
  let buyerId: string;
  let buyer: string;
  let admin: string;

  before(async () => {
    const { client, close } = await devServerClient();
    closeTemporal = close;
    const gateway = createSimulatorGateway({ baseUrl: 'http://127.0.0.1:9', webhookSecret: testConfig.webhookSecret });
    harness = await startHarness({ probes: {}, config: { bodyLimitBytes: 16 * 1024 }, ...wireServices({ pool: testPool(), redis: testRedis(), temporal: client, gateway }) });
    scenario = await createScenario(harness);
    buyerId = uniqueId('buyer');
    buyer = harness.token('buyer', buyerId);
    admin = harness.token('admin', 'ops');
    await fillCart(harness, buyer, [{ sku: scenario.skus.a, quantity: 2 }], [scenario.vouchers.platform10]);
  });
  after(async () => {
    await harness.close();
    await closeTemporal();
  });

  /** What a refused request must not change. */
  async function observable(): Promise<unknown> {
    const cart = (await harness.request('GET', '/v1/cart', { token: buyer })).body;
    const orders = (await testPool().query('SELECT order_id FROM orders WHERE buyer_id = $1', [buyerId])).rows;
    const product = (await harness.request('GET', `/v1/admin/products/${scenario.skus.a}`, { token: admin })).body;
    return { cart, orders, product };
  }

  async function expectRefused(method: string, path: string, token: string, body: unknown, raw?: { text: string; type: string }): Promise<void> {
    const res = await harness.request(method, path, {
      token,
      ...(raw ? { rawBody: raw.text, headers: { 'Content-Type': raw.type, 'Idempotency-Key': uniqueId('k') } } : { body, headers: { 'Idempotency-Key': uniqueId('k') } }),
    });
    const what = `${method} ${path} ${raw ? raw.text.slice(0, 60) : JSON.stringify(body)?.slice(0, 120)}`;
    assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status} ${res.text.slice(0, 200)}`);
    const error = (res.body as { error?: { code?: string; details?: unknown } }).error;
    assert.equal(typeof error?.code, 'string', what);
    if (res.status === 400 && error?.code === 'VALIDATION_FAILED') {
      const issues = (error.details as { issues?: { path: string; message: string }[] }).issues;
      assert.ok(Array.isArray(issues) && issues.length > 0, `${what}: VALIDATION_FAILED without issues`);
    }
  }

  const endpoints = (): { method: string; path: string; token: string; cases: Case[] }[] => [
    {
      method: 'POST',
      path: '/v1/cart/items',
      token: buyer,
      cases: [
        ['missing sku', { quantity: 1 }],
        ['missing quantity', { sku: scenario.skus.a }],
        ['quantity as string', { sku: scenario.skus.a, quantity: '1' }],
        ['quantity as boolean', { sku: scenario.skus.a, quantity: true }],
        ...hugeNumbers.map((q): Case => [`quantity ${q}`, { sku: scenario.skus.a, quantity: q }]),
        ['quantity 0', { sku: scenario.skus.a, quantity: 0 }],
        ['quantity 1000', { sku: scenario.skus.a, quantity: 1000 }],
        ['unknown field price', { sku: scenario.skus.a, quantity: 1, unitPrice: 1 }],
        ['sku as number', { sku: 123, quantity: 1 }],
        ['sku as object', { sku: { $ne: null }, quantity: 1 }],
        ['unknown sku', { sku: uniqueId('nosuch'), quantity: 1 }],
        ...oddStrings.map((s): Case => [`sku ${JSON.stringify(s).slice(0, 20)}`, { sku: s, quantity: 1 }]),
        ...generic,
      ],
    },
    {
      method: 'PATCH',
      path: `/v1/cart/items/${scenario.skus.a}`,
      token: buyer,
      cases: [['missing quantity', {}], ['negative', { quantity: -3 }], ['zero', { quantity: 0 }], ['huge', { quantity: 2 ** 53 }], ['float', { quantity: 1.5 }], ['extra', { quantity: 1, sku: 'x' }], ...generic],
    },
    {
      method: 'PATCH',
      path: `/v1/cart/items/${uniqueId('notincart')}`,
      token: buyer,
      cases: [['a line that is not in the cart', { quantity: 1 }]],
    },
    {
      method: 'POST',
      path: '/v1/cart/vouchers',
      token: buyer,
      cases: [['missing code', {}], ['code as number', { code: 10 }], ['unknown field', { code: scenario.vouchers.x2off, amount: 999 }], ...oddStrings.map((s): Case => [`code ${JSON.stringify(s).slice(0, 20)}`, { code: s }]), ...generic],
    },
    {
      method: 'POST',
      path: '/v1/checkouts',
      token: buyer,
      cases: [
        ['missing paymentMethod', {}],
        ['paymentMethod as string', { paymentMethod: 'tok_visa' }],
        ['missing token', { paymentMethod: {} }],
        ['empty token', { paymentMethod: { token: '' } }],
        ['token with spaces', { paymentMethod: { token: 'tok visa' } }],
        ['unknown field in paymentMethod', { paymentMethod: { token: 'tok_visa', cvc: '123' } }],
        ['unknown top-level field', { paymentMethod: { token: 'tok_visa' }, amount: 1 }],
        ...hugeNumbers.map((n): Case => [`expectedGrandTotal ${n}`, { paymentMethod: { token: 'tok_visa' }, expectedGrandTotal: n }]),
        ['expectedGrandTotal as string', { paymentMethod: { token: 'tok_visa' }, expectedGrandTotal: '7722' }],
        ['a wrong expectedGrandTotal (409 PRICE_CHANGED)', { paymentMethod: { token: 'tok_visa' }, expectedGrandTotal: 0 }],
        ...oddStrings.filter((s) => s !== '').map((s): Case => [`token ${JSON.stringify(s).slice(0, 20)}`, { paymentMethod: { token: s } }]),
        ...generic,
      ],
    },
    {
      method: 'PUT',
      path: `/v1/admin/products/${scenario.skus.a}`,
      token: admin,
      cases: [
        ['missing fields', { name: 'x' }],
        ['negative price', { sellerId: scenario.sellers.x, name: 'n', category: 'electronics', unitPrice: -1, currency: 'USD', stock: 1 }],
        ['huge price', { sellerId: scenario.sellers.x, name: 'n', category: 'electronics', unitPrice: 2 ** 53, currency: 'USD', stock: 1 }],
        ['float price', { sellerId: scenario.sellers.x, name: 'n', category: 'electronics', unitPrice: 9.99, currency: 'USD', stock: 1 }],
        ['unknown currency', { sellerId: scenario.sellers.x, name: 'n', category: 'electronics', unitPrice: 1, currency: 'XXY', stock: 1 }],
        ['stock below reserved is fine, negative is not', { sellerId: scenario.sellers.x, name: 'n', category: 'electronics', unitPrice: 1, currency: 'USD', stock: -5 }],
        ['NUL in category', { sellerId: scenario.sellers.x, name: 'n', category: 'elec\u0000tronics', unitPrice: 1, currency: 'USD', stock: 1 }],
        ['lone surrogate in name', { sellerId: scenario.sellers.x, name: '\udc00', category: 'electronics', unitPrice: 1, currency: 'USD', stock: 1 }],
        ['unknown seller', { sellerId: uniqueId('nobody'), name: 'n', category: 'electronics', unitPrice: 1, currency: 'USD', stock: 1 }],
        ...generic,
      ],
    },
  ];

  it('refuses every malformed body with 4xx in the error shape and changes nothing', async () => {
    const before = await observable();
    let count = 0;
    for (const endpoint of endpoints()) {
      for (const [name, body] of endpoint.cases) {
        await expectRefused(endpoint.method, endpoint.path, endpoint.token, body).catch((err: Error) => {
          err.message = `${name}: ${err.message}`;
          throw err;
        });
        count++;
      }
    }
    assert.ok(count > 100, `only ${count} cases`);
    assert.deepEqual(await observable(), before);
  });

  it('refuses non-JSON, broken JSON, wrong charsets and oversized bodies on every JSON endpoint', async () => {
    const before = await observable();
    const raws = [
      { text: '{"sku":', type: 'application/json' },
      { text: "{'sku': 'a'}", type: 'application/json' },
      { text: '{"sku":"a","quantity":1}garbage', type: 'application/json' },
      { text: 'sku=a&quantity=1', type: 'application/x-www-form-urlencoded' },
      { text: '<cart><sku>a</sku></cart>', type: 'application/xml' },
      { text: '{"sku":"a","quantity":1}', type: 'text/plain' },
      { text: '{"sku":"a","quantity":1}', type: 'application/json; charset=latin-9' },
      { text: `{"sku":"${'a'.repeat(20_000)}","quantity":1}`, type: 'application/json' },
    ];
    for (const endpoint of endpoints()) {
      for (const raw of raws) await expectRefused(endpoint.method, endpoint.path, endpoint.token, undefined, raw);
    }
    assert.deepEqual(await observable(), before);
  });

  it('refuses malformed path parameters and queries with 4xx, never 500', async () => {
    const cases: [string, string][] = [
      ['GET', '/v1/orders/%ZZ'],
      ['GET', `/v1/orders/${'a'.repeat(2000)}`],
      ['GET', '/v1/orders/%00'],
      ['GET', '/v1/orders/%F0%9F%92%A9'],
      ['GET', '/v1/orders?limit=%00'],
      ['GET', '/v1/orders?limit=1&limit=2'],
      ['GET', '/v1/orders?cursor[a]=b'],
      ['GET', `/v1/orders?cursor=${'x'.repeat(600)}`],
      ['DELETE', '/v1/cart/items/%ED%A0%80'],
      ['DELETE', '/v1/cart/vouchers/has%20space'],
      ['POST', '/v1/orders/x/parcels/%00/ship'],
      ['GET', '/v1/admin/products/..%2F..%2Fetc'],
    ];
    for (const [method, path] of cases) {
      const res = await harness.request(method, path, { token: method === 'GET' && path.startsWith('/v1/admin') ? admin : buyer });
      assert.ok(res.status >= 400 && res.status < 500, `${method} ${path}: ${res.status} ${res.text.slice(0, 200)}`);
      assert.equal(typeof (res.body as { error?: { code?: string } }).error?.code, 'string', `${method} ${path}`);
    }
  });
});
