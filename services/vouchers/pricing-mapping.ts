/** A voucher definition as the pricing engine takes it (pricing-spec.md §2). Pure. */
import type { VoucherInput } from '../../pricing';
import type { VoucherDefinition } from './types';

/** The pricing engine's voucher shape (pricing-spec.md §2) of a definition. */
export function toPricingVoucher(def: VoucherDefinition): VoucherInput {
  const minSpend = def.minSpend;
  if (def.scope === 'shipping') {
    return def.type === 'fixed'
      ? { code: def.code, scope: 'shipping', type: 'fixed', amount: def.amount ?? 0, minSpend }
      : { code: def.code, scope: 'shipping', type: 'free_shipping', maxDiscount: def.maxDiscount, minSpend };
  }
  const terms =
    def.type === 'percent'
      ? ({ type: 'percent', rateBps: def.rateBps ?? 0, maxDiscount: def.maxDiscount } as const)
      : ({ type: 'fixed', amount: def.amount ?? 0 } as const);
  return def.scope === 'seller'
    ? { code: def.code, scope: 'seller', sellerId: def.sellerId ?? '', category: def.category, minSpend, ...terms }
    : { code: def.code, scope: 'platform', category: def.category, minSpend, ...terms };
}
