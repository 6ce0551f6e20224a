/**
 * The zod schemas of the API's requests and responses (api-contract.md). Request schemas are
 * strict (an unknown field is a 400 naming it); response schemas are loose (the contract allows
 * more fields than it names). The OpenAPI document is generated from these schemas.
 */
import { z } from 'zod';
import { orderStatuses, parcelStatuses } from '../workflows/contract';
import { amountSchema, identifierSchema, orderIdSchema, voucherCodeSchema } from './validation';

// ------------------------------------------------------------------ errors

export const errorResponseSchema = z.looseObject({
  error: z.looseObject({
    code: z.string().describe('machine-readable code, e.g. VALIDATION_FAILED, CART_EMPTY'),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).describe('VALIDATION_FAILED: {issues: [{path, message}]}; business codes: their specifics'),
  }),
});

// ------------------------------------------------------------------ pricing breakdown (pricing-spec.md §4)

const signedAmountSchema = z.int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const fundedBySchema = z.enum(['seller', 'platform']);
const discountEntrySchema = z.looseObject({ source: z.string(), amount: amountSchema, fundedBy: fundedBySchema });

export const priceBreakdownSchema = z
  .looseObject({
    currency: z.string(),
    lines: z.array(
      z.looseObject({
        lineId: z.string(),
        sku: z.string(),
        sellerId: z.string(),
        gross: amountSchema,
        discounts: z.array(discountEntrySchema),
        net: amountSchema,
        tax: amountSchema,
        sellerBase: amountSchema,
        commission: amountSchema,
      }),
    ),
    discounts: z.array(discountEntrySchema),
    rejectedVouchers: z.array(z.looseObject({ code: z.string(), reason: z.string() })),
    loyalty: z.looseObject({ pointsRedeemed: amountSchema, amount: amountSchema }),
    sellers: z.record(
      z.string(),
      z.looseObject({
        merchandiseGross: amountSchema,
        sellerFundedDiscount: amountSchema,
        platformFundedDiscount: amountSchema,
        merchandiseNet: amountSchema,
        shippingFee: amountSchema,
        shippingDiscount: amountSchema,
        tax: amountSchema,
        commission: amountSchema,
        customerPaid: amountSchema,
        payout: amountSchema,
      }),
    ),
    totals: z.looseObject({
      merchandiseGross: amountSchema,
      discountTotal: amountSchema,
      merchandiseNet: amountSchema,
      shipping: amountSchema,
      shippingDiscount: amountSchema,
      tax: amountSchema,
      grandTotal: amountSchema,
    }),
    splits: z.looseObject({ sellers: z.record(z.string(), signedAmountSchema), platform: signedAmountSchema, tax: amountSchema }),
  })
  .describe('price breakdown of pricing-spec.md §4 (integer minor units)');

// ------------------------------------------------------------------ orders

const sagaStepSchema = z.looseObject({ name: z.string(), status: z.string(), at: z.string() });

export const parcelSchema = z.looseObject({
  sellerId: z.string(),
  status: z.enum(parcelStatuses),
  customerPaid: amountSchema,
  payout: amountSchema,
  shipBy: z.string().optional(),
  autoReleaseAt: z.string().optional(),
});

export const failureSchema = z.looseObject({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()) });

export const orderSchema = z.looseObject({
  orderId: z.string(),
  userId: z.string(),
  status: z.enum(orderStatuses),
  failure: failureSchema.optional(),
  pricing: priceBreakdownSchema.nullable().describe('null until the saga has priced the order'),
  parcels: z.array(parcelSchema),
  saga: z.looseObject({ steps: z.array(sagaStepSchema), compensations: z.array(sagaStepSchema) }),
  createdAt: z.string(),
});

export const orderSummarySchema = orderSchema.omit({ saga: true });

export const orderPageSchema = z.looseObject({
  orders: z.array(orderSummarySchema).describe('newest first'),
  nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
});

export const checkoutAcceptedSchema = z.looseObject({ orderId: z.string(), status: z.enum(orderStatuses) });

export const parcelStateSchema = z.looseObject({
  orderId: z.string(),
  sellerId: z.string(),
  status: z.enum(parcelStatuses),
  customerPaid: amountSchema,
  payout: amountSchema,
  shipBy: z.string(),
  autoReleaseAt: z.string().optional(),
  history: z.array(z.looseObject({ status: z.enum(parcelStatuses), at: z.string(), by: z.string(), reason: z.string().optional() })),
});

// ------------------------------------------------------------------ requests: checkout and parcels

export const idempotencyKeySchema = z.string().regex(/^[\x20-\x7e]{1,255}$/, 'must be 1-255 printable ASCII characters');

export const checkoutHeadersSchema = z.looseObject({ 'idempotency-key': idempotencyKeySchema });

export const checkoutBodySchema = z.strictObject({
  paymentMethod: z.strictObject({
    token: z.string().regex(/^[A-Za-z0-9_.:-]{1,255}$/, 'must be a payment token: 1-255 letters, digits or _ . : -').describe('e.g. tok_visa, pm_card_visa'),
  }),
  expectedGrandTotal: amountSchema.optional().describe('the grand total the client showed; 409 PRICE_CHANGED when it differs'),
});

export const orderParamsSchema = z.strictObject({ orderId: orderIdSchema });
export const parcelParamsSchema = z.strictObject({ orderId: orderIdSchema, sellerId: identifierSchema });

const reasonSchema = z.string().trim().min(1, 'must not be empty').max(500);
export const parcelActionBodySchema = z.strictObject({ reason: reasonSchema.optional() });
export const refundBodySchema = z.strictObject({ reason: reasonSchema });

export const orderListQuerySchema = z.strictObject({
  limit: z
    .string()
    .regex(/^[0-9]{1,3}$/, 'must be an integer from 1 to 100')
    .transform(Number)
    .pipe(z.int().min(1, 'must be an integer from 1 to 100').max(100, 'must be an integer from 1 to 100'))
    .optional(),
  cursor: z.string().min(1).max(512).optional(),
});

// ------------------------------------------------------------------ cart

export const cartSchema = z.looseObject({
  userId: z.string(),
  items: z.array(
    z.looseObject({ sku: z.string(), sellerId: z.string(), name: z.string(), category: z.string(), unitPrice: amountSchema, quantity: z.int().min(1) }),
  ),
  vouchers: z.array(z.string()),
  pricing: priceBreakdownSchema.nullable().describe('null for an empty cart'),
});

export const addCartItemBodySchema = z.strictObject({ sku: identifierSchema, quantity: z.int().min(1).max(999) });
export const setCartItemBodySchema = z.strictObject({ quantity: z.int().min(1).max(999) });
export const skuParamsSchema = z.strictObject({ sku: identifierSchema });
export const addVoucherBodySchema = z.strictObject({ code: voucherCodeSchema });
export const voucherParamsSchema = z.strictObject({ code: voucherCodeSchema });

// ------------------------------------------------------------------ admin
// Request bodies are the services' own input schemas (services/catalog, services/vouchers): one
// definition validates, documents and types each body.

export {
  campaignInputSchema as campaignBodySchema,
  pricingConfigInputSchema as pricingConfigBodySchema,
  productInputSchema as productBodySchema,
  promotionInputSchema as promotionBodySchema,
  sellerInputSchema as sellerBodySchema,
} from '../services/catalog/schemas';
export { voucherInputSchema as voucherBodySchema } from '../services/vouchers/schemas';

export const sellerParamsSchema = z.strictObject({ sellerId: identifierSchema });
export const sellerSchema = z.looseObject({ sellerId: z.string(), name: z.string(), shippingFee: amountSchema });

const stockSchema = z.looseObject({ onHand: amountSchema, reserved: amountSchema, sold: amountSchema, available: amountSchema });

export const productSchema = z.looseObject({
  sku: z.string(),
  sellerId: z.string(),
  name: z.string(),
  category: z.string(),
  unitPrice: amountSchema,
  currency: z.string(),
  stock: stockSchema,
});

export const voucherSchema = z.looseObject({
  code: z.string(),
  scope: z.enum(['seller', 'platform', 'shipping']),
  type: z.enum(['percent', 'fixed', 'free_shipping']),
  usage: z.looseObject({ held: amountSchema, consumed: amountSchema }),
});

export const promotionParamsSchema = z.strictObject({ id: identifierSchema });

export const anyObjectSchema = z.looseObject({});
