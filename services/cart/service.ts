/**
 * Cart: per user, in Redis (./redis-cart.ts), living `limits.cartTtlMs` after its last change.
 * It stores only skus, quantities and voucher codes; every read prices the cart afresh from the
 * catalog and the pricing engine, so a price never comes from a client or from a stale copy.
 *
 * A voucher code is accepted only when the voucher service says this user could use it now (a
 * read-only check: no slot is held until checkout) and the pricing engine applies it to this cart.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { BusinessError, ValidationError } from '../../lib/errors';
import { price, PricingValidationError, type PriceBreakdown } from '../../pricing';
import type { CatalogService } from '../catalog';
import type { VoucherDefinition, VoucherRefusalCode, VoucherService } from '../vouchers';
import { toPricingVoucher } from '../vouchers';
import { externalIdSchema, fieldError, identifierSchema, parseInput, quantitySchema, voucherCodeSchema } from '../catalog/validation';
import { limits } from '../limits';
import { cartKey, cartScripts, readCart, scriptReply, type StoredCart } from './redis-cart';

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
export interface CartVoucherIssue {
  code: string;
  reason: Extract<VoucherRefusalCode, 'VOUCHER_NOT_FOUND' | 'VOUCHER_NOT_STARTED' | 'VOUCHER_EXPIRED'>;
}

/** `GET /v1/cart` (api-contract.md), plus `currency` and `voucherIssues`. */
export interface CartView {
  userId: string;
  items: CartItem[];
  vouchers: string[];
  /** The pricing engine's breakdown; null for an empty cart (the engine prices at least one line). */
  pricing: PriceBreakdown | null;
  currency: string | null;
  voucherIssues: CartVoucherIssue[];
}

/** What checkout needs: the cart's lines and codes, without prices (the saga prices them itself). */
export interface CartSnapshot {
  userId: string;
  lines: { sku: string; quantity: number }[];
  vouchers: string[];
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
}

export interface CartDeps {
  redis: Redis;
  catalog: Pick<CatalogService, 'getProducts' | 'buildPricingInput'>;
  vouchers: Pick<VoucherService, 'check' | 'getDefinitions'>;
  /** The clock for voucher windows; injectable for tests. */
  now?: () => Date;
}

const addItemSchema = z.strictObject({ sku: identifierSchema, quantity: quantitySchema });

export function createCartService({ redis, catalog, vouchers, now = () => new Date() }: CartDeps): CartService {
  async function get(userId: string): Promise<CartView> {
    const user = parseUserId(userId);
    return view(user, await readCart(redis, user));
  }

  async function view(userId: string, cart: StoredCart): Promise<CartView> {
    const empty: CartView = { userId, items: [], vouchers: cart.vouchers, pricing: null, currency: null, voucherIssues: [] };
    const definitions = await vouchers.getDefinitions(cart.vouchers);
    const { priced, issues } = usableVouchers(cart.vouchers, definitions, now().getTime());
    if (cart.lines.length === 0) return { ...empty, voucherIssues: issues };
    const { input, products } = await catalog.buildPricingInput(
      cart.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      priced.map(toPricingVoucher),
    );
    const items = products.map((p, index) => ({
      sku: p.sku,
      sellerId: p.sellerId,
      name: p.name,
      category: p.category,
      unitPrice: p.unitPrice,
      quantity: cart.lines[index]?.quantity ?? 0,
    }));
    return { userId, items, vouchers: cart.vouchers, pricing: priceOrThrow(input), currency: input.currency, voucherIssues: issues };
  }

  async function addItem(userId: string, item: { sku: string; quantity: number }): Promise<CartView> {
    const user = parseUserId(userId);
    const { sku, quantity } = parseInput(addItemSchema, item);
    const product = (await catalog.getProducts([sku])).get(sku);
    if (!product) throw fieldError('sku', `unknown sku ${sku}`);
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
        return get(user);
      case 'CURRENCY_MISMATCH':
        throw fieldError('sku', `${sku} is priced in ${product.currency} but the cart is in ${detail ?? '?'}: one currency per cart`);
      case 'QUANTITY_MAX':
        throw fieldError('quantity', `the line holds ${detail ?? '?'} units; with ${quantity} more it would exceed ${limits.lineQuantityMax}`);
      case 'LINES_MAX':
        throw fieldError('sku', `a cart holds at most ${limits.cartLinesMax} lines`);
      case 'SELLERS_MAX':
        throw fieldError('sku', `a cart holds products of at most ${limits.cartSellersMax} sellers`);
      default:
        throw new Error(`unexpected cart script status ${status}`);
    }
  }

  async function setItemQuantity(userId: string, sku: string, quantity: number): Promise<CartView> {
    const user = parseUserId(userId);
    const args = parseInput(z.object({ sku: identifierSchema, quantity: quantitySchema }), { sku, quantity });
    const [status] = scriptReply(await cartScripts.setQuantity.run(redis, [cartKey(user)], [args.sku, args.quantity, limits.cartTtlMs]));
    if (status === 'NOT_IN_CART') throw fieldError('sku', `${args.sku} is not in the cart`);
    return get(user);
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
    await assertPricingAccepts(cart, definition);
    const [status] = scriptReply(await cartScripts.addVoucher.run(redis, [cartKey(user)], [voucherCode, limits.cartTtlMs, limits.cartVouchersMax]));
    if (status === 'VOUCHERS_MAX') throw fieldError('code', `a cart holds at most ${limits.cartVouchersMax} voucher codes`);
    return get(user);
  }

  /** Prices the cart with its usable vouchers plus the new one; refuses when the engine rejects it. */
  async function assertPricingAccepts(cart: StoredCart, definition: VoucherDefinition): Promise<void> {
    if (cart.lines.length === 0) throw rejected(definition.code, 'NOT_APPLICABLE');
    const existing = await vouchers.getDefinitions(cart.vouchers);
    const { priced } = usableVouchers(cart.vouchers, existing, now().getTime());
    const { input } = await catalog.buildPricingInput(
      cart.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      [...priced, definition].map(toPricingVoucher),
    );
    const rejection = priceOrThrow(input).rejectedVouchers.find((r) => r.code === definition.code);
    if (rejection) throw rejected(definition.code, rejection.reason);
  }

  async function removeVoucher(userId: string, code: string): Promise<CartView> {
    const user = parseUserId(userId);
    const voucherCode = parseInput(voucherCodeSchema, code, 'code');
    await cartScripts.removeVoucher.run(redis, [cartKey(user)], [voucherCode, limits.cartTtlMs]);
    return get(user);
  }

  async function snapshot(userId: string): Promise<CartSnapshot> {
    const user = parseUserId(userId);
    const cart = await readCart(redis, user);
    return { userId: user, lines: cart.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })), vouchers: cart.vouchers };
  }

  async function clear(userId: string): Promise<void> {
    await redis.del(cartKey(parseUserId(userId)));
  }

  return { get, addItem, setItemQuantity, removeItem, applyVoucher, removeVoucher, snapshot, clear };
}

function parseUserId(userId: string): string {
  return parseInput(externalIdSchema, userId, 'userId');
}

/** The cart's codes that can be priced now, in cart order, and the others with the reason. */
function usableVouchers(
  codes: readonly string[],
  definitions: ReadonlyMap<string, VoucherDefinition>,
  atMs: number,
): { priced: VoucherDefinition[]; issues: CartVoucherIssue[] } {
  const priced: VoucherDefinition[] = [];
  const issues: CartVoucherIssue[] = [];
  for (const code of codes) {
    const def = definitions.get(code);
    if (!def) issues.push({ code, reason: 'VOUCHER_NOT_FOUND' });
    else if (def.startsAt !== null && atMs < Date.parse(def.startsAt)) issues.push({ code, reason: 'VOUCHER_NOT_STARTED' });
    else if (def.expiresAt !== null && atMs >= Date.parse(def.expiresAt)) issues.push({ code, reason: 'VOUCHER_EXPIRED' });
    else priced.push(def);
  }
  return { priced, issues };
}

function priceOrThrow(input: Parameters<typeof price>[0]): PriceBreakdown {
  try {
    return price(input);
  } catch (err) {
    if (err instanceof PricingValidationError) throw new ValidationError(err.issues.map((i) => ({ path: i.path, message: i.message })));
    throw err;
  }
}

function rejected(code: string, reason: string): BusinessError {
  return new BusinessError('VOUCHER_REJECTED', `voucher ${code} does not apply to this cart (${reason})`, { code, reason });
}
