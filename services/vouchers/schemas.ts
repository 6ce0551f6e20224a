/**
 * The voucher definition of api-contract.md (`PUT /v1/admin/vouchers/{code}`): the pricing fields
 * of pricing-spec.md plus the validity window and the usage limits. The combinations the pricing
 * engine does not allow are rejected here, with the field named.
 */
import { z } from 'zod';
import { limits } from '../limits';
import { amountSchema, categorySchema, identifierSchema, rateBpsSchema } from '../shared/validation';

const timestampSchema = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 timestamp with a time zone' });

export const voucherInputSchema = z
  .strictObject({
    scope: z.enum(['seller', 'platform', 'shipping']),
    type: z.enum(['percent', 'fixed', 'free_shipping']),
    rateBps: rateBpsSchema.optional(),
    amount: amountSchema.optional(),
    maxDiscount: amountSchema.nullable().optional(),
    minSpend: amountSchema.nullable().optional(),
    sellerId: identifierSchema.nullable().optional(),
    category: categorySchema.nullable().optional(),
    startsAt: timestampSchema.nullable().optional(),
    expiresAt: timestampSchema.nullable().optional(),
    /** Absent or null: no total limit. */
    totalLimit: z.int().min(0).max(limits.voucherTotalLimitMax).nullable().optional(),
    /** Absent or null: no per-user limit. */
    perUserLimit: z.int().min(0).max(limits.voucherPerUserLimitMax).nullable().optional(),
  })
  .superRefine((v, ctx) => {
    const issue = (path: string, message: string): void => {
      ctx.addIssue({ code: 'custom', path: [path], message });
    };
    const present = (value: unknown): boolean => value !== undefined && value !== null;
    if (v.type === 'percent') {
      if (v.rateBps === undefined) issue('rateBps', 'is required for a percent voucher');
      if (v.amount !== undefined) issue('amount', 'is not allowed for a percent voucher');
      if (v.scope === 'shipping') issue('type', 'a shipping voucher is free_shipping or fixed, not percent');
    }
    if (v.type === 'fixed') {
      if (v.amount === undefined) issue('amount', 'is required for a fixed voucher');
      if (v.rateBps !== undefined) issue('rateBps', 'is not allowed for a fixed voucher');
      if (present(v.maxDiscount)) issue('maxDiscount', 'is not allowed for a fixed voucher');
    }
    if (v.type === 'free_shipping') {
      if (v.scope !== 'shipping') issue('type', 'free_shipping is only allowed for scope shipping');
      if (v.rateBps !== undefined) issue('rateBps', 'is not allowed for a free_shipping voucher');
      if (v.amount !== undefined) issue('amount', 'is not allowed for a free_shipping voucher');
    }
    if (v.scope === 'seller' && !present(v.sellerId)) issue('sellerId', 'is required for a seller voucher');
    if (v.scope !== 'seller' && present(v.sellerId)) issue('sellerId', 'is only allowed for a seller voucher');
    if (v.scope === 'shipping' && present(v.category)) issue('category', 'is not allowed for a shipping voucher');
    if (v.startsAt && v.expiresAt && Date.parse(v.startsAt) >= Date.parse(v.expiresAt)) {
      issue('expiresAt', 'must be later than startsAt');
    }
  });

export type VoucherInputBody = z.input<typeof voucherInputSchema>;
