/**
 * Prices a cart snapshot from the catalog: catalog prices, the current voucher definitions in the
 * order the buyer applied them, today's promotions, campaigns and rates. The checkout saga (inside
 * the workflow, through an activity that loads the input) and the API's pre-check and
 * PRICE_CHANGED check both use it, so both always compute the same grand total.
 *
 * Vouchers follow the cart's rule (services/vouchers/window.ts, `partitionVouchers`): a code the
 * cart leaves out of its price (unknown, not started, expired) is never priced in here either —
 * the checkout is refused with that code's VOUCHER_* refusal instead (the first such code in cart
 * order), before anything is reserved.
 */
import type { PricingInput } from '../pricing';
import type { CatalogService } from './catalog';
import { partitionVouchers, toPricingVoucher, voucherRefusal, type VoucherDefinition, type VoucherService } from './vouchers';

export interface CheckoutPricingDeps {
  catalog: Pick<CatalogService, 'buildPricingInput'>;
  vouchers: Pick<VoucherService, 'getDefinitions'>;
  /** The clock of the voucher windows (the cart's too); injectable for tests. */
  now?: () => Date;
}

export function createCheckoutPricing({ catalog, vouchers, now = () => new Date() }: CheckoutPricingDeps) {
  /** The definitions of `codes` in order; throws the first refusal (VOUCHER_NOT_FOUND / _NOT_STARTED / _EXPIRED). */
  function usableOrThrow(codes: readonly string[], definitions: ReadonlyMap<string, VoucherDefinition>): VoucherDefinition[] {
    const { usable, issues } = partitionVouchers(codes, definitions, now().getTime());
    const first = issues[0];
    if (first) throw voucherRefusal(first.reason, first.code, definitions.get(first.code));
    return usable;
  }

  return {
    /**
     * Throws VOUCHER_NOT_FOUND / VOUCHER_NOT_STARTED / VOUCHER_EXPIRED for the first code the cart
     * would not price, ValidationError for a line the catalog refuses. The catalog data and the
     * voucher definitions are read in parallel (one round trip each).
     */
    async buildPricingInput(items: readonly { sku: string; quantity: number }[], voucherCodes: readonly string[]): Promise<PricingInput> {
      const [catalogPricing, definitions] = await Promise.allSettled([catalog.buildPricingInput(items), vouchers.getDefinitions(voucherCodes)]);
      if (definitions.status === 'rejected') throw definitions.reason;
      // The vouchers' verdict first (as the saga's order has it), then the catalog's.
      const usable = usableOrThrow(voucherCodes, definitions.value);
      if (catalogPricing.status === 'rejected') throw catalogPricing.reason;
      return { ...catalogPricing.value.input, vouchers: usable.map(toPricingVoucher) };
    },
  };
}

export type CheckoutPricing = ReturnType<typeof createCheckoutPricing>;
