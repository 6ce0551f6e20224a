/**
 * The zod schemas of the API's requests and responses (api-contract.md). Request schemas are
 * strict (an unknown field is a 400 naming it); response schemas are loose (the contract allows
 * more fields than it names). The OpenAPI document is generated from these schemas.
 */
import { z } from 'zod';
import { orderStatuses, parcelStatuses } from '../workflows/contract';
import { isListCursor } from '../services/orders';
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

/** A refund or payout of the parcel refused by its counterparty, waiting for an operator. */
export const parcelProblemSchema = z
  .looseObject({ action: z.enum(['refund', 'release', 'restock']), code: z.string(), message: z.string(), at: z.string() })
  .describe('a refused money move of this parcel, waiting for an operator (docs/checkout-saga.md)');

export const parcelSchema = z.looseObject({
  sellerId: z.string(),
  status: z.enum(parcelStatuses),
  customerPaid: amountSchema,
  payout: amountSchema,
  shipBy: z.string().optional(),
  autoReleaseAt: z.string().optional(),
  problem: parcelProblemSchema.optional(),
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
  scope: z
    .looseObject({ sellerId: z.string() })
    .optional()
    .describe("present when a seller reads the order: the view is that seller's part only (its lines, parcel and payout; pricing.totals and splits are the totals of its part; see docs/api.md)"),
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
  problem: parcelProblemSchema.optional(),
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

const listLimitSchema = z
  .string()
  .regex(/^[0-9]{1,3}$/, 'must be an integer from 1 to 100')
  .transform(Number)
  .pipe(z.int().min(1, 'must be an integer from 1 to 100').max(100, 'must be an integer from 1 to 100'))
  .describe('page size, 1-100 (default 20)');

export const orderListQuerySchema = z.strictObject({
  limit: listLimitSchema.optional(),
  cursor: z.string().min(1).max(512).optional(),
});

// ------------------------------------------------------------------ the seller's parcels

export const sellerParcelListQuerySchema = z.strictObject({
  status: z.enum(parcelStatuses).optional().describe('only parcels in this status'),
  limit: listLimitSchema.optional(),
  cursor: z
    .string()
    .min(1)
    .max(512)
    .refine(isListCursor, 'is not a cursor returned by this API')
    .optional()
    .describe('nextCursor of the previous page (opaque)'),
  sellerId: identifierSchema.optional().describe("admin only (required for admin): whose parcels; a seller's token names its own"),
});

export const sellerParcelSchema = z.looseObject({
  orderId: z.string(),
  sellerId: z.string(),
  status: z.enum(parcelStatuses),
  lines: z.array(priceBreakdownSchema.shape.lines.element).describe("the seller's lines of the order's frozen price breakdown"),
  customerPaid: amountSchema,
  payout: amountSchema,
  shipBy: z.string(),
  autoReleaseAt: z.string().optional(),
  currency: z.string().nullable(),
  createdAt: z.string().describe('when the parcel was created (the order was paid)'),
});

export const sellerParcelPageSchema = z.looseObject({
  parcels: z.array(sellerParcelSchema).describe('newest first'),
  nextCursor: z.string().optional().describe('pass as `cursor` for the next page; absent on the last page'),
});

// ------------------------------------------------------------------ cart

export const cartSchema = z.looseObject({
  userId: z.string(),
  items: z.array(
    z.looseObject({ sku: z.string(), sellerId: z.string(), name: z.string(), category: z.string(), unitPrice: amountSchema, quantity: z.int().min(1) }),
  ),
  vouchers: z.array(z.string()),
  pricing: priceBreakdownSchema.nullable().describe('null for an empty cart, or for a cart that cannot be priced (see problems)'),
  currency: z.string().nullable().describe("the cart's currency (its first line's); null for an empty cart"),
  voucherIssues: z
    .array(z.strictObject({ code: z.string(), reason: z.enum(['VOUCHER_NOT_FOUND', 'VOUCHER_NOT_STARTED', 'VOUCHER_EXPIRED']) }))
    .describe('codes in `vouchers` that are left out of the price now (unknown, not started, expired); a checkout is refused with that code'),
  problems: z
    .array(
      z.strictObject({
        sku: z.string(),
        code: z.enum(['AMOUNT_LIMIT', 'CART_AMOUNT_LIMIT', 'CURRENCY_MISMATCH', 'UNKNOWN_SKU']),
        message: z.string(),
      }),
    )
    .describe('empty unless the cart cannot be priced (pricing is then null): the lines to lower or remove'),
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
export const sellerSchema = z.looseObject({
  sellerId: z.string(),
  name: z.string(),
  shippingFee: amountSchema,
  stripeAccountId: z.string().optional().describe('the Stripe connected account (acct_...) that receives the payouts; absent: none, payouts wait'),
  pendingPayouts: z
    .array(z.looseObject({ orderId: z.string(), amountMinor: amountSchema, currency: z.string(), status: z.enum(['awaiting_account', 'pending']), lastError: z.string().nullable() }))
    .optional()
    .describe('payouts still owed to the seller (no account yet, or a transfer that failed: lastError); absent: none. Setting stripeAccountId pays them.'),
});

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
