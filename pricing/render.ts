// A plain-text rendering of a price breakdown for logs, support tools and the UI: lines grouped by
// seller, every discount with who funds it, shipping, tax, the grand total and the splits.
// Amounts are formatted by dinero.js from the exact minor units, so the text never disagrees with
// the numbers (no float conversion on the way).

import { dinero, toDecimal } from 'dinero.js/bigint';
import { findCurrency } from './currency';
import type { DiscountEntry, LineBreakdown, PriceBreakdown } from './types';

const indentUnit = '  ';

/** Inserts thousands separators into a plain decimal string such as "-1234567.89". */
function groupThousands(decimal: string): string {
  const negative = decimal.startsWith('-');
  const unsigned = negative ? decimal.slice(1) : decimal;
  const [integerPart = '', fractionPart] = unsigned.split('.');
  const grouped = integerPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}${fractionPart === undefined ? '' : `.${fractionPart}`}`;
}

/**
 * Formats minor units as `USD 1,234.56` (JPY `JPY 1,235`, BHD `BHD 1.235`), using the currency's
 * ISO 4217 exponent from dinero.js. An unknown code falls back to the raw minor units.
 */
export function formatMinor(amountMinor: number | bigint, currencyCode: string): string {
  const currency = findCurrency(currencyCode);
  if (currency === undefined) return `${String(amountMinor)} (minor units of ${currencyCode})`;
  const value = toDecimal(dinero({ amount: BigInt(amountMinor), currency }));
  return `${currencyCode} ${groupThousands(value)}`;
}

/** Renders label/value rows with the values aligned in one column. */
function table(rows: readonly (readonly [string, string])[], indent: string): string[] {
  const width = Math.max(0, ...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value}`);
}

/** A deduction shown as a negative amount; zero stays unsigned. */
function deduction(amount: number, money: (amount: number) => string): string {
  return money(amount === 0 ? 0 : -amount);
}

function fundingLabel(discount: DiscountEntry): string {
  return discount.fundedBy === 'seller' ? 'seller-funded' : 'platform-funded';
}

function renderLine(line: LineBreakdown, money: (amount: number) => string): string[] {
  const indent = indentUnit.repeat(2);
  const discounts = line.discounts.map(
    (discount) => `${indent}${indentUnit}${deduction(discount.amount, money)}  ${discount.source} (${fundingLabel(discount)})`,
  );
  return [
    `${indent}line ${line.lineId}  sku ${line.sku}  gross ${money(line.gross)}`,
    ...discounts,
    `${indent}${indentUnit}net ${money(line.net)}  tax ${money(line.tax)}  seller base ${money(line.sellerBase)}  commission ${money(line.commission)}`,
  ];
}

/** Seller ids in seller order: first appearance in the lines (an object's key order may differ). */
function sellerOrder(breakdown: PriceBreakdown): string[] {
  return [...new Set(breakdown.lines.map((line) => line.sellerId))];
}

function renderSellers(breakdown: PriceBreakdown, money: (amount: number) => string): string[] {
  const rendered: string[] = [];
  for (const sellerId of sellerOrder(breakdown)) {
    const seller = breakdown.sellers[sellerId];
    if (seller === undefined) continue;
    rendered.push(`${indentUnit}seller ${sellerId}`);
    for (const line of breakdown.lines) if (line.sellerId === sellerId) rendered.push(...renderLine(line, money));
    rendered.push(
      `${indentUnit.repeat(2)}shipping ${money(seller.shippingFee)}  shipping discount ${deduction(seller.shippingDiscount, money)}`,
      `${indentUnit.repeat(2)}buyer pays ${money(seller.customerPaid)}  payout ${money(seller.payout)}`,
    );
  }
  return rendered;
}

function renderDiscounts(breakdown: PriceBreakdown, money: (amount: number) => string): string[] {
  if (breakdown.discounts.length === 0) return [`${indentUnit}none`];
  // A merchandise discount always reaches at least one line; a shipping discount never does.
  const lineSources = new Set(breakdown.lines.flatMap((line) => line.discounts.map((discount) => discount.source)));
  return table(
    breakdown.discounts.map((discount) => {
      const target = lineSources.has(discount.source) ? '' : ', on shipping';
      return [discount.source, `${money(discount.amount)}  (funded by ${discount.fundedBy}${target})`];
    }),
    indentUnit,
  );
}

function renderRejections(breakdown: PriceBreakdown): string[] {
  if (breakdown.rejectedVouchers.length === 0) return [];
  return ['rejected vouchers', ...table(breakdown.rejectedVouchers.map((voucher) => [voucher.code, voucher.reason]), indentUnit)];
}

function renderTotals(breakdown: PriceBreakdown, money: (amount: number) => string): string[] {
  const { totals, loyalty } = breakdown;
  const loyaltyRows: [string, string][] =
    loyalty.pointsRedeemed === 0 ? [] : [[`  of which loyalty (${loyalty.pointsRedeemed} points)`, deduction(loyalty.amount, money)]];
  return table(
    [
      ['merchandise gross', money(totals.merchandiseGross)],
      ['discounts', deduction(totals.discountTotal, money)],
      ...loyaltyRows,
      ['merchandise net', money(totals.merchandiseNet)],
      ['shipping', money(totals.shipping)],
      ['shipping discount', deduction(totals.shippingDiscount, money)],
      ['tax', money(totals.tax)],
      ['grand total', money(totals.grandTotal)],
    ],
    indentUnit,
  );
}

function renderSplits(breakdown: PriceBreakdown, money: (amount: number) => string): string[] {
  const sellerRows = sellerOrder(breakdown).map((sellerId): [string, string] => [
    `seller ${sellerId}`,
    money(breakdown.splits.sellers[sellerId] ?? 0),
  ]);
  const platformNote = breakdown.splits.platform < 0 ? '  (platform subsidy)' : '';
  return table(
    [...sellerRows, ['platform', `${money(breakdown.splits.platform)}${platformNote}`], ['tax', money(breakdown.splits.tax)]],
    indentUnit,
  );
}

/** A human-readable, multi-line rendering of a breakdown. Deterministic; no trailing newline. */
export function renderBreakdown(breakdown: PriceBreakdown): string {
  const money = (amount: number): string => formatMinor(amount, breakdown.currency);
  return [
    `price breakdown (${breakdown.currency})`,
    ...renderSellers(breakdown, money),
    'discounts',
    ...renderDiscounts(breakdown, money),
    ...renderRejections(breakdown),
    'totals',
    ...renderTotals(breakdown, money),
    'splits',
    ...renderSplits(breakdown, money),
  ].join('\n');
}
