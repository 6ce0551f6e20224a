// Exact money arithmetic: rule R (rounding of a basis-point rate) and rule A (largest-remainder
// allocation) of pricing-spec.md §1.
//
// Everything is computed in BigInt because `amount * rate` can exceed 2^53 long before either
// factor does. The number overloads exist for callers that hold JSON numbers (the ledger); they
// check that their arguments are safe integers and convert at the boundary.

/** The largest amount an input or output may carry: 2^53 - 1, exact as a JSON number. */
export const amountMinorMax = 9_007_199_254_740_991n;

/** 100 % in basis points. */
const bpsPerUnit = 10_000n;

const halfBps = 5_000n;

/** Rule R on BigInts: floor((amount * bps + 5000) / 10000), for non-negative values only. */
function roundBpsExact(amountMinor: bigint, bps: bigint): bigint {
  if (amountMinor < 0n || bps < 0n) {
    throw new RangeError(`roundBps is defined for non-negative values only (amount ${amountMinor}, bps ${bps})`);
  }
  // BigInt division truncates toward zero, which is floor for non-negative operands.
  return (amountMinor * bps + halfBps) / bpsPerUnit;
}

/**
 * Rule R: `R(amount, bps) = floor((amount * bps + 5000) / 10000)` (round half up).
 * Only defined for non-negative values; throws a RangeError otherwise.
 */
export function roundBps(amountMinor: bigint, bps: bigint): bigint;
export function roundBps(amountMinor: number, bps: number): number;
export function roundBps(amountMinor: bigint | number, bps: bigint | number): bigint | number {
  if (typeof amountMinor === 'bigint' && typeof bps === 'bigint') return roundBpsExact(amountMinor, bps);
  if (typeof amountMinor === 'number' && typeof bps === 'number') {
    const result = roundBpsExact(safeIntegerToBigInt(amountMinor, 'amount'), safeIntegerToBigInt(bps, 'bps'));
    return bigIntToSafeNumber(result, 'roundBps result');
  }
  throw new TypeError('roundBps takes two bigints or two numbers');
}

/** Checks that a weight list is allocatable and returns its sum. */
function weightSum(weights: readonly bigint[]): bigint {
  let sum = 0n;
  for (const weight of weights) {
    if (weight < 0n) throw new RangeError(`allocate weights must be non-negative (got ${weight})`);
    sum += weight;
  }
  if (sum === 0n) throw new RangeError('allocate needs at least one positive weight');
  return sum;
}

/** Rule A on BigInts; see {@link allocate}. */
function allocateExact(totalMinor: bigint, weights: readonly bigint[]): bigint[] {
  if (totalMinor < 0n) throw new RangeError(`allocate is defined for a non-negative total (got ${totalMinor})`);
  const weightTotal = weightSum(weights);
  const shares: bigint[] = new Array<bigint>(weights.length);
  const remainders: bigint[] = new Array<bigint>(weights.length);
  let leftover = totalMinor;
  for (let index = 0; index < weights.length; index += 1) {
    const product = totalMinor * (weights[index] ?? 0n);
    const share = product / weightTotal;
    shares[index] = share;
    remainders[index] = product % weightTotal;
    leftover -= share;
  }
  if (leftover > 0n) handOutLeftover(shares, remainders, weightTotal, Number(leftover));
  return shares;
}

/**
 * Gives one minor unit to each of the `leftover` indices with the largest remainder; equal
 * remainders go to the lower index. The leftover is always smaller than the number of indices
 * with a positive remainder (their remainders sum to leftover * W and each is below W).
 */
function handOutLeftover(shares: bigint[], remainders: readonly bigint[], weightTotal: bigint, leftover: number): void {
  if (weightTotal <= amountMinorMax) handOutByThreshold(shares, remainders, leftover);
  else handOutBySorting(shares, remainders, leftover);
}

/**
 * The fast path, used whenever W <= 2^53 - 1 (every remainder is below W, so it converts to a
 * number exactly; the numbers only rank remainders, no amount is computed with them). A native
 * numeric sort finds the leftover-th largest remainder, the threshold: every index above it gets a
 * unit, and the units still due go to the indices at the threshold, lowest index first. This is
 * the hot spot of large carts, and it avoids a JavaScript comparator entirely.
 */
function handOutByThreshold(shares: bigint[], remainders: readonly bigint[], leftover: number): void {
  const keys = new Float64Array(remainders.length);
  for (let index = 0; index < keys.length; index += 1) keys[index] = Number(remainders[index] ?? 0n);
  const threshold = keys.slice().sort()[keys.length - leftover] ?? 0;
  let given = 0;
  for (let index = 0; index < keys.length; index += 1) {
    if ((keys[index] ?? 0) > threshold) {
      shares[index] = (shares[index] ?? 0n) + 1n;
      given += 1;
    }
  }
  for (let index = 0; index < keys.length && given < leftover; index += 1) {
    if (keys[index] === threshold) {
      shares[index] = (shares[index] ?? 0n) + 1n;
      given += 1;
    }
  }
  if (given !== leftover) throw new Error('allocate: leftover exceeds the indices with a remainder');
}

/** The general path for weight sums beyond 2^53: rank every index by BigInt comparison. */
function handOutBySorting(shares: bigint[], remainders: readonly bigint[], leftover: number): void {
  const order = remainders.map((_, index) => index);
  order.sort((left, right) => {
    const leftRemainder = remainders[left] ?? 0n;
    const rightRemainder = remainders[right] ?? 0n;
    if (leftRemainder !== rightRemainder) return leftRemainder > rightRemainder ? -1 : 1;
    return left - right;
  });
  for (let rank = 0; rank < leftover; rank += 1) {
    const index = order[rank];
    if (index === undefined) throw new Error('allocate: leftover exceeds the number of indices');
    shares[index] = (shares[index] ?? 0n) + 1n;
  }
}

/**
 * Rule A (largest remainder): splits a non-negative integer total over non-negative integer
 * weights with a positive sum. `share[i] = floor(T * w[i] / W)`; the leftover goes one minor unit
 * at a time to the largest remainders `(T * w[i]) mod W`, ties to the lower index. The shares
 * always sum to the total exactly. Throws a RangeError on a negative total or weight, on weights
 * that sum to zero, and (number overload) on values that are not safe integers.
 */
export function allocate(total: bigint, weights: readonly bigint[]): bigint[];
export function allocate(total: number, weights: readonly number[]): number[];
export function allocate(total: bigint | number, weights: readonly (bigint | number)[]): bigint[] | number[] {
  if (typeof total === 'bigint') {
    return allocateExact(total, weights.map((weight) => requireBigInt(weight)));
  }
  const exactWeights = weights.map((weight, index) => safeIntegerToBigInt(requireNumber(weight), `weights[${index}]`));
  return allocateExact(safeIntegerToBigInt(total, 'total'), exactWeights).map((share) =>
    bigIntToSafeNumber(share, 'allocate share'),
  );
}

function requireBigInt(value: bigint | number): bigint {
  if (typeof value !== 'bigint') throw new TypeError('allocate takes a bigint total with bigint weights');
  return value;
}

function requireNumber(value: bigint | number): number {
  if (typeof value !== 'number') throw new TypeError('allocate takes a number total with number weights');
  return value;
}

/** Converts a JSON integer to a BigInt, refusing anything that is not a safe integer. */
function safeIntegerToBigInt(value: number, name: string): bigint {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be a safe integer (got ${value})`);
  return BigInt(value);
}

/** Converts an exact amount back to a JSON number, refusing anything beyond 2^53 - 1 in size. */
function bigIntToSafeNumber(value: bigint, name: string): number {
  if (value > amountMinorMax || value < -amountMinorMax) {
    throw new RangeError(`${name} (${value}) is outside the exact JSON range of ±(2^53 - 1)`);
  }
  return Number(value);
}

/** The smaller of two BigInts. */
export function minBigInt(left: bigint, right: bigint): bigint {
  return left < right ? left : right;
}
