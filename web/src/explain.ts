/**
 * Every refusal the API can give, in words a buyer or seller understands (api-contract.md's
 * failure codes and the other error codes the storefront can meet). The code stays visible next
 * to the words for support, but the words come first.
 */

export type Details = Record<string, unknown>;

const voucherOf = (details: Details): string => {
  const code = details.code ?? details.voucherCode;
  return typeof code === 'string' ? `“${code}”` : 'this voucher';
};

/** Why pricing refused a voucher (pricing-spec.md, Voucher acceptance). */
export const voucherReasons: Record<string, string> = {
  STACKING_NOT_ALLOWED: 'another voucher of the same kind is already applied (one seller voucher per seller, one platform voucher and one shipping voucher per order)',
  NOT_APPLICABLE: 'none of the items in your cart qualify for it (or there is no shipping to discount)',
  MIN_SPEND_NOT_MET: 'your cart does not reach its minimum spend yet',
};

export function explainVoucherReason(reason: string): string {
  return voucherReasons[reason] ?? `pricing refused it (${reason})`;
}

interface ShortLine {
  sku: string;
  requested: number;
  available: number;
}

/** The short lines of an INSUFFICIENT_STOCK refusal (details.lines, or one line at the top level). */
export function shortLinesOf(details: Details): ShortLine[] {
  const isLine = (v: unknown): v is ShortLine =>
    typeof v === 'object' && v !== null && typeof (v as ShortLine).sku === 'string' && typeof (v as ShortLine).available === 'number' && typeof (v as ShortLine).requested === 'number';
  if (Array.isArray(details.lines)) return details.lines.filter(isLine);
  return isLine(details) ? [details] : [];
}

type Explainer = (details: Details, names: (sku: string) => string) => string;

const explainers: Record<string, Explainer> = {
  INSUFFICIENT_STOCK: (d, names) => {
    const lines = shortLinesOf(d);
    if (lines.length === 0) return 'Some items are no longer in stock in the quantity you asked for.';
    return `Not enough stock: ${lines.map((l) => `${names(l.sku)}: you asked for ${l.requested}, only ${l.available} available`).join('; ')}.`;
  },
  VOUCHER_EXPIRED: (d) => `The voucher ${voucherOf(d)} has expired. Remove it to check out.`,
  VOUCHER_NOT_STARTED: (d) => `The voucher ${voucherOf(d)} is not valid yet. Remove it, or come back when it starts.`,
  VOUCHER_EXHAUSTED: (d) => `The voucher ${voucherOf(d)} has been used up: it reached its usage limit.`,
  VOUCHER_USER_LIMIT: (d) => `You have already used the voucher ${voucherOf(d)} as many times as it allows.`,
  VOUCHER_NOT_FOUND: (d) => `There is no voucher ${voucherOf(d)}. Check the spelling.`,
  VOUCHER_REJECTED: (d) => `The voucher ${voucherOf(d)} cannot be used on this cart: ${explainVoucherReason(typeof d.reason === 'string' ? d.reason : '')}.`,
  PAYMENT_DECLINED: () => 'Your payment was declined. Nothing was charged and nothing is reserved; try another payment method.',
  PAYMENT_TIMEOUT: () => 'Your payment was not confirmed in time, so the order was cancelled. Anything taken is refunded; you can try again.',
  PRICE_CHANGED: () => 'The price changed since you looked at your cart. Check the new breakdown below, then place the order again.',
  CART_EMPTY: () => 'Your cart is empty: add something from the catalog first.',
  CART_INVALID: () => 'Your cart can no longer be priced (a product changed or was removed). Review the cart and try again.',
  CHECKOUT_REFUSED: () => 'The checkout was refused and nothing was charged. Review your cart and try again.',
  IDEMPOTENCY_KEY_REUSED: () => 'This checkout attempt was already used for a different cart or payment method. Place the order again to start a new attempt.',
  RATE_LIMITED: (d) => `Too many checkout attempts. Wait ${typeof d.retryAfterSeconds === 'number' ? `${d.retryAfterSeconds} seconds` : 'a moment'} and try again.`,
  SERVICE_UNAVAILABLE: () => 'A service we depend on is briefly unavailable. Try again in a moment: your order will not be placed twice.',
  VALIDATION_FAILED: (d) => {
    const issues = Array.isArray(d.issues) ? (d.issues as { path?: string; message?: string }[]) : [];
    return issues.length > 0 ? `Some input was not accepted: ${issues.map((i) => `${i.path ?? ''} ${i.message ?? ''}`.trim()).join('; ')}.` : 'Some input was not accepted.';
  },
  MALFORMED_JSON: () => 'The request could not be read. Reload the page and try again.',
  UNAUTHENTICATED: () => 'Your sign-in has expired. Sign in again.',
  FORBIDDEN: () => 'You are not allowed to do this with the user you signed in as.',
  NOT_FOUND: () => 'We could not find that (it may have been removed).',
  INVALID_STATE: (d) => `This parcel has moved on${typeof d.status === 'string' ? ` (it is ${d.status.toLowerCase()})` : ''}: the action no longer fits. The page now shows its current state.`,
  NETWORK: () => 'The server could not be reached. Check your connection and try again: a checkout is never placed twice.',
  INTERNAL: () => 'Something went wrong on our side. Try again; a checkout is never placed twice.',
};

/** Codes the storefront explains in words (the tests check every code of the contract is here). */
export const explainedCodes: readonly string[] = Object.keys(explainers);

export function explain(code: string, details: Details = {}, names: (sku: string) => string = (sku) => sku): string {
  const explainer = explainers[code];
  return explainer ? explainer(details, names) : `The request was refused (${code}).`;
}
