/**
 * Cart: per user, in Redis (./redis-cart.ts), living `limits.cartTtlMs` after its last change.
 * It stores only skus, quantities and voucher codes; every read prices the cart afresh from the
 * catalog and the pricing engine, so a price never comes from a client or from a stale copy.
 *
 * A voucher code is accepted only when the voucher service says this user could use it now (a
 * read-only check: no slot is held until checkout) and the pricing engine applies it to this cart.
 *
 * A change that adds units (add, a higher quantity, a voucher) is priced as the would-be cart
 * first and refused with nothing written when that cart would not price (an amount beyond the
 * engine's limit). A cart that stops pricing later (an administrator raised a price) stays
 * readable: its view has `pricing: null` and `problems` naming the lines at fault, and lowering or
 * removing them always works.
 *
 * Cost of a change: one Redis read of the cart, one Postgres statement for the catalog data (in
 * parallel with one for the voucher definitions when the cart has codes), the engine, and the
 * change's script — whose returned version tells whether the cart changed in between; if not, the
 * view priced before the write is the answer (no second read).
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { BusinessError, ValidationError } from '../../lib/errors';
import { tryPrice, type PriceBreakdown, type PricingInput, type PricingValidationError } from '../../pricing';
import { assemblePricingInput, type CatalogService, type PricingData } from '../catalog';
import type { VoucherDefinition, VoucherService, VoucherWindowIssue } from '../vouchers';
import { partitionVouchers, toPricingVoucher } from '../vouchers';
import { externalIdSchema, fieldError, identifierSchema, parseInput, quantitySchema, voucherCodeSchema } from '../shared/validation';
import { limits } from '../limits';
import { cartKey, cartScripts, readCart, readCartEntries, scriptReply, type CartEntries, type StoredCart } from './redis-cart';

export interface CartItem {
  sku: string;
  sellerId: string;
  name: string;
  category: string;
  /** From the catalog, at read time. */
  unitPrice: number;
  quantity: number;
}

/** A voucher code in the cart that cannot be priced now (it expired or was removed since it was applied). */
export type CartVoucherIssue = VoucherWindowIssue;

/**
 * Why the cart cannot be priced, per line: `AMOUNT_LIMIT` (this line alone is beyond the pricing
 * engine's amount limit), `CART_AMOUNT_LIMIT` (the lines together are; the largest line is named),
 * `CURRENCY_MISMATCH` (the product is now priced in another currency than the cart's first line),
 * `UNKNOWN_SKU` (the product no longer exists; the line is not listed in `items`).
 */
export interface CartProblem {
  sku: string;
  code: 'AMOUNT_LIMIT' | 'CART_AMOUNT_LIMIT' | 'CURRENCY_MISMATCH' | 'UNKNOWN_SKU';
  message: string;
}

/** `GET /v1/cart` (api-contract.md), plus `currency`, `voucherIssues` and `problems`. */
export interface CartView {
  userId: string;
  items: CartItem[];
  vouchers: string[];
  /** The pricing engine's breakdown; null for an empty cart (the engine prices at least one line) or one with problems. */
  pricing: PriceBreakdown | null;
  currency: string | null;
  voucherIssues: CartVoucherIssue[];
  /** Empty unless the cart cannot be priced; then `pricing` is null and these name the lines to fix. */
  problems: CartProblem[];
}

/** What checkout needs: the cart's lines and codes, without prices (the saga prices them itself). */
export interface CartSnapshot {
  userId: string;
  lines: { sku: string; quantity: number }[];
  vouchers: string[];
  /** The stored entries the snapshot was taken from (see removeOrdered). */
  entries: CartEntries;
}

export interface CartService {
  get(userId: string): Promise<CartView>;
  /** Adds `quantity` units of `sku`; adds to the line when the sku is already in the cart. */
  addItem(userId: string, item: { sku: string; quantity: number }): Promise<CartView>;
  /** Sets a line's quantity (1..lineQuantityMax; remove the line to drop it). A sku not in the cart is a ValidationError. */
  setItemQuantity(userId: string, sku: string, quantity: number): Promise<CartView>;
  /** Removes a line; removing an absent line changes nothing. */
  removeItem(userId: string, sku: string): Promise<CartView>;
  /** Throws VOUCHER_* (the voucher service's refusal) or VOUCHER_REJECTED (details.reason: the pricing reason). */
  applyVoucher(userId: string, code: string): Promise<CartView>;
  removeVoucher(userId: string, code: string): Promise<CartView>;
  snapshot(userId: string): Promise<CartSnapshot>;
  /** Deletes the cart (after a completed checkout). */
  clear(userId: string): Promise<void>;
  /**
   * After a completed checkout: removes exactly the ordered lines and vouchers, each only while it is
   * still the entry the snapshot saw; idempotent.
   */
  removeOrdered(userId: string, entries: CartEntries): Promise<{ lines: number; vouchers: number }>;
}

export interface CartDeps {
  redis: Redis;
  catalog: Pick<CatalogService, 'loadPricingData'>;
  vouchers: Pick<VoucherService, 'check' | 'getDefinitions'>;
  /** The clock for voucher windows; injectable for tests. */
  now?: () => Date;
}

interface Line {
  sku: string;
  quantity: number;
}

/** What pricing a cart needs besides its lines and codes. */
interface Loaded {
  data: PricingData;
  definitions: Map<string, VoucherDefinition>;
}

const addItemSchema = z.strictObject({ sku: identifierSchema, quantity: quantitySchema });
const emptyData: PricingData = {
  products: new Map(),
  promotions: [],
  campaigns: [],
  config: { defaultTaxRateBps: 0, taxRatesBps: {}, defaultCommissionBps: 0, commissionRatesBps: {} },
};

export function createCartService({ redis, catalog, vouchers, now = () => new Date() }: CartDeps): CartService {
  /** The catalog data and voucher definitions of a cart: one statement each, in parallel. */
  async function load(lines: readonly Line[], codes: readonly string[]): Promise<Loaded> {
    const [data, definitions] = await Promise.all([
      lines.length > 0 ? catalog.loadPricingData(lines.map((l) => l.sku)) : emptyData,
      vouchers.getDefinitions(codes),
    ]);
    return { data, definitions };
  }

  /** The view of a cart holding `lines` and `codes`, priced with the loaded data (pure). */
  function compose(userId: string, lines: readonly Line[], codes: readonly string[], loaded: Loaded): CartView {
    const { usable, issues } = partitionVouchers(codes, loaded.definitions, now().getTime());
    const base = { userId, vouchers: [...codes], voucherIssues: issues };
    if (lines.length === 0) return { ...base, items: [], pricing: null, currency: null, problems: [] };
    const problems: CartProblem[] = [];
    const present: Line[] = [];
    const items: CartItem[] = [];
    let currency: string | null = null;
    for (const line of lines) {
      const product = loaded.data.products.get(line.sku);
      if (!product) {
        problems.push({ sku: line.sku, code: 'UNKNOWN_SKU', message: `product ${line.sku} no longer exists; remove the line` });
        continue;
      }
      currency ??= product.currency;
      if (product.currency !== currency) {
        problems.push({ sku: line.sku, code: 'CURRENCY_MISMATCH', message: `product ${line.sku} is now priced in ${product.currency}, the cart in ${currency}; remove the line` });
      }
      present.push(line);
      items.push({ sku: product.sku, sellerId: product.sellerId, name: product.name, category: product.category, unitPrice: product.unitPrice, quantity: line.quantity });
    }
    if (problems.length > 0) return { ...base, items, pricing: null, currency, problems };
    const { input } = assemblePricingInput(present, loaded.data, usable.map(toPricingVoucher));
    const result = tryPrice(input);
    if (result.ok) return { ...base, items, pricing: result.breakdown, currency, problems: [] };
    return { ...base, items, pricing: null, currency, problems: blame(input, result.error) };
  }

  async function get(userId: string): Promise<CartView> {
    const user = parseUserId(userId);
    return view(user, await readCart(redis, user));
  }

  async function view(userId: string, cart: StoredCart): Promise<CartView> {
    return compose(userId, cart.lines, cart.vouchers, await load(cart.lines, cart.vouchers));
  }

  /** The view priced before the write when the script's version shows nobody changed the cart meanwhile; else a fresh read. */
  async function afterWrite(userId: string, cart: StoredCart, version: string | undefined, priced: CartView): Promise<CartView> {
    return version !== undefined && Number(version) === cart.version + 1 ? priced : get(userId);
  }

  async function addItem(userId: string, item: { sku: string; quantity: number }): Promise<CartView> {
    const user = parseUserId(userId);
    const { sku, quantity } = parseInput(addItemSchema, item);
    const cart = await readCart(redis, user);
    const existing = cart.lines.find((l) => l.sku === sku);
    const lines: Line[] = existing
      ? cart.lines.map((l) => ({ sku: l.sku, quantity: l.sku === sku ? l.quantity + quantity : l.quantity }))
      : [...cart.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })), { sku, quantity }];
    const loaded = await load(lines, cart.vouchers);
    const product = loaded.data.products.get(sku);
    if (!product) throw fieldError('sku', `unknown sku ${sku}`);
    // The script checks these again, atomically; checking them first gives their refusal
    // precedence over the pricing check below.
    const refusal = limitRefusal(cart, { sku, quantity, sellerId: product.sellerId, currency: product.currency }, existing?.quantity);
    if (refusal) throw refusal;
    const priced = compose(user, lines, cart.vouchers, loaded);
    if (priced.problems.length > 0) throw notPriceable('sku', priced.problems);
    const [status, detail] = scriptReply(
      await cartScripts.addItem.run(redis, [cartKey(user)], [
        sku,
        quantity,
        product.sellerId,
        product.currency,
        limits.cartTtlMs,
        limits.cartLinesMax,
        limits.cartSellersMax,
        limits.lineQuantityMax,
      ]),
    );
    switch (status) {
      case 'OK':
        return afterWrite(user, cart, detail, priced);
      case 'CURRENCY_MISMATCH':
        throw currencyMismatch(sku, product.currency, detail);
      case 'QUANTITY_MAX':
        throw quantityMax(detail, quantity);
      case 'LINES_MAX':
        throw linesMax();
      case 'SELLERS_MAX':
        throw sellersMax();
      default:
        throw new Error(`unexpected cart script status ${status}`);
    }
  }

  async function setItemQuantity(userId: string, sku: string, quantity: number): Promise<CartView> {
    const user = parseUserId(userId);
    const args = parseInput(z.object({ sku: identifierSchema, quantity: quantitySchema }), { sku, quantity });
    const cart = await readCart(redis, user);
    const existing = cart.lines.find((l) => l.sku === args.sku);
    if (!existing) throw fieldError('sku', `${args.sku} is not in the cart`);
    const lines = cart.lines.map((l) => ({ sku: l.sku, quantity: l.sku === args.sku ? args.quantity : l.quantity }));
    const priced = compose(user, lines, cart.vouchers, await load(lines, cart.vouchers));
    // Lowering a quantity can only shrink amounts: it is how a buyer fixes a cart, so it is never refused.
    if (priced.problems.length > 0 && args.quantity > existing.quantity) throw notPriceable('quantity', priced.problems);
    const [status, version] = scriptReply(await cartScripts.setQuantity.run(redis, [cartKey(user)], [args.sku, args.quantity, limits.cartTtlMs]));
    if (status === 'NOT_IN_CART') throw fieldError('sku', `${args.sku} is not in the cart`);
    return afterWrite(user, cart, version, priced);
  }

  async function removeItem(userId: string, sku: string): Promise<CartView> {
    const user = parseUserId(userId);
    const id = parseInput(identifierSchema, sku, 'sku');
    await cartScripts.removeItem.run(redis, [cartKey(user)], [id, limits.cartTtlMs]);
    return get(user);
  }

  async function applyVoucher(userId: string, code: string): Promise<CartView> {
    const user = parseUserId(userId);
    const voucherCode = parseInput(voucherCodeSchema, code, 'code');
    const definition = await vouchers.check(voucherCode, user);
    const cart = await readCart(redis, user);
    if (cart.vouchers.includes(voucherCode)) return view(user, cart);
    if (cart.lines.length === 0) throw rejected(voucherCode, 'NOT_APPLICABLE');
    // Priced with its other codes plus this one (the definition the check just read).
    const loaded = await load(cart.lines, cart.vouchers);
    loaded.definitions.set(voucherCode, definition);
    const priced = compose(user, cart.lines, [...cart.vouchers, voucherCode], loaded);
    if (priced.problems.length > 0 || !priced.pricing) throw notPriceable('code', priced.problems);
    const rejection = priced.pricing.rejectedVouchers.find((r) => r.code === voucherCode);
    if (rejection) throw rejected(voucherCode, rejection.reason);
    const [status, version] = scriptReply(await cartScripts.addVoucher.run(redis, [cartKey(user)], [voucherCode, limits.cartTtlMs, limits.cartVouchersMax]));
    if (status === 'VOUCHERS_MAX') throw fieldError('code', `a cart holds at most ${limits.cartVouchersMax} voucher codes`);
    return afterWrite(user, cart, version, priced);
  }

  async function removeVoucher(userId: string, code: string): Promise<CartView> {
    const user = parseUserId(userId);
    const voucherCode = parseInput(voucherCodeSchema, code, 'code');
    await cartScripts.removeVoucher.run(redis, [cartKey(user)], [voucherCode, limits.cartTtlMs]);
    return get(user);
  }

  async function snapshot(userId: string): Promise<CartSnapshot> {
    const user = parseUserId(userId);
    const cart = await readCartEntries(redis, user);
    return {
      userId: user,
      lines: cart.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      vouchers: cart.vouchers.map((v) => v.code),
      entries: { lines: cart.lines.map((l) => ({ sku: l.sku, seq: l.seq, quantity: l.quantity })), vouchers: cart.vouchers },
    };
  }

  async function removeOrdered(userId: string, entries: CartEntries): Promise<{ lines: number; vouchers: number }> {
    const args: (string | number)[] = [limits.cartTtlMs, entries.lines.length];
    for (const line of entries.lines) args.push(line.sku, line.seq, line.quantity);
    for (const voucher of entries.vouchers) args.push(voucher.code, voucher.seq);
    const removed = (await cartScripts.removeOrdered.run(redis, [cartKey(parseUserId(userId))], args)) as [string, string, string];
    return { lines: Number(removed[1]), vouchers: Number(removed[2]) };
  }

  async function clear(userId: string): Promise<void> {
    await redis.del(cartKey(parseUserId(userId)));
  }

  return { get, addItem, setItemQuantity, removeItem, applyVoucher, removeVoucher, snapshot, clear, removeOrdered };
}

function parseUserId(userId: string): string {
  return parseInput(externalIdSchema, userId, 'userId');
}

/** The add script's refusals, checked on the cart as read (the script repeats them atomically). */
function limitRefusal(
  cart: StoredCart,
  add: { sku: string; quantity: number; sellerId: string; currency: string },
  existingQuantity: number | undefined,
): ValidationError | undefined {
  if (cart.lines.length > 0 && cart.currency !== null && cart.currency !== add.currency) return currencyMismatch(add.sku, add.currency, cart.currency);
  if (existingQuantity !== undefined) {
    return existingQuantity + add.quantity > limits.lineQuantityMax ? quantityMax(String(existingQuantity), add.quantity) : undefined;
  }
  if (cart.lines.length + 1 > limits.cartLinesMax) return linesMax();
  const sellers = new Set(cart.lines.map((l) => l.sellerId));
  if (!sellers.has(add.sellerId) && sellers.size + 1 > limits.cartSellersMax) return sellersMax();
  return undefined;
}

function currencyMismatch(sku: string, currency: string, cartCurrency: string | undefined): ValidationError {
  return fieldError('sku', `${sku} is priced in ${currency} but the cart is in ${cartCurrency ?? '?'}: one currency per cart`);
}

function quantityMax(held: string | undefined, quantity: number): ValidationError {
  return fieldError('quantity', `the line holds ${held ?? '?'} units; with ${quantity} more it would exceed ${limits.lineQuantityMax}`);
}

function linesMax(): ValidationError {
  return fieldError('sku', `a cart holds at most ${limits.cartLinesMax} lines`);
}

function sellersMax(): ValidationError {
  return fieldError('sku', `a cart holds products of at most ${limits.cartSellersMax} sellers`);
}

/** The change would leave a cart the engine cannot price: refused, one issue per problem, on `path`. */
function notPriceable(path: string, problems: readonly CartProblem[]): ValidationError {
  const issues = problems.map((p) => ({ path, message: `the cart would not price (${p.code}, line ${p.sku}): ${p.message}` }));
  return new ValidationError(issues.length > 0 ? issues : [{ path, message: 'the cart would not price' }]);
}

/**
 * The lines to blame for a pricing refusal. A line-level issue (`lines[i]…`) names its line. A
 * cart-level one (an output amount or a sum beyond the limit) names each line that cannot be
 * priced even alone; when every line can, the sum is at fault and the largest line is named.
 */
function blame(input: PricingInput, error: PricingValidationError): CartProblem[] {
  const problems: CartProblem[] = [];
  const named = new Set<string>();
  const cartLevel: string[] = [];
  for (const issue of error.issues) {
    const index = /^lines\[(\d+)\]/.exec(issue.path)?.[1];
    const line = index === undefined ? undefined : input.lines[Number(index)];
    if (line && !named.has(line.sku)) {
      named.add(line.sku);
      problems.push({ sku: line.sku, code: 'AMOUNT_LIMIT', message: issue.message });
    } else if (!line) {
      cartLevel.push(issue.message);
    }
  }
  if (cartLevel.length === 0 && problems.length > 0) return problems;
  for (const line of input.lines) {
    if (named.has(line.sku)) continue;
    const alone = tryPrice({ ...input, lines: [line] });
    if (!alone.ok) {
      named.add(line.sku);
      problems.push({ sku: line.sku, code: 'AMOUNT_LIMIT', message: alone.error.issues.map((i) => i.message).join('; ') });
    }
  }
  if (problems.length > 0) return problems;
  const largest = input.lines.reduce((a, b) => (BigInt(b.unitPrice) * BigInt(b.quantity) > BigInt(a.unitPrice) * BigInt(a.quantity) ? b : a));
  return [{ sku: largest.sku, code: 'CART_AMOUNT_LIMIT', message: `${cartLevel.join('; ') || error.message}; lower or remove lines (this is the largest)` }];
}

function rejected(code: string, reason: string): BusinessError {
  return new BusinessError('VOUCHER_REJECTED', `voucher ${code} does not apply to this cart (${reason})`, { code, reason });
}
