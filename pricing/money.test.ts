import assert from 'node:assert/strict';
import fc from 'fast-check';
import { allocate as dineroAllocate, dinero, toSnapshot } from 'dinero.js';
import { USD } from 'dinero.js/currencies';
import { allocate, amountMinorMax, roundBps } from './money';

describe('pricing/money rule R (roundBps)', () => {
  it('rounds half up on exact halves and truncates below', () => {
    assert.equal(roundBps(5n, 5000n), 3n); // 2.5 -> 3
    assert.equal(roundBps(3n, 5000n), 2n); // 1.5 -> 2
    assert.equal(roundBps(1n, 5000n), 1n); // 0.5 -> 1
    assert.equal(roundBps(1n, 4999n), 0n); // 0.4999 -> 0
    assert.equal(roundBps(12_345n, 1000n), 1235n); // 1234.5 -> 1235
    assert.equal(roundBps(12_344n, 1000n), 1234n); // 1234.4 -> 1234
    assert.equal(roundBps(7800n, 1000n), 780n);
  });

  it('handles the edges 0 and 10000 bps', () => {
    assert.equal(roundBps(0n, 10_000n), 0n);
    assert.equal(roundBps(999n, 0n), 0n);
    assert.equal(roundBps(999n, 10_000n), 999n);
  });

  it('is exact when amount * rate exceeds 2^53', () => {
    // (2^53 - 1) * 9999 = 90062985348155169009; + 5000 = 90062985348155174009; / 10000 floors to
    // 9006298534815517. A float computation would already be off in the product.
    assert.equal(roundBps(amountMinorMax, 9999n), 9_006_298_534_815_517n);
    assert.equal(roundBps(Number(amountMinorMax), 10_000), Number.MAX_SAFE_INTEGER);
    assert.equal(roundBps(9_007_199_254_740_991, 5000), 4_503_599_627_370_496); // ...495.5 -> ...496
  });

  it('has a number overload that refuses unsafe or fractional values', () => {
    assert.equal(roundBps(1234, 1000), 123);
    assert.throws(() => roundBps(2 ** 53, 1000), RangeError);
    assert.throws(() => roundBps(10.5, 1000), RangeError);
  });

  it('refuses negative values, for which it is not defined', () => {
    assert.throws(() => roundBps(-1n, 1000n), RangeError);
    assert.throws(() => roundBps(1n, -1n), RangeError);
    assert.throws(() => roundBps(-1, 1000), RangeError);
  });
});

/** A literal transcription of rule A, to check the implementation against. */
function ruleAByDefinition(total: bigint, weights: bigint[]): bigint[] {
  const sum = weights.reduce((a, b) => a + b, 0n);
  const shares = weights.map((w) => (total * w) / sum);
  const leftover = Number(total - shares.reduce((a, b) => a + b, 0n));
  const ranked = weights
    .map((w, index) => ({ index, remainder: (total * w) % sum }))
    .sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  for (const { index } of ranked.slice(0, leftover)) shares[index] = (shares[index] ?? 0n) + 1n;
  return shares;
}

describe('pricing/money rule A (allocate)', () => {
  it('splits the worked example platform voucher 780 over 800/2000/5000 as 80/200/500', () => {
    assert.deepEqual(allocate(780n, [800n, 2000n, 5000n]), [80n, 200n, 500n]);
  });

  it('gives the leftover to the largest remainder, not the largest weight (unlike dinero.js)', () => {
    // 5 over [1, 2]: floors 1 and 3, remainders 2 and 1, so index 0 gets the leftover unit.
    assert.deepEqual(allocate(5, [1, 2]), [2, 3]);
    const dineroShares = dineroAllocate(dinero({ amount: 5, currency: USD }), [1, 2]).map((share) => toSnapshot(share).amount);
    assert.deepEqual(dineroShares, [1, 4], 'dinero.js favours the largest ratio, which is why it is not used for rule A');
  });

  it('breaks ties on equal remainders toward the lower index', () => {
    assert.deepEqual(allocate(1, [1, 1]), [1, 0]);
    assert.deepEqual(allocate(2, [1, 1, 1]), [1, 1, 0]);
    assert.deepEqual(allocate(100, [1, 1, 1]), [34, 33, 33]);
    assert.deepEqual(allocate(7, [0, 3, 3, 3]), [0, 3, 2, 2]);
  });

  it('handles zero totals and zero weights', () => {
    assert.deepEqual(allocate(0, [5, 7]), [0, 0]);
    assert.deepEqual(allocate(10, [0, 1, 0]), [0, 10, 0]);
    assert.deepEqual(allocate(10, [4]), [10]);
  });

  it('is exact beyond 2^53 in its intermediate products', () => {
    const shares = allocate(amountMinorMax, [amountMinorMax, 1n, 2n]);
    assert.equal(shares.reduce((a, b) => a + b, 0n), amountMinorMax);
    assert.deepEqual(shares, ruleAByDefinition(amountMinorMax, [amountMinorMax, 1n, 2n]));
  });

  it('refuses what rule A does not define', () => {
    assert.throws(() => allocate(1, []), RangeError);
    assert.throws(() => allocate(1, [0, 0]), RangeError);
    assert.throws(() => allocate(-1, [1]), RangeError);
    assert.throws(() => allocate(1, [1, -1]), RangeError);
    assert.throws(() => allocate(1.5, [1]), RangeError);
    assert.throws(() => allocate(2 ** 53, [1]), RangeError);
  });

  it('always sums to the total, stays within one unit of the exact share and matches the definition', () => {
    // Small weights take the fast path (W <= 2^53 - 1), huge ones the general path.
    const weight = fc.oneof(fc.bigInt({ min: 0n, max: 20n }), fc.bigInt({ min: 0n, max: 1n << 40n }), fc.bigInt({ min: 0n, max: 1n << 60n }));
    const weights = fc.array(weight, { minLength: 1, maxLength: 40 }).filter((list) => list.some((w) => w > 0n));
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: 0n, max: 100n }), fc.bigInt({ min: 0n, max: 1n << 62n })), weights, (total, list) => {
        const shares = allocate(total, list);
        const sum = list.reduce((a, b) => a + b, 0n);
        assert.equal(shares.reduce((a, b) => a + b, 0n), total);
        shares.forEach((share, index) => {
          const floor = (total * (list[index] ?? 0n)) / sum;
          assert.ok(share === floor || share === floor + 1n);
        });
        assert.deepEqual(shares, ruleAByDefinition(total, list));
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees between its number and bigint overloads', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 10 }).filter((list) => list.some((w) => w > 0)), (total, list) => {
        assert.deepEqual(allocate(total, list), allocate(BigInt(total), list.map(BigInt)).map(Number));
      }),
      { numRuns: 200 },
    );
  });
});
