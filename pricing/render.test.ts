import assert from 'node:assert/strict';
import { formatMinor, price, renderBreakdown } from './index';
import { makeCart, makeLine, workedExampleInput } from './test-support/fixtures';

describe('pricing/render', () => {
  it('formats minor units with the currency exponent and thousands separators', () => {
    assert.equal(formatMinor(7722, 'USD'), 'USD 77.22');
    assert.equal(formatMinor(-1490, 'USD'), 'USD -14.90');
    assert.equal(formatMinor(5, 'USD'), 'USD 0.05');
    assert.equal(formatMinor(123_456_789, 'JPY'), 'JPY 123,456,789');
    assert.equal(formatMinor(32_064, 'BHD'), 'BHD 32.064');
    assert.equal(formatMinor(Number.MAX_SAFE_INTEGER, 'USD'), 'USD 90,071,992,547,409.91');
    assert.equal(formatMinor(12n, 'XYZ'), '12 (minor units of XYZ)');
  });

  it('renders the worked example: lines per seller, discounts with funders, shipping, tax, total, splits', () => {
    const text = renderBreakdown(price(workedExampleInput()));
    const expectedLines = [
      'price breakdown (USD)',
      '  seller seller_x',
      '    line a  sku sku-a  gross USD 10.00',
      '      USD -2.00  voucher:X2OFF (seller-funded)',
      '      USD -0.80  voucher:VOUCHER10 (platform-funded)',
      '      net USD 7.20  tax USD 0.72  seller base USD 8.00  commission USD 0.40',
      '    shipping USD 3.00  shipping discount USD -3.00',
      '    buyer pays USD 7.92  payout USD 10.60',
      '  voucher:FREESHIP   USD 11.00  (funded by platform, on shipping)',
      '  grand total        USD 77.22',
      '  platform         USD -14.90  (platform subsidy)',
      '  tax              USD 7.02',
    ];
    for (const expected of expectedLines) assert.ok(text.split('\n').includes(expected), `missing line: ${expected}\n${text}`);
  });

  it('lists rejected vouchers and redeemed loyalty points', () => {
    const input = workedExampleInput();
    const text = renderBreakdown(
      price({
        ...input,
        vouchers: [...(input.vouchers ?? []), { code: 'EXTRA', scope: 'platform', type: 'fixed', amount: 5 }],
        loyalty: { points: 300, minorUnitsPerPoint: 1 },
      }),
    );
    assert.match(text, /\nrejected vouchers\n {2}EXTRA {2}STACKING_NOT_ALLOWED\n/);
    assert.match(text, /of which loyalty \(300 points\) {2}USD -3\.00/);
  });

  it('renders zero-decimal and three-decimal currencies', () => {
    const yen = renderBreakdown(price(makeCart({ currency: 'JPY', lines: [makeLine({ lineId: 'a', unitPrice: 1_234_567 })] })));
    assert.match(yen, /grand total {8}JPY 1,234,567/);
    const dinar = renderBreakdown(price(makeCart({ currency: 'BHD', lines: [makeLine({ lineId: 'a', unitPrice: 1005 })], defaultTaxRateBps: 1000 })));
    assert.match(dinar, /tax {16}BHD 0\.101/);
  });
});
