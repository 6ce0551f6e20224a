/**
 * The one rule that decides whether a voucher code of a cart can be priced at a given instant: it
 * exists and the instant is inside its window (from `startsAt` inclusive until `expiresAt`
 * exclusive). The cart view (services/cart), the checkout's pricing (services/checkout-pricing.ts,
 * used by the saga and the API's pre-check) and the voucher service's own `check` all use it, so a
 * cart never shows a price the checkout would not charge.
 */
import type { VoucherDefinition, VoucherRefusalCode } from './types';

export type VoucherWindowRefusal = Extract<VoucherRefusalCode, 'VOUCHER_NOT_FOUND' | 'VOUCHER_NOT_STARTED' | 'VOUCHER_EXPIRED'>;

/** A code that cannot be priced now, with the reason. */
export interface VoucherWindowIssue {
  code: string;
  reason: VoucherWindowRefusal;
}

/** Why `def` cannot be used at `atMs` (epoch ms), or undefined when it can. */
export function windowRefusalAt(def: Pick<VoucherDefinition, 'startsAt' | 'expiresAt'>, atMs: number): 'VOUCHER_NOT_STARTED' | 'VOUCHER_EXPIRED' | undefined {
  if (def.startsAt !== null && atMs < Date.parse(def.startsAt)) return 'VOUCHER_NOT_STARTED';
  if (def.expiresAt !== null && atMs >= Date.parse(def.expiresAt)) return 'VOUCHER_EXPIRED';
  return undefined;
}

/**
 * Splits `codes` (in cart order) into the definitions that can be priced at `atMs`, in the same
 * order, and the codes that cannot, with their reason (unknown code, not started, expired).
 */
export function partitionVouchers(
  codes: readonly string[],
  definitions: ReadonlyMap<string, VoucherDefinition>,
  atMs: number,
): { usable: VoucherDefinition[]; issues: VoucherWindowIssue[] } {
  const usable: VoucherDefinition[] = [];
  const issues: VoucherWindowIssue[] = [];
  for (const code of codes) {
    const def = definitions.get(code);
    const reason = def ? windowRefusalAt(def, atMs) : 'VOUCHER_NOT_FOUND';
    if (reason || !def) issues.push({ code, reason: reason ?? 'VOUCHER_NOT_FOUND' });
    else usable.push(def);
  }
  return { usable, issues };
}
