import assert from 'node:assert/strict';
import fc from 'fast-check';
import { price } from '../../pricing';
import { pricingInputArbitrary } from '../../pricing/test-support/arbitraries';
import { ValidationError } from '../../lib/errors';
import { draftSum, escrowOf, ledgerKeys, parcelsFromBreakdown, planEscrow, planRefund, planRefundPaid, planRelease, type EntryDraft } from './postings';
import { breakdownArbitrary, workedExampleInput } from './testing';

/** The postings of a draft as `kind:ref:amount` strings, for readable comparisons. */
function lines(draft: EntryDraft): string[] {
  return draft.postings.map((p) => `${p.kind}:${p.ref}:${p.sellerId ?? '-'}:${p.amountMinor}`);
}

function sumFor(draft: EntryDraft, kind: string): bigint {
  return draft.postings.filter((p) => p.kind === kind).reduce((s, p) => s + p.amountMinor, 0n);
}

describe('ledger posting rules', () => {
  it('posts the worked example of pricing-spec.md §5 exactly', () => {
    const parcels = parcelsFromBreakdown('o1', price(workedExampleInput()));
    assert.deepEqual(
      parcels.map((p) => [p.sellerId, p.customerPaidMinor, p.platformSubsidyMinor, escrowOf(p)]),
      [
        ['seller_x', 792n, 380n, 1172n],
        ['seller_y', 1980n, 500n, 2480n],
        ['seller_z', 4950n, 1000n, 5950n],
      ],
    );
    const escrow = planEscrow('o1', parcels);
    assert.equal(escrow.businessKey, 'escrow:o1');
    assert.deepEqual(lines(escrow), [
      'psp_clearing::seller_x:792',
      'platform_promotion_expense::seller_x:380',
      'order_escrow:o1:seller_x:-1172',
      'psp_clearing::seller_y:1980',
      'platform_promotion_expense::seller_y:500',
      'order_escrow:o1:seller_y:-2480',
      'psp_clearing::seller_z:4950',
      'platform_promotion_expense::seller_z:1000',
      'order_escrow:o1:seller_z:-5950',
    ]);
    assert.equal(sumFor(escrow, 'psp_clearing'), 7722n, 'the charge is the grand total');
    assert.equal(sumFor(escrow, 'platform_promotion_expense'), 1880n, 'subsidy = 780 platform voucher + 1100 free shipping');
    assert.deepEqual(lines(planRelease(parcels[0]!)), [
      'order_escrow:o1:seller_x:1172',
      'seller_payable:seller_x:seller_x:-1060',
      'platform_commission_revenue::seller_x:-40',
      'tax_payable::seller_x:-72',
    ]);
    assert.deepEqual(lines(planRefund(parcels[1]!)), [
      'order_escrow:o1:seller_y:2480',
      'buyer_refunds_payable:o1:seller_y:-1980',
      'platform_promotion_expense::seller_y:-500',
    ]);
    assert.deepEqual(lines(planRefundPaid(parcels[1]!)), ['buyer_refunds_payable:o1:seller_y:1980', 'psp_clearing::seller_y:-1980']);
  });

  it('balances every entry and empties escrow for random consistent breakdowns', () => {
    fc.assert(
      fc.property(breakdownArbitrary, fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), (breakdown, releaseNotRefund) => {
        const parcels = parcelsFromBreakdown('order-1', breakdown);
        const escrow = planEscrow('order-1', parcels);
        const settlements = parcels.map((p, i) => (releaseNotRefund[i] ? planRelease(p) : planRefund(p)));
        for (const draft of [escrow, ...settlements]) assert.equal(draftSum(draft), 0n, draft.businessKey);
        const escrowAfter = [escrow, ...settlements].reduce((s, d) => s + sumFor(d, 'order_escrow'), 0n);
        assert.equal(escrowAfter, 0n);
        for (const draft of [escrow, ...settlements]) assert.ok(draft.postings.every((p) => p.amountMinor !== 0n));
      }),
      { numRuns: 300 },
    );
  });

  it('accepts every breakdown the pricing engine produces', () => {
    fc.assert(
      fc.property(pricingInputArbitrary, (input) => {
        const breakdown = price(input);
        const parcels = parcelsFromBreakdown('order-1', breakdown);
        assert.equal(parcels.length, Object.keys(breakdown.sellers).length);
        const escrow = planEscrow('order-1', parcels);
        assert.equal(draftSum(escrow), 0n);
        assert.equal(sumFor(escrow, 'psp_clearing'), BigInt(breakdown.totals.grandTotal));
        for (const p of parcels) {
          assert.equal(draftSum(planRelease(p)), 0n);
          assert.equal(draftSum(planRefund(p)), 0n);
        }
      }),
      { numRuns: 80 },
    );
  });

  it('rejects a breakdown whose parcels do not add up', () => {
    const good = price(workedExampleInput());
    const sellerX = good.sellers.seller_x!;
    const tampered = { ...good, sellers: { ...good.sellers, seller_x: { ...sellerX, payout: sellerX.payout + 1 } } };
    assert.throws(() => parcelsFromBreakdown('o1', tampered), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.equal(err.issues[0]?.path, 'breakdown.sellers.seller_x');
      return true;
    });
    const wrongTotal = { ...good, totals: { ...good.totals, grandTotal: 7721 } };
    assert.throws(() => parcelsFromBreakdown('o1', wrongTotal), /grandTotal/);
    const negative = { ...good, sellers: { seller_x: { ...sellerX, tax: -1 } } };
    assert.throws(() => parcelsFromBreakdown('o1', negative), /tax/);
    assert.throws(() => parcelsFromBreakdown('o1', { ...good, sellers: {} }), /at least one seller/);
    assert.throws(() => parcelsFromBreakdown('', good), ValidationError);
    assert.throws(() => parcelsFromBreakdown('o1', { ...good, currency: 'usd' }), /currency/);
  });

  it('builds unambiguous business keys whatever the ids contain', () => {
    assert.equal(ledgerKeys.release('o1', 'seller_x'), 'release:o1:seller_x');
    assert.notEqual(ledgerKeys.release('a:b', 'c'), ledgerKeys.release('a', 'b:c'));
  });
});
