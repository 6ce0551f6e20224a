// Input validation (pricing-spec.md §2, §6). The engine never repairs input: anything that is
// missing, mistyped, out of range or inconsistent is reported with the path of the field, and
// every problem found is reported, not only the first.
//
// Validation is hand-written rather than a schema library so that it stays cheap on the hot path
// (a 3-line cart is priced in microseconds) and its messages name fields exactly as the spec does.

import { findCurrency } from './currency';
import { type ValidationIssue } from './errors';
import { amountMinorMax } from './money';
import type { PricingInput } from './types';
import { idLimits } from '../lib/vocabulary';

/** Limits on every list, so that a hostile or broken input cannot make pricing unbounded. */
export const pricingLimits = {
  linesMax: 10_000,
  sellerPromotionsMax: 1_000,
  categoryCampaignsMax: 1_000,
  vouchersMax: 1_000,
  skusPerPromotionMax: 10_000,
  mapEntriesMax: 10_000,
  identifierLengthMax: idLimits.externalIdLengthMax,
} as const;

const rateMaxBps = 10_000;
const amountMax = Number(amountMinorMax);

type JsonObject = Readonly<Record<string, unknown>>;

/** Collects issues while walking the input; each reader returns undefined when it reported one. */
class IssueCollector {
  readonly issues: ValidationIssue[] = [];

  add(path: string, message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }
}

function fieldPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** Map keys are arbitrary strings, so only identifier-like keys use the dotted form. */
function keyPath(parent: string, key: string): string {
  return /^[A-Za-z_$][\w$-]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'number') return String(value);
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own properties only: a key such as "constructor" must not reach into Object.prototype. */
function own(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function readObject(value: unknown, path: string, collector: IssueCollector): JsonObject | undefined {
  if (isJsonObject(value)) return value;
  return collector.add(path, `must be an object (got ${describeValue(value)})`);
}

// The readers below build a field's path only when they report an issue: a valid 1,000-line cart
// has thousands of fields, and building their paths eagerly was a visible share of pricing time.

/** Why a value is not an acceptable identifier or label, or null when it is. */
function stringProblem(value: unknown): string | null {
  if (typeof value !== 'string') return `must be a string (got ${describeValue(value)})`;
  if (value.length === 0) return 'must not be empty';
  if (value.length > pricingLimits.identifierLengthMax) return `must be at most ${pricingLimits.identifierLengthMax} characters`;
  return null;
}

function readString(object: JsonObject, key: string, path: string, collector: IssueCollector): string | undefined {
  const value = own(object, key);
  const problem = value === undefined ? 'is required' : stringProblem(value);
  if (problem !== null) return collector.add(fieldPath(path, key), problem);
  return value as string;
}

function checkString(value: unknown, at: string, collector: IssueCollector): string | undefined {
  const problem = stringProblem(value);
  if (problem !== null) return collector.add(at, problem);
  return value as string;
}

/** An optional string filter: absent and null both mean "no filter". */
function readOptionalString(
  object: JsonObject,
  key: string,
  path: string,
  collector: IssueCollector,
): string | null | undefined {
  const value = own(object, key);
  if (value === undefined || value === null) return null;
  const problem = stringProblem(value);
  if (problem !== null) return collector.add(fieldPath(path, key), problem);
  return value as string;
}

interface IntegerRange {
  readonly min: number;
  readonly max: number;
  readonly unit: string;
}

const amountRange: IntegerRange = { min: 0, max: amountMax, unit: 'an integer amount of minor units' };
const rateRange: IntegerRange = { min: 0, max: rateMaxBps, unit: 'an integer rate in basis points' };
const quantityRange: IntegerRange = { min: 1, max: amountMax, unit: 'an integer' };
const pointsRange: IntegerRange = { min: 0, max: amountMax, unit: 'an integer number of points' };
const minorUnitsPerPointRange: IntegerRange = { min: 1, max: amountMax, unit: 'an integer' };

/** Why a value is not an integer within the range, or null when it is. */
function integerProblem(value: unknown, range: IntegerRange): string | null {
  if (typeof value !== 'number' || !Number.isInteger(value)) return `must be ${range.unit} (got ${describeValue(value)})`;
  if (value < range.min) return `must be at least ${range.min} (got ${value})`;
  if (value > range.max) return `must be at most ${range.max} (got ${value})`;
  return null;
}

function readInteger(
  object: JsonObject,
  key: string,
  path: string,
  range: IntegerRange,
  collector: IssueCollector,
): number | undefined {
  const value = own(object, key);
  const problem = value === undefined ? 'is required' : integerProblem(value, range);
  if (problem !== null) return collector.add(fieldPath(path, key), problem);
  return value as number;
}

/** An optional integer (a cap, a minimum spend, a default rate): absent and null mean "none". */
function readOptionalInteger(
  object: JsonObject,
  key: string,
  path: string,
  range: IntegerRange,
  collector: IssueCollector,
): void {
  const value = own(object, key);
  if (value === undefined || value === null) return;
  const problem = integerProblem(value, range);
  if (problem !== null) collector.add(fieldPath(path, key), problem);
}

function readEnum<T extends string>(
  object: JsonObject,
  key: string,
  path: string,
  allowed: readonly T[],
  collector: IssueCollector,
): T | undefined {
  const value = own(object, key);
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  if (value === undefined) return collector.add(fieldPath(path, key), 'is required');
  const expected = allowed.map((name) => `"${name}"`).join(', ');
  return collector.add(fieldPath(path, key), `must be one of ${expected} (got ${describeValue(value)})`);
}

/** An optional list: absent and null are the empty list. */
function readList(
  object: JsonObject,
  key: string,
  path: string,
  max: number,
  collector: IssueCollector,
): readonly unknown[] | undefined {
  const value = own(object, key);
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return collector.add(fieldPath(path, key), `must be a list (got ${describeValue(value)})`);
  if (value.length > max) return collector.add(fieldPath(path, key), `must hold at most ${max} entries (got ${value.length})`);
  return value as readonly unknown[];
}

/** An optional map of integers: absent and null are the empty map. */
function readIntegerMap(
  object: JsonObject,
  key: string,
  path: string,
  range: IntegerRange,
  collector: IssueCollector,
): void {
  const value = own(object, key);
  if (value === undefined || value === null) return;
  const at = fieldPath(path, key);
  const map = readObject(value, at, collector);
  if (map === undefined) return;
  const keys = Object.keys(map);
  if (keys.length > pricingLimits.mapEntriesMax) {
    collector.add(at, `must hold at most ${pricingLimits.mapEntriesMax} entries (got ${keys.length})`);
    return;
  }
  for (const entryKey of keys) {
    const problem = integerProblem(map[entryKey], range);
    if (problem !== null) collector.add(keyPath(at, entryKey), problem);
  }
}

/** An optional `currency` on an item must repeat the order currency: one order, one currency. */
function checkItemCurrency(object: JsonObject, path: string, orderCurrency: string | undefined, collector: IssueCollector): void {
  const value = own(object, 'currency');
  if (value === undefined) return;
  const at = fieldPath(path, 'currency');
  if (typeof value !== 'string') {
    collector.add(at, `must be a string (got ${describeValue(value)})`);
  } else if (orderCurrency !== undefined && value !== orderCurrency) {
    collector.add(at, `mixed currencies: ${JSON.stringify(value)} differs from the order currency ${JSON.stringify(orderCurrency)}`);
  }
}

/** Remembers the first index of each identifier to report duplicates against it. */
class UniqueIds {
  private readonly firstIndexById = new Map<string, number>();

  constructor(
    private readonly listPath: string,
    private readonly key: string,
  ) {}

  check(id: string | undefined, index: number, collector: IssueCollector): void {
    if (id === undefined) return;
    const first = this.firstIndexById.get(id);
    if (first === undefined) {
      this.firstIndexById.set(id, index);
      return;
    }
    const at = fieldPath(indexPath(this.listPath, index), this.key);
    collector.add(at, `duplicates ${fieldPath(indexPath(this.listPath, first), this.key)} (${JSON.stringify(id)})`);
  }
}

function validateCurrency(root: JsonObject, collector: IssueCollector): string | undefined {
  const code = readString(root, 'currency', '', collector);
  if (code === undefined) return undefined;
  if (findCurrency(code) === undefined) return collector.add('currency', `unknown ISO 4217 currency ${JSON.stringify(code)}`);
  return code;
}

interface LineFacts {
  readonly sellerIds: Set<string>;
  grossMinor: bigint;
}

function validateLine(
  value: unknown,
  path: string,
  orderCurrency: string | undefined,
  collector: IssueCollector,
): { lineId?: string; sellerId?: string; grossMinor?: bigint } {
  const line = readObject(value, path, collector);
  if (line === undefined) return {};
  const lineId = readString(line, 'lineId', path, collector);
  readString(line, 'sku', path, collector);
  const sellerId = readString(line, 'sellerId', path, collector);
  readString(line, 'category', path, collector);
  const unitPrice = readInteger(line, 'unitPrice', path, amountRange, collector);
  const quantity = readInteger(line, 'quantity', path, quantityRange, collector);
  checkItemCurrency(line, path, orderCurrency, collector);
  if (unitPrice === undefined || quantity === undefined) return { lineId, sellerId };
  const grossMinor = BigInt(unitPrice) * BigInt(quantity);
  if (grossMinor > amountMinorMax) {
    collector.add(path, `gross unitPrice × quantity = ${grossMinor} exceeds the amount limit ${amountMinorMax}`);
    return { lineId, sellerId };
  }
  return { lineId, sellerId, grossMinor };
}

function readLineList(root: JsonObject, collector: IssueCollector): readonly unknown[] | undefined {
  const value = own(root, 'lines');
  if (value === undefined) return collector.add('lines', 'is required');
  if (!Array.isArray(value)) return collector.add('lines', `must be a list (got ${describeValue(value)})`);
  if (value.length > pricingLimits.linesMax) {
    return collector.add('lines', `must hold at most ${pricingLimits.linesMax} lines (got ${value.length})`);
  }
  return value as readonly unknown[];
}

function validateLines(root: JsonObject, orderCurrency: string | undefined, collector: IssueCollector): LineFacts {
  const facts: LineFacts = { sellerIds: new Set(), grossMinor: 0n };
  const lines = readLineList(root, collector);
  if (lines === undefined) return facts;
  const lineIds = new UniqueIds('lines', 'lineId');
  let everyGrossKnown = true;
  lines.forEach((item, index) => {
    const line = validateLine(item, indexPath('lines', index), orderCurrency, collector);
    lineIds.check(line.lineId, index, collector);
    if (line.sellerId !== undefined) facts.sellerIds.add(line.sellerId);
    if (line.grossMinor === undefined) everyGrossKnown = false;
    facts.grossMinor += line.grossMinor ?? 0n;
  });
  // The order-level check only adds information when every line passed its own.
  if (everyGrossKnown && facts.grossMinor > amountMinorMax) {
    collector.add('lines', `merchandise gross ${facts.grossMinor} exceeds the amount limit ${amountMinorMax}`);
  }
  return facts;
}

function validatePromotion(value: unknown, path: string, orderCurrency: string | undefined, collector: IssueCollector): string | undefined {
  const promotion = readObject(value, path, collector);
  if (promotion === undefined) return undefined;
  const id = readString(promotion, 'id', path, collector);
  readString(promotion, 'sellerId', path, collector);
  validateSkus(promotion, path, collector);
  const type = readEnum(promotion, 'type', path, ['percent', 'fixed_per_unit'], collector);
  if (type === 'percent') readInteger(promotion, 'rateBps', path, rateRange, collector);
  if (type === 'fixed_per_unit') readInteger(promotion, 'amount', path, amountRange, collector);
  checkItemCurrency(promotion, path, orderCurrency, collector);
  return id;
}

function validateSkus(promotion: JsonObject, path: string, collector: IssueCollector): void {
  const skus = readList(promotion, 'skus', path, pricingLimits.skusPerPromotionMax, collector);
  skus?.forEach((sku, index) => {
    const problem = stringProblem(sku);
    if (problem !== null) collector.add(indexPath(fieldPath(path, 'skus'), index), problem);
  });
}

function validateCampaign(value: unknown, path: string, orderCurrency: string | undefined, collector: IssueCollector): string | undefined {
  const campaign = readObject(value, path, collector);
  if (campaign === undefined) return undefined;
  const id = readString(campaign, 'id', path, collector);
  readOptionalString(campaign, 'category', path, collector);
  readOptionalString(campaign, 'sellerId', path, collector);
  readOptionalInteger(campaign, 'minSpend', path, amountRange, collector);
  readEnum(campaign, 'fundedBy', path, ['seller', 'platform'], collector);
  const type = readEnum(campaign, 'type', path, ['percent', 'fixed'], collector);
  validateDiscountTerms(campaign, path, type, collector);
  checkItemCurrency(campaign, path, orderCurrency, collector);
  return id;
}

/** The money terms shared by campaigns and vouchers, for the type that was read. */
function validateDiscountTerms(
  object: JsonObject,
  path: string,
  type: 'percent' | 'fixed' | 'free_shipping' | undefined,
  collector: IssueCollector,
): void {
  if (type === 'percent') readInteger(object, 'rateBps', path, rateRange, collector);
  if (type === 'percent' || type === 'free_shipping') readOptionalInteger(object, 'maxDiscount', path, amountRange, collector);
  if (type === 'fixed') readInteger(object, 'amount', path, amountRange, collector);
}

const voucherTypesByScope = {
  seller: ['percent', 'fixed'],
  platform: ['percent', 'fixed'],
  shipping: ['free_shipping', 'fixed'],
} as const;

function validateVoucherType(
  voucher: JsonObject,
  path: string,
  scope: keyof typeof voucherTypesByScope | undefined,
  collector: IssueCollector,
): 'percent' | 'fixed' | 'free_shipping' | undefined {
  const type = readEnum(voucher, 'type', path, ['percent', 'fixed', 'free_shipping'], collector);
  if (type === undefined || scope === undefined) return type;
  const allowed: readonly string[] = voucherTypesByScope[scope];
  if (allowed.includes(type)) return type;
  const expected = allowed.map((name) => `"${name}"`).join(' or ');
  return collector.add(fieldPath(path, 'type'), `a ${scope} voucher cannot be "${type}" (it must be ${expected})`);
}

function validateVoucher(value: unknown, path: string, orderCurrency: string | undefined, collector: IssueCollector): string | undefined {
  const voucher = readObject(value, path, collector);
  if (voucher === undefined) return undefined;
  const code = readString(voucher, 'code', path, collector);
  const scope = readEnum(voucher, 'scope', path, ['seller', 'platform', 'shipping'], collector);
  const type = validateVoucherType(voucher, path, scope, collector);
  if (scope === 'seller') validateSellerVoucherTarget(voucher, path, collector);
  if (scope === 'platform') readOptionalString(voucher, 'category', path, collector);
  readOptionalInteger(voucher, 'minSpend', path, amountRange, collector);
  validateDiscountTerms(voucher, path, type, collector);
  checkItemCurrency(voucher, path, orderCurrency, collector);
  return code;
}

function validateSellerVoucherTarget(voucher: JsonObject, path: string, collector: IssueCollector): void {
  const sellerId = own(voucher, 'sellerId');
  if (sellerId === undefined || sellerId === null) {
    collector.add(fieldPath(path, 'sellerId'), 'is required: a seller voucher names the seller that funds it');
  } else {
    checkString(sellerId, fieldPath(path, 'sellerId'), collector);
  }
  readOptionalString(voucher, 'category', path, collector);
}

type ItemValidator = (value: unknown, path: string, orderCurrency: string | undefined, collector: IssueCollector) => string | undefined;

/** Validates an optional list of promotions, campaigns or vouchers whose ids must be unique. */
function validateIdentifiedList(
  root: JsonObject,
  key: string,
  idKey: string,
  max: number,
  validateItem: ItemValidator,
  orderCurrency: string | undefined,
  collector: IssueCollector,
): void {
  const items = readList(root, key, '', max, collector);
  if (items === undefined) return;
  const ids = new UniqueIds(key, idKey);
  items.forEach((item, index) => {
    ids.check(validateItem(item, indexPath(key, index), orderCurrency, collector), index, collector);
  });
}

function validateShipping(root: JsonObject, sellerIds: ReadonlySet<string>, collector: IssueCollector): void {
  readIntegerMap(root, 'shippingFees', '', amountRange, collector);
  const fees = own(root, 'shippingFees');
  if (!isJsonObject(fees)) return;
  let shippingMinor = 0n;
  for (const sellerId of sellerIds) {
    const fee = own(fees, sellerId);
    if (typeof fee === 'number' && Number.isSafeInteger(fee) && fee > 0) shippingMinor += BigInt(fee);
  }
  if (shippingMinor > amountMinorMax) {
    collector.add('shippingFees', `total shipping ${shippingMinor} exceeds the amount limit ${amountMinorMax}`);
  }
}

function validateLoyalty(root: JsonObject, collector: IssueCollector): void {
  const value = own(root, 'loyalty');
  if (value === undefined || value === null) return;
  const loyalty = readObject(value, 'loyalty', collector);
  if (loyalty === undefined) return;
  readInteger(loyalty, 'points', 'loyalty', pointsRange, collector);
  readInteger(loyalty, 'minorUnitsPerPoint', 'loyalty', minorUnitsPerPointRange, collector);
  readOptionalInteger(loyalty, 'maxRedeemBps', 'loyalty', rateRange, collector);
}

function validateRates(root: JsonObject, collector: IssueCollector): void {
  readIntegerMap(root, 'taxRatesBps', '', rateRange, collector);
  readOptionalInteger(root, 'defaultTaxRateBps', '', rateRange, collector);
  readIntegerMap(root, 'commissionRatesBps', '', rateRange, collector);
  readOptionalInteger(root, 'defaultCommissionBps', '', rateRange, collector);
}

/**
 * Checks the structure, types, ranges and the input-side amount limits of a pricing input.
 * Returns every issue found; an empty list means the value is a well-formed {@link PricingInput}.
 * (Output-side limits are checked by the engine, which alone knows the computed amounts.)
 */
export function findInputIssues(value: unknown): ValidationIssue[] {
  if (!isJsonObject(value)) return [{ path: '', message: `the input must be a JSON object (got ${describeValue(value)})` }];
  const root = value;
  const collector = new IssueCollector();
  const currency = validateCurrency(root, collector);
  const lineFacts = validateLines(root, currency, collector);
  validateIdentifiedList(root, 'sellerPromotions', 'id', pricingLimits.sellerPromotionsMax, validatePromotion, currency, collector);
  validateIdentifiedList(root, 'categoryCampaigns', 'id', pricingLimits.categoryCampaignsMax, validateCampaign, currency, collector);
  validateIdentifiedList(root, 'vouchers', 'code', pricingLimits.vouchersMax, validateVoucher, currency, collector);
  validateShipping(root, lineFacts.sellerIds, collector);
  validateLoyalty(root, collector);
  validateRates(root, collector);
  return collector.issues;
}

/** Narrows a value to {@link PricingInput} once {@link findInputIssues} found nothing. */
export function isWellFormedInput(value: unknown, issues: readonly ValidationIssue[]): value is PricingInput {
  return issues.length === 0 && isJsonObject(value);
}
