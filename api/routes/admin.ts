/** Catalog administration (api-contract.md): role admin only. */
import type { AdminPort } from '../deps';
import { route, type AnyRoute, type ResponseSpec } from '../route';
import {
  anyObjectSchema,
  campaignBodySchema,
  errorResponseSchema,
  pricingConfigBodySchema,
  productBodySchema,
  productSchema,
  promotionBodySchema,
  promotionParamsSchema,
  sellerBodySchema,
  sellerParamsSchema,
  sellerSchema,
  skuParamsSchema,
  voucherBodySchema,
  voucherParamsSchema,
  voucherSchema,
} from '../schemas';
import { authErrors } from './orders';

const err = (description: string): ResponseSpec => ({ description, schema: errorResponseSchema });
const writeErrors = { 400: err('VALIDATION_FAILED or MALFORMED_JSON'), ...authErrors, 413: err('PAYLOAD_TOO_LARGE'), 415: err('UNSUPPORTED_MEDIA_TYPE') };
const admin = { roles: [] as const };

export function adminRoutes(port: AdminPort): AnyRoute[] {
  return [
    route({
      operationId: 'putSeller',
      method: 'put',
      path: '/v1/admin/sellers/{sellerId}',
      summary: 'Creates or updates a seller',
      tags: ['admin'],
      auth: admin,
      params: sellerParamsSchema,
      body: sellerBodySchema,
      responses: { 200: { description: 'the seller', schema: sellerSchema }, ...writeErrors },
      async handle({ params, body }) {
        return { status: 200, body: await port.putSeller(params.sellerId, body) };
      },
    }),
    route({
      operationId: 'putProduct',
      method: 'put',
      path: '/v1/admin/products/{sku}',
      summary: 'Creates or updates a product; `stock` sets the on-hand quantity',
      tags: ['admin'],
      auth: admin,
      params: skuParamsSchema,
      body: productBodySchema,
      responses: { 200: { description: 'the product with its stock', schema: productSchema, links: { getProduct: { operationId: 'getProduct', parameters: { sku: '$request.path.sku' } } } }, ...writeErrors, 404: err('NOT_FOUND: unknown seller'), 409: err('the stock is below the reserved units'), 422: err('refused') },
      async handle({ params, body }) {
        return { status: 200, body: await port.putProduct(params.sku, body) };
      },
    }),
    route({
      operationId: 'getProduct',
      method: 'get',
      path: '/v1/admin/products/{sku}',
      summary: 'A product with its stock {onHand, reserved, sold, available}',
      tags: ['admin'],
      auth: admin,
      params: skuParamsSchema,
      responses: { 200: { description: 'the product', schema: productSchema }, 400: err('VALIDATION_FAILED'), ...authErrors, 404: err('NOT_FOUND') },
      async handle({ params }) {
        return { status: 200, body: await port.getProduct(params.sku) };
      },
    }),
    route({
      operationId: 'putVoucher',
      method: 'put',
      path: '/v1/admin/vouchers/{code}',
      summary: 'Creates or updates a voucher',
      tags: ['admin'],
      auth: admin,
      params: voucherParamsSchema,
      body: voucherBodySchema,
      responses: { 200: { description: 'the voucher with its usage', schema: voucherSchema, links: { getVoucher: { operationId: 'getVoucher', parameters: { code: '$request.path.code' } } } }, ...writeErrors, 404: err('NOT_FOUND: unknown seller'), 422: err('refused') },
      async handle({ params, body }) {
        return { status: 200, body: await port.putVoucher(params.code, body) };
      },
    }),
    route({
      operationId: 'getVoucher',
      method: 'get',
      path: '/v1/admin/vouchers/{code}',
      summary: 'A voucher with its usage {held, consumed}',
      tags: ['admin'],
      auth: admin,
      params: voucherParamsSchema,
      responses: { 200: { description: 'the voucher', schema: voucherSchema }, 400: err('VALIDATION_FAILED'), ...authErrors, 404: err('NOT_FOUND') },
      async handle({ params }) {
        return { status: 200, body: await port.getVoucher(params.code) };
      },
    }),
    route({
      operationId: 'putPromotion',
      method: 'put',
      path: '/v1/admin/promotions/{id}',
      summary: 'Creates or updates a seller promotion (pricing-spec.md shape)',
      tags: ['admin'],
      auth: admin,
      params: promotionParamsSchema,
      body: promotionBodySchema,
      responses: { 200: { description: 'the promotion', schema: anyObjectSchema }, ...writeErrors, 404: err('NOT_FOUND: unknown seller'), 422: err('refused') },
      async handle({ params, body }) {
        return { status: 200, body: await port.putPromotion(params.id, body) };
      },
    }),
    route({
      operationId: 'putCampaign',
      method: 'put',
      path: '/v1/admin/campaigns/{id}',
      summary: 'Creates or updates a category campaign (pricing-spec.md shape)',
      tags: ['admin'],
      auth: admin,
      params: promotionParamsSchema,
      body: campaignBodySchema,
      responses: { 200: { description: 'the campaign', schema: anyObjectSchema }, ...writeErrors, 404: err('NOT_FOUND: unknown seller'), 422: err('refused') },
      async handle({ params, body }) {
        return { status: 200, body: await port.putCampaign(params.id, body) };
      },
    }),
    route({
      operationId: 'putPricingConfig',
      method: 'put',
      path: '/v1/admin/pricing-config',
      summary: 'Sets the tax and commission rates',
      tags: ['admin'],
      auth: admin,
      body: pricingConfigBodySchema,
      responses: { 200: { description: 'the pricing configuration', schema: anyObjectSchema }, ...writeErrors },
      async handle({ body }) {
        return { status: 200, body: await port.putPricingConfig(body) };
      },
    }),
  ];
}
