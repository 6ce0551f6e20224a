/**
 * Input schemas of the catalog's admin operations (api-contract.md, "Catalog administration") and
 * of the pricing-input builder. Shapes follow pricing-spec.md; every amount is integer minor units,
 * every rate integer basis points.
 */
import { z } from 'zod';
import { limits } from '../limits';
import {
  amountSchema,
  categorySchema,
  currencySchema,
  identifierSchema,
  nameSchema,
  quantitySchema,
  rateBpsSchema,
} from '../shared/validation';

/** A Stripe connected account id: where the seller's payouts go. */
export const stripeAccountIdSchema = z.string().regex(/^acct_[A-Za-z0-9]+$/, 'must be a Stripe connected account id (acct_...)');

export const sellerInputSchema = z.strictObject({
  name: nameSchema,
  shippingFee: amountSchema,
  /** Absent: left as it is; null: removed (payouts then wait for a new one). */
  stripeAccountId: stripeAccountIdSchema.nullable().optional(),
});

export const productInputSchema = z.strictObject({
  sellerId: identifierSchema,
  name: nameSchema,
  category: categorySchema,
  unitPrice: amountSchema,
  currency: currencySchema,
  /** Sets the on-hand quantity; absent leaves it unchanged (0 for a new product). */
  stock: z.int().min(0).max(limits.stockUnitsMax).optional(),
});

const promotionBase = {
  sellerId: identifierSchema,
  /** Absent or null: every sku of the seller. */
  skus: z.array(identifierSchema).max(limits.promotionSkusMax).nullable().optional(),
  active: z.boolean().optional(),
};

export const promotionInputSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...promotionBase, type: z.literal('percent'), rateBps: rateBpsSchema }),
  z.strictObject({ ...promotionBase, type: z.literal('fixed_per_unit'), amount: amountSchema }),
]);

const campaignBase = {
  category: categorySchema.nullable().optional(),
  sellerId: identifierSchema.nullable().optional(),
  minSpend: amountSchema.nullable().optional(),
  fundedBy: z.enum(['seller', 'platform']),
  active: z.boolean().optional(),
};

export const campaignInputSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...campaignBase, type: z.literal('percent'), rateBps: rateBpsSchema, maxDiscount: amountSchema.nullable().optional() }),
  z.strictObject({ ...campaignBase, type: z.literal('fixed'), amount: amountSchema }),
]);

const rateMapSchema = z
  .record(categorySchema, rateBpsSchema)
  .refine((map) => Object.keys(map).length <= limits.rateMapEntriesMax, `must have at most ${limits.rateMapEntriesMax} entries`);

export const pricingConfigInputSchema = z.strictObject({
  defaultTaxRateBps: rateBpsSchema,
  taxRatesBps: rateMapSchema.optional(),
  defaultCommissionBps: rateBpsSchema,
  commissionRatesBps: rateMapSchema.optional(),
});

export const pricingLinesSchema = z
  .array(z.strictObject({ sku: identifierSchema, quantity: quantitySchema }))
  .min(1, 'must hold at least one line')
  .max(limits.cartLinesMax, `must hold at most ${limits.cartLinesMax} lines`);

export type SellerInput = z.input<typeof sellerInputSchema>;
export type ProductInput = z.input<typeof productInputSchema>;
export type PromotionInput = z.input<typeof promotionInputSchema>;
export type CampaignInput = z.input<typeof campaignInputSchema>;
export type PricingConfigInput = z.input<typeof pricingConfigInputSchema>;
