/**
 * Prices a cart snapshot from the catalog: catalog prices, the current voucher definitions in the
 * order the buyer applied them, today's promotions, campaigns and rates. The checkout saga (inside
 * the workflow, through an activity that loads the input) and the API's PRICE_CHANGED pre-check
 * both use it, so both always compute the same grand total.
 */
import type { PricingInput } from '../pricing';
import type { CatalogService } from './catalog';
import { toPricingVoucher, voucherRefusal, type VoucherService } from './vouchers';

export interface CheckoutPricingDeps {
  catalog: Pick<CatalogService, 'buildPricingInput'>;
  vouchers: Pick<VoucherService, 'getDefinitions'>;
}

export function createCheckoutPricing({ catalog, vouchers }: CheckoutPricingDeps) {
  return {
    /** Throws VOUCHER_NOT_FOUND for a code with no definition, ValidationError for a line the catalog refuses. */
    async buildPricingInput(items: readonly { sku: string; quantity: number }[], voucherCodes: readonly string[]): Promise<PricingInput> {
      const definitions = await vouchers.getDefinitions(voucherCodes);
      const missing = voucherCodes.find((code) => !definitions.has(code));
      if (missing !== undefined) throw voucherRefusal('VOUCHER_NOT_FOUND', missing);
      const voucherInputs = voucherCodes.map((code) => toPricingVoucher(definitions.get(code)!));
      const { input } = await catalog.buildPricingInput(items, voucherInputs);
      return input;
    },
  };
}

export type CheckoutPricing = ReturnType<typeof createCheckoutPricing>;
