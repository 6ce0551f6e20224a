// A deliberately naive second implementation of pricing-spec.md §3–§4, used only by the
// property-based tests as an oracle. It shares no code with the engine (not even rule R or A),
// follows the text of the spec step by step in one function, and favours obviousness over speed.
// It assumes a valid input.

import type { PriceBreakdown, PricingInput, SellerBreakdown, VoucherInput } from '../types';

type Funder = 'seller' | 'platform';

interface RefLine {
  lineId: string;
  sku: string;
  sellerId: string;
  category: string;
  unitPrice: bigint;
  quantity: bigint;
  gross: bigint;
  net: bigint;
  discounts: { source: string; amount: bigint; fundedBy: Funder }[];
}

function ruleR(amount: bigint, bps: bigint): bigint {
  return (amount * bps + 5000n) / 10000n;
}

function ruleA(total: bigint, weights: bigint[]): bigint[] {
  const sum = weights.reduce((a, b) => a + b, 0n);
  const shares = weights.map((w) => (total * w) / sum);
  let left = total - shares.reduce((a, b) => a + b, 0n);
  const order = weights.map((w, i) => ({ i, rem: (total * w) % sum }));
  order.sort((x, y) => (x.rem === y.rem ? x.i - y.i : x.rem > y.rem ? -1 : 1));
  for (const { i } of order) {
    if (left === 0n) break;
    shares[i] = (shares[i] ?? 0n) + 1n;
    left -= 1n;
  }
  return shares;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function rate(map: Readonly<Record<string, number>> | null | undefined, key: string, fallback: number | null | undefined): bigint {
  if (map && Object.prototype.hasOwnProperty.call(map, key)) return BigInt(map[key] as number);
  return BigInt(fallback ?? 0);
}

export function referencePrice(input: PricingInput): PriceBreakdown {
  const lines: RefLine[] = input.lines.map((l) => ({
    lineId: l.lineId,
    sku: l.sku,
    sellerId: l.sellerId,
    category: l.category,
    unitPrice: BigInt(l.unitPrice),
    quantity: BigInt(l.quantity),
    gross: BigInt(l.unitPrice) * BigInt(l.quantity),
    net: BigInt(l.unitPrice) * BigInt(l.quantity),
    discounts: [],
  }));
  const discounts: { source: string; amount: bigint; fundedBy: Funder; shipping: boolean }[] = [];
  const rejected: { index: number; code: string; reason: 'STACKING_NOT_ALLOWED' | 'NOT_APPLICABLE' | 'MIN_SPEND_NOT_MET' }[] = [];

  function spread(chosen: RefLine[], amount: bigint, source: string, fundedBy: Funder): void {
    if (amount === 0n) return;
    const shares = ruleA(amount, chosen.map((l) => l.net));
    chosen.forEach((l, i) => {
      const share = shares[i] ?? 0n;
      if (share === 0n) return;
      l.net -= share;
      l.discounts.push({ source, amount: share, fundedBy });
    });
    discounts.push({ source, amount, fundedBy, shipping: false });
  }

  // Step 1.
  const promos = input.sellerPromotions ?? [];
  const promoTotals = promos.map(() => 0n);
  for (const l of lines) {
    let bestIndex = -1;
    let bestAmount = -1n;
    promos.forEach((p, i) => {
      if (p.sellerId !== l.sellerId) return;
      if (p.skus !== undefined && p.skus !== null && !p.skus.includes(l.sku)) return;
      const d = p.type === 'percent' ? ruleR(l.gross, BigInt(p.rateBps)) : min(BigInt(p.amount), l.unitPrice) * l.quantity;
      if (d > bestAmount) {
        bestAmount = d;
        bestIndex = i;
      }
    });
    if (bestIndex >= 0 && bestAmount > 0n) {
      const p = promos[bestIndex]!;
      l.net -= bestAmount;
      l.discounts.push({ source: `promotion:${p.id}`, amount: bestAmount, fundedBy: 'seller' });
      promoTotals[bestIndex] = (promoTotals[bestIndex] ?? 0n) + bestAmount;
    }
  }
  promos.forEach((p, i) => {
    if ((promoTotals[i] ?? 0n) > 0n) discounts.push({ source: `promotion:${p.id}`, amount: promoTotals[i]!, fundedBy: 'seller', shipping: false });
  });

  const pctOrFixed = (
    base: bigint,
    t: { type: 'percent'; rateBps: number; maxDiscount?: number | null } | { type: 'fixed'; amount: number },
  ): bigint => {
    if (t.type === 'fixed') return min(BigInt(t.amount), base);
    const d = ruleR(base, BigInt(t.rateBps));
    return t.maxDiscount === null || t.maxDiscount === undefined ? d : min(d, BigInt(t.maxDiscount));
  };

  // Step 2, campaigns.
  for (const c of input.categoryCampaigns ?? []) {
    const chosen = lines.filter(
      (l) => (c.sellerId === null || c.sellerId === undefined || l.sellerId === c.sellerId) &&
        (c.category === null || c.category === undefined || l.category === c.category),
    );
    if (chosen.length === 0) continue;
    const base = chosen.reduce((s, l) => s + l.net, 0n);
    if (BigInt(c.minSpend ?? 0) > base) continue;
    spread(chosen, pctOrFixed(base, c), `campaign:${c.id}`, c.fundedBy);
  }

  const vouchers: readonly VoucherInput[] = input.vouchers ?? [];
  const slots = new Set<string>();
  const decide = (index: number, v: VoucherInput, slot: string, applicable: boolean, base: bigint): boolean => {
    let reason: 'STACKING_NOT_ALLOWED' | 'NOT_APPLICABLE' | 'MIN_SPEND_NOT_MET' | null = null;
    if (slots.has(slot)) reason = 'STACKING_NOT_ALLOWED';
    else if (!applicable) reason = 'NOT_APPLICABLE';
    else if (BigInt(v.minSpend ?? 0) > base) reason = 'MIN_SPEND_NOT_MET';
    if (reason !== null) {
      rejected.push({ index, code: v.code, reason });
      return false;
    }
    slots.add(slot);
    return true;
  };

  // Step 2, seller vouchers.
  vouchers.forEach((v, index) => {
    if (v.scope !== 'seller') return;
    const chosen = lines.filter((l) => l.sellerId === v.sellerId && (v.category === null || v.category === undefined || l.category === v.category));
    const base = chosen.reduce((s, l) => s + l.net, 0n);
    if (!decide(index, v, `s/${v.sellerId}`, chosen.length > 0, base)) return;
    spread(chosen, pctOrFixed(base, v), `voucher:${v.code}`, 'seller');
  });

  // Step 3.
  vouchers.forEach((v, index) => {
    if (v.scope !== 'platform') return;
    const chosen = lines.filter((l) => v.category === null || v.category === undefined || l.category === v.category);
    const base = chosen.reduce((s, l) => s + l.net, 0n);
    if (!decide(index, v, 'p', chosen.length > 0, base)) return;
    spread(chosen, pctOrFixed(base, v), `voucher:${v.code}`, 'platform');
  });

  // Step 4.
  const sellerIds: string[] = [];
  for (const l of lines) if (!sellerIds.includes(l.sellerId)) sellerIds.push(l.sellerId);
  const fees = sellerIds.map((s) => rate(input.shippingFees, s, 0));
  const shipDisc = sellerIds.map(() => 0n);
  const shippingTotal = fees.reduce((a, b) => a + b, 0n);
  const netAfter3 = lines.reduce((s, l) => s + l.net, 0n);
  vouchers.forEach((v, index) => {
    if (v.scope !== 'shipping') return;
    if (!decide(index, v, 'ship', shippingTotal > 0n, netAfter3)) return;
    let d: bigint;
    if (v.type === 'fixed') d = min(BigInt(v.amount), shippingTotal);
    else d = v.maxDiscount === null || v.maxDiscount === undefined ? shippingTotal : min(shippingTotal, BigInt(v.maxDiscount));
    if (d === 0n) return;
    ruleA(d, fees).forEach((share, i) => (shipDisc[i] = (shipDisc[i] ?? 0n) + share));
    discounts.push({ source: `voucher:${v.code}`, amount: d, fundedBy: 'platform', shipping: true });
  });

  // Step 5.
  let pointsRedeemed = 0n;
  let loyaltyAmount = 0n;
  if (input.loyalty) {
    const m = lines.reduce((s, l) => s + l.net, 0n);
    const r = input.loyalty.maxRedeemBps;
    const cap = r === null || r === undefined ? m : ruleR(m, BigInt(r));
    const upp = BigInt(input.loyalty.minorUnitsPerPoint);
    pointsRedeemed = min(BigInt(input.loyalty.points), min(cap, m) / upp);
    loyaltyAmount = pointsRedeemed * upp;
    spread(lines, loyaltyAmount, 'loyalty', 'platform');
  }

  // Steps 6 and 7.
  const perLine = lines.map((l) => {
    const tax = ruleR(l.net, rate(input.taxRatesBps, l.category, input.defaultTaxRateBps));
    const sellerFunded = l.discounts.filter((d) => d.fundedBy === 'seller').reduce((s, d) => s + d.amount, 0n);
    const platformFunded = l.discounts.filter((d) => d.fundedBy === 'platform').reduce((s, d) => s + d.amount, 0n);
    const sellerBase = l.gross - sellerFunded;
    const commission = ruleR(sellerBase, rate(input.commissionRatesBps, l.category, input.defaultCommissionBps));
    return { l, tax, sellerFunded, platformFunded, sellerBase, commission };
  });

  const sellers: Record<string, SellerBreakdown> = {};
  const payouts: Record<string, number> = {};
  sellerIds.forEach((s, i) => {
    const mine = perLine.filter((p) => p.l.sellerId === s);
    const sum = (f: (p: (typeof perLine)[number]) => bigint): bigint => mine.reduce((acc, p) => acc + f(p), 0n);
    const net = sum((p) => p.l.net);
    const tax = sum((p) => p.tax);
    const payout = sum((p) => p.sellerBase - p.commission) + fees[i]!;
    Object.defineProperty(sellers, s, {
      enumerable: true,
      value: {
        merchandiseGross: Number(sum((p) => p.l.gross)),
        sellerFundedDiscount: Number(sum((p) => p.sellerFunded)),
        platformFundedDiscount: Number(sum((p) => p.platformFunded)),
        merchandiseNet: Number(net),
        shippingFee: Number(fees[i]),
        shippingDiscount: Number(shipDisc[i]),
        tax: Number(tax),
        commission: Number(sum((p) => p.commission)),
        customerPaid: Number(net + tax + fees[i]! - shipDisc[i]!),
        payout: Number(payout),
      },
    });
    Object.defineProperty(payouts, s, { enumerable: true, value: Number(payout) });
  });

  const gross = lines.reduce((s, l) => s + l.gross, 0n);
  const net = lines.reduce((s, l) => s + l.net, 0n);
  const tax = perLine.reduce((s, p) => s + p.tax, 0n);
  const commission = perLine.reduce((s, p) => s + p.commission, 0n);
  const shippingDiscount = shipDisc.reduce((a, b) => a + b, 0n);
  const platformFunded = discounts.filter((d) => d.fundedBy === 'platform').reduce((s, d) => s + d.amount, 0n);
  return {
    currency: input.currency,
    lines: perLine.map((p) => ({
      lineId: p.l.lineId,
      sku: p.l.sku,
      sellerId: p.l.sellerId,
      gross: Number(p.l.gross),
      discounts: p.l.discounts.map((d) => ({ source: d.source, amount: Number(d.amount), fundedBy: d.fundedBy })),
      net: Number(p.l.net),
      tax: Number(p.tax),
      sellerBase: Number(p.sellerBase),
      commission: Number(p.commission),
    })),
    discounts: discounts.map((d) => ({ source: d.source, amount: Number(d.amount), fundedBy: d.fundedBy })),
    rejectedVouchers: rejected.sort((a, b) => a.index - b.index).map((r) => ({ code: r.code, reason: r.reason })),
    loyalty: { pointsRedeemed: Number(pointsRedeemed), amount: Number(loyaltyAmount) },
    sellers,
    totals: {
      merchandiseGross: Number(gross),
      discountTotal: Number(discounts.filter((d) => !d.shipping).reduce((s, d) => s + d.amount, 0n)),
      merchandiseNet: Number(net),
      shipping: Number(shippingTotal),
      shippingDiscount: Number(shippingDiscount),
      tax: Number(tax),
      grandTotal: Number(net + shippingTotal - shippingDiscount + tax),
    },
    splits: { sellers: payouts, platform: Number(commission - platformFunded), tax: Number(tax) },
  };
}
