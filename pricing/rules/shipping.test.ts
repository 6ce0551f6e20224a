import assert from 'node:assert/strict';
import { appliedDiscounts, contextAfter, makeCart, makeLine, rejections, workedExampleInput } from '../test-support/fixtures';
import type { VoucherInput } from '../types';
import { platformVoucherRule } from './platform-voucher';
import { sellerVouchersRule } from './seller-vouchers';
import { shippingRule } from './shipping';

const lines = [
  makeLine({ lineId: 'a', sellerId: 'x', unitPrice: 1000 }),
  makeLine({ lineId: 'b', sellerId: 'y', unitPrice: 2000 }),
  makeLine({ lineId: 'c', sellerId: 'x', unitPrice: 500 }),
  makeLine({ lineId: 'd', sellerId: 'z', unitPrice: 5000 }),
];
const shippingFees = { x: 300, y: 300, z: 500, elsewhere: 999 };

function run(vouchers: VoucherInput[], fees: Record<string, number> = shippingFees) {
  return contextAfter(makeCart({ lines, vouchers, shippingFees: fees }), [shippingRule]);
}

function shippingOf(context: ReturnType<typeof run>): [string, number, number][] {
  return context.sellers.map((seller) => [seller.sellerId, Number(seller.shippingFeeMinor), Number(seller.shippingDiscountMinor)]);
}

describe('pricing/rules/shipping (step 4)', () => {
  it('charges one fee per seller with a line, absent = 0, and ignores sellers without lines', () => {
    assert.deepEqual(shippingOf(run([], { x: 300, elsewhere: 999 })), [
      ['x', 300, 0],
      ['y', 0, 0],
      ['z', 0, 0],
    ]);
  });

  it('free_shipping without a cap takes all of it', () => {
    const context = run([{ code: 'FREE', scope: 'shipping', type: 'free_shipping', maxDiscount: null }]);
    assert.deepEqual(shippingOf(context), [
      ['x', 300, 300],
      ['y', 300, 300],
      ['z', 500, 500],
    ]);
    assert.deepEqual(appliedDiscounts(context), [{ source: 'voucher:FREE', amount: 1100, fundedBy: 'platform' }]);
    assert.equal(context.discounts[0]?.target, 'shipping');
  });

  it('free_shipping with a cap splits it by rule A over the fees, in seller order', () => {
    // 500 over 300/300/500: 136.36 / 136.36 / 227.27 -> floors 136/136/227, one unit left; the
    // equal largest remainders (400) of x and y go to x, the earlier seller.
    const context = run([{ code: 'CAP', scope: 'shipping', type: 'free_shipping', maxDiscount: 500 }]);
    assert.deepEqual(shippingOf(context), [
      ['x', 300, 137],
      ['y', 300, 136],
      ['z', 500, 227],
    ]);
  });

  it('fixed takes min(amount, total shipping)', () => {
    const context = run([{ code: 'FIX', scope: 'shipping', type: 'fixed', amount: 5000 }]);
    assert.deepEqual(appliedDiscounts(context), [{ source: 'voucher:FIX', amount: 1100, fundedBy: 'platform' }]);
  });

  it('is NOT_APPLICABLE when there is no shipping to discount', () => {
    const context = run([{ code: 'FREE', scope: 'shipping', type: 'free_shipping' }], {});
    assert.deepEqual(rejections(context), [[0, 'NOT_APPLICABLE']]);
  });

  it('allows one shipping voucher: the second is STACKING_NOT_ALLOWED', () => {
    const context = run([
      { code: 'S1', scope: 'shipping', type: 'fixed', amount: 100 },
      { code: 'S2', scope: 'shipping', type: 'free_shipping' },
    ]);
    assert.deepEqual(rejections(context), [[1, 'STACKING_NOT_ALLOWED']]);
  });

  it('compares minSpend with the merchandise net after the platform voucher', () => {
    // The worked example's net after step 3 is 7020.
    const withMinSpend = (minSpend: number) => {
      const input = workedExampleInput();
      const vouchers = (input.vouchers ?? []).map((voucher) => (voucher.scope === 'shipping' ? { ...voucher, minSpend } : voucher));
      return contextAfter({ ...input, vouchers }, [sellerVouchersRule, platformVoucherRule, shippingRule]);
    };
    assert.deepEqual(rejections(withMinSpend(7021)), [[2, 'MIN_SPEND_NOT_MET']]);
    assert.deepEqual(rejections(withMinSpend(7020)), []);
  });

  it('accepts a zero-valued voucher (cap 0): it takes the slot but is not listed', () => {
    const context = run([
      { code: 'ZERO', scope: 'shipping', type: 'free_shipping', maxDiscount: 0 },
      { code: 'FREE', scope: 'shipping', type: 'free_shipping' },
    ]);
    assert.deepEqual(appliedDiscounts(context), []);
    assert.deepEqual(rejections(context), [[1, 'STACKING_NOT_ALLOWED']]);
  });
});
