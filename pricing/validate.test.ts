import assert from 'node:assert/strict';
import { PricingValidationError, price, validatePricingInput, type ValidationIssue } from './index';
import { makeCart, makeLine, workedExampleInput } from './test-support/fixtures';

/** The validation issues of a value, which must be invalid. */
function issuesOf(value: unknown): readonly ValidationIssue[] {
  const result = validatePricingInput(value);
  assert.equal(result.ok, false, 'expected the input to be rejected');
  if (result.ok) return [];
  assert.equal(result.error.code, 'INVALID_INPUT');
  return result.error.issues;
}

/** Asserts that exactly one issue is reported, at `path`, with a message matching `pattern`. */
function assertSingleIssue(value: unknown, path: string, pattern: RegExp): void {
  const issues = issuesOf(value);
  assert.deepEqual(
    issues.map((issue) => issue.path),
    [path],
    JSON.stringify(issues),
  );
  assert.match(issues[0]?.message ?? '', pattern);
}

/** The worked example with one change applied to a deep copy of it. */
function workedWith(change: (input: Record<string, unknown>) => void): unknown {
  const input = structuredClone(workedExampleInput()) as unknown as Record<string, unknown>;
  change(input);
  return input;
}

function linesOf(input: Record<string, unknown>): Record<string, unknown>[] {
  return input.lines as Record<string, unknown>[];
}

function vouchersOf(input: Record<string, unknown>): Record<string, unknown>[] {
  return input.vouchers as Record<string, unknown>[];
}

describe('pricing/validate', () => {
  it('accepts the worked example and returns it typed', () => {
    const result = validatePricingInput(workedExampleInput());
    assert.equal(result.ok, true);
    if (result.ok) assert.equal(result.value.currency, 'USD');
  });

  it('accepts a minimal input: absent lists, maps, loyalty and rates are empty or zero', () => {
    assert.equal(validatePricingInput({ currency: 'USD', lines: [makeLine({ lineId: 'a' })] }).ok, true);
  });

  it('accepts null for optional fields', () => {
    const input = {
      currency: 'EUR',
      lines: [makeLine({ lineId: 'a' })],
      sellerPromotions: null,
      categoryCampaigns: [{ id: 'c', category: null, sellerId: null, minSpend: null, fundedBy: 'platform', type: 'percent', rateBps: 100, maxDiscount: null }],
      vouchers: [{ code: 'P', scope: 'platform', category: null, minSpend: null, type: 'percent', rateBps: 100, maxDiscount: null }],
      shippingFees: null,
      loyalty: null,
      taxRatesBps: null,
      defaultTaxRateBps: null,
      commissionRatesBps: null,
      defaultCommissionBps: null,
    };
    assert.equal(validatePricingInput(input).ok, true);
  });

  it('rejects a document that is not an object', () => {
    for (const value of [null, 42, 'cart', [], undefined]) assertSingleIssue(value, '', /must be a JSON object/);
  });

  describe('missing or mistyped fields', () => {
    it('currency missing', () => {
      assertSingleIssue(workedWith((input) => delete input.currency), 'currency', /is required/);
    });

    it('lines missing or not a list (an empty list is a valid, empty cart)', () => {
      assertSingleIssue(workedWith((input) => delete input.lines), 'lines', /is required/);
      assertSingleIssue(workedWith((input) => (input.lines = {})), 'lines', /must be a list/);
      assert.equal(validatePricingInput(workedWith((input) => (input.lines = []))).ok, true);
    });

    it('a line that is not an object', () => {
      assertSingleIssue(workedWith((input) => ((input.lines as unknown[])[1] = 'b')), 'lines[1]', /must be an object/);
    });

    it('a line field missing', () => {
      for (const key of ['lineId', 'sku', 'sellerId', 'category', 'unitPrice', 'quantity']) {
        assertSingleIssue(workedWith((input) => delete linesOf(input)[2]![key]), `lines[2].${key}`, /is required/);
      }
    });

    it('a string field of the wrong type or empty', () => {
      assertSingleIssue(workedWith((input) => (linesOf(input)[0]!.sku = 7)), 'lines[0].sku', /must be a string/);
      assertSingleIssue(workedWith((input) => (linesOf(input)[0]!.sellerId = '')), 'lines[0].sellerId', /must not be empty/);
    });

    it('an amount given as a string or a float', () => {
      assertSingleIssue(workedWith((input) => (linesOf(input)[2]!.unitPrice = '5000')), 'lines[2].unitPrice', /integer amount/);
      assertSingleIssue(workedWith((input) => (linesOf(input)[2]!.unitPrice = 50.5)), 'lines[2].unitPrice', /integer amount/);
    });

    it('an unknown voucher scope or type', () => {
      assertSingleIssue(workedWith((input) => (vouchersOf(input)[0]!.scope = 'global')), 'vouchers[0].scope', /one of "seller", "platform", "shipping"/);
      assertSingleIssue(workedWith((input) => (vouchersOf(input)[1]!.type = 'bogo')), 'vouchers[1].type', /one of/);
    });

    it('a voucher without its money terms', () => {
      assertSingleIssue(workedWith((input) => delete vouchersOf(input)[0]!.amount), 'vouchers[0].amount', /is required/);
      assertSingleIssue(workedWith((input) => delete vouchersOf(input)[1]!.rateBps), 'vouchers[1].rateBps', /is required/);
    });

    it('a promotion or campaign with a bad field', () => {
      const promotion = { id: 'p', sellerId: 'seller_x', type: 'percent', rateBps: 'ten' };
      assertSingleIssue(workedWith((input) => (input.sellerPromotions = [promotion])), 'sellerPromotions[0].rateBps', /rate in basis points/);
      const skus = { id: 'p', sellerId: 'seller_x', skus: ['a', 3], type: 'fixed_per_unit', amount: 1 };
      assertSingleIssue(workedWith((input) => (input.sellerPromotions = [skus])), 'sellerPromotions[0].skus[1]', /must be a string/);
      const campaign = { id: 'c', type: 'fixed', amount: 1, fundedBy: 'nobody' };
      assertSingleIssue(workedWith((input) => (input.categoryCampaigns = [campaign])), 'categoryCampaigns[0].fundedBy', /"seller", "platform"/);
    });

    it('a map that is not an object or holds a non-integer', () => {
      assertSingleIssue(workedWith((input) => (input.shippingFees = [300])), 'shippingFees', /must be an object/);
      assertSingleIssue(workedWith((input) => (input.shippingFees = { 'seller x': '3' })), 'shippingFees["seller x"]', /integer amount/);
      assertSingleIssue(workedWith((input) => (input.taxRatesBps = { books: 10.5 })), 'taxRatesBps.books', /rate in basis points/);
    });

    it('loyalty that is not an object or lacks points', () => {
      assertSingleIssue(workedWith((input) => (input.loyalty = 5)), 'loyalty', /must be an object/);
      assertSingleIssue(workedWith((input) => (input.loyalty = { minorUnitsPerPoint: 1 })), 'loyalty.points', /is required/);
    });
  });

  it('rejects a duplicate lineId, naming both lines', () => {
    assertSingleIssue(workedWith((input) => (linesOf(input)[2]!.lineId = 'a')), 'lines[2].lineId', /duplicates lines\[0\]\.lineId/);
  });

  it('rejects duplicate promotion ids, campaign ids and voucher codes', () => {
    const promotion = { id: 'p', sellerId: 'seller_x', type: 'percent', rateBps: 100 };
    assertSingleIssue(workedWith((input) => (input.sellerPromotions = [promotion, promotion])), 'sellerPromotions[1].id', /duplicates/);
    const campaign = { id: 'c', type: 'fixed', amount: 1, fundedBy: 'platform' };
    assertSingleIssue(workedWith((input) => (input.categoryCampaigns = [campaign, campaign])), 'categoryCampaigns[1].id', /duplicates/);
    assertSingleIssue(workedWith((input) => (vouchersOf(input)[2]!.code = 'X2OFF')), 'vouchers[2].code', /duplicates vouchers\[0\]\.code/);
  });

  it('rejects a quantity below 1 or not an integer', () => {
    assertSingleIssue(workedWith((input) => (linesOf(input)[1]!.quantity = 0)), 'lines[1].quantity', /at least 1/);
    assertSingleIssue(workedWith((input) => (linesOf(input)[1]!.quantity = -2)), 'lines[1].quantity', /at least 1/);
    assertSingleIssue(workedWith((input) => (linesOf(input)[1]!.quantity = 1.5)), 'lines[1].quantity', /must be an integer/);
  });

  it('rejects negative amounts', () => {
    assertSingleIssue(workedWith((input) => (linesOf(input)[0]!.unitPrice = -1)), 'lines[0].unitPrice', /at least 0/);
    assertSingleIssue(workedWith((input) => (vouchersOf(input)[0]!.amount = -200)), 'vouchers[0].amount', /at least 0/);
    assertSingleIssue(workedWith((input) => (vouchersOf(input)[1]!.minSpend = -1)), 'vouchers[1].minSpend', /at least 0/);
    assertSingleIssue(workedWith((input) => (vouchersOf(input)[1]!.maxDiscount = -1)), 'vouchers[1].maxDiscount', /at least 0/);
    assertSingleIssue(workedWith((input) => (input.shippingFees = { seller_x: -300 })), 'shippingFees.seller_x', /at least 0/);
    assertSingleIssue(workedWith((input) => (input.loyalty = { points: -1, minorUnitsPerPoint: 1 })), 'loyalty.points', /at least 0/);
  });

  it('rejects negative rates and rates above 10000 bps', () => {
    assertSingleIssue(workedWith((input) => (input.defaultTaxRateBps = -1)), 'defaultTaxRateBps', /at least 0/);
    assertSingleIssue(workedWith((input) => (input.defaultCommissionBps = 10_001)), 'defaultCommissionBps', /at most 10000/);
    assertSingleIssue(workedWith((input) => (vouchersOf(input)[1]!.rateBps = 10_001)), 'vouchers[1].rateBps', /at most 10000/);
    assertSingleIssue(workedWith((input) => (input.commissionRatesBps = { books: -5 })), 'commissionRatesBps.books', /at least 0/);
    const loyalty = { points: 1, minorUnitsPerPoint: 1, maxRedeemBps: 20_000 };
    assertSingleIssue(workedWith((input) => (input.loyalty = loyalty)), 'loyalty.maxRedeemBps', /at most 10000/);
  });

  it('rejects an unknown ISO 4217 currency (and a lower-case code)', () => {
    assertSingleIssue(workedWith((input) => (input.currency = 'XYZ')), 'currency', /unknown ISO 4217 currency "XYZ"/);
    assertSingleIssue(workedWith((input) => (input.currency = 'usd')), 'currency', /unknown ISO 4217 currency/);
  });

  it('rejects mixed currencies', () => {
    assertSingleIssue(workedWith((input) => (linesOf(input)[1]!.currency = 'EUR')), 'lines[1].currency', /mixed currencies/);
    assertSingleIssue(workedWith((input) => (vouchersOf(input)[0]!.currency = 'GBP')), 'vouchers[0].currency', /mixed currencies/);
    assert.equal(validatePricingInput(workedWith((input) => (linesOf(input)[1]!.currency = 'USD'))).ok, true);
  });

  it('rejects a voucher type its scope does not allow', () => {
    assertSingleIssue(
      workedWith((input) => (vouchersOf(input)[1]!.type = 'free_shipping')),
      'vouchers[1].type',
      /a platform voucher cannot be "free_shipping"/,
    );
    assertSingleIssue(
      workedWith((input) => Object.assign(vouchersOf(input)[0]!, { type: 'free_shipping' })),
      'vouchers[0].type',
      /a seller voucher cannot be "free_shipping"/,
    );
    assertSingleIssue(
      workedWith((input) => Object.assign(vouchersOf(input)[2]!, { type: 'percent', rateBps: 1000 })),
      'vouchers[2].type',
      /a shipping voucher cannot be "percent"/,
    );
  });

  it('rejects a seller voucher without sellerId', () => {
    assertSingleIssue(workedWith((input) => delete vouchersOf(input)[0]!.sellerId), 'vouchers[0].sellerId', /seller voucher/);
    assertSingleIssue(workedWith((input) => (vouchersOf(input)[0]!.sellerId = null)), 'vouchers[0].sellerId', /seller voucher/);
  });

  it('rejects minorUnitsPerPoint below 1', () => {
    const loyalty = { points: 10, minorUnitsPerPoint: 0, maxRedeemBps: 1000 };
    assertSingleIssue(workedWith((input) => (input.loyalty = loyalty)), 'loyalty.minorUnitsPerPoint', /at least 1/);
  });

  describe('amount limits (2^53 - 1)', () => {
    const max = Number.MAX_SAFE_INTEGER;

    it('rejects an amount that is not a safe integer', () => {
      assertSingleIssue(workedWith((input) => (linesOf(input)[0]!.unitPrice = 2 ** 53)), 'lines[0].unitPrice', /at most 9007199254740991/);
    });

    it('rejects a line whose gross exceeds the limit', () => {
      const input = makeCart({ lines: [makeLine({ lineId: 'a', unitPrice: 2 ** 52, quantity: 2 })] });
      assertSingleIssue(input, 'lines[0]', /gross unitPrice × quantity = 9007199254740992 exceeds/);
    });

    it('rejects a merchandise gross that exceeds the limit', () => {
      const input = makeCart({ lines: [makeLine({ lineId: 'a', unitPrice: max }), makeLine({ lineId: 'b', unitPrice: 1 })] });
      assertSingleIssue(input, 'lines', /merchandise gross 9007199254740992 exceeds/);
    });

    it('rejects a total shipping that exceeds the limit, counting only sellers in the cart', () => {
      const lines = [makeLine({ lineId: 'a', sellerId: 'x' }), makeLine({ lineId: 'b', sellerId: 'y' })];
      assertSingleIssue(makeCart({ lines, shippingFees: { x: max, y: 1 } }), 'shippingFees', /total shipping 9007199254740992 exceeds/);
      assert.equal(validatePricingInput(makeCart({ lines, shippingFees: { x: max - 2000, absent: 1 } })).ok, true);
    });

    it('rejects an order whose computed grand total would exceed the limit', () => {
      const input = makeCart({ lines: [makeLine({ lineId: 'a', unitPrice: max - 10 })], defaultTaxRateBps: 1000 });
      assertSingleIssue(input, 'lines', /totals\.grandTotal would be/);
      assert.throws(() => price(input), PricingValidationError);
    });

    it('accepts the largest order whose outputs all fit', () => {
      const input = makeCart({ lines: [makeLine({ lineId: 'a', unitPrice: max })] });
      assert.equal(price(input).totals.grandTotal, max);
    });
  });

  it('reports every issue at once, and summarises them in the message', () => {
    const result = validatePricingInput({ currency: 'ABC', lines: [{ lineId: 'a', quantity: 0 }, 'x'] });
    assert.equal(result.ok, false);
    if (result.ok) return;
    const paths = result.error.issues.map((issue) => issue.path);
    assert.deepEqual(paths, [
      'currency',
      'lines[0].sku',
      'lines[0].sellerId',
      'lines[0].category',
      'lines[0].unitPrice',
      'lines[0].quantity',
      'lines[1]',
    ]);
    assert.match(result.error.message, /^currency: unknown ISO 4217 currency "ABC"; lines\[0\]\.sku: is required; .*; and 2 more$/);
  });

  it('throws a typed PricingValidationError from price()', () => {
    const input = workedWith((input) => (linesOf(input)[1]!.quantity = 0)) as ReturnType<typeof workedExampleInput>;
    assert.throws(
      () => price(input),
      (error: unknown) =>
        error instanceof PricingValidationError &&
        error.code === 'INVALID_INPUT' &&
        error.issues[0]?.path === 'lines[1].quantity' &&
        error.message.startsWith('lines[1].quantity:'),
    );
  });

  it('enforces list limits', () => {
    const lines = Array.from({ length: 10_001 }, (_, index) => makeLine({ lineId: `l${index}` }));
    assertSingleIssue(makeCart({ lines }), 'lines', /at most 10000 lines/);
  });

  it('does not read inherited properties as fields', () => {
    const inherited = Object.create({ currency: 'USD' }) as Record<string, unknown>;
    inherited.lines = [makeLine({ lineId: 'a' })];
    assertSingleIssue(inherited, 'currency', /is required/);
  });
});
