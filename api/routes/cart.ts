/** The buyer's cart (api-contract.md, Cart): the cart belongs to the token's `sub`. */
import type { CartPort } from '../deps';
import { route, type AnyRoute } from '../route';
import { addCartItemBodySchema, addVoucherBodySchema, cartSchema, setCartItemBodySchema, skuParamsSchema, voucherParamsSchema } from '../schemas';
import { authErrors, errorResponse as err } from './responses';

const cartOk = { 200: { description: 'the cart, priced from the catalog', schema: cartSchema } };
const bodyErrors = { 400: err('VALIDATION_FAILED or MALFORMED_JSON'), 413: err('PAYLOAD_TOO_LARGE'), 415: err('UNSUPPORTED_MEDIA_TYPE') };

export function cartRoutes(cart: CartPort): AnyRoute[] {
  const buyer = { roles: ['buyer'] as const };
  return [
    route({
      operationId: 'getCart',
      method: 'get',
      path: '/v1/cart',
      summary: "The caller's cart with its price breakdown",
      tags: ['cart'],
      auth: buyer,
      responses: { ...cartOk, ...authErrors },
      async handle({ principal }) {
        return { status: 200, body: await cart.get(principal.userId) };
      },
    }),
    route({
      operationId: 'addCartItem',
      method: 'post',
      path: '/v1/cart/items',
      summary: 'Adds units of a product (to an existing line if there is one)',
      tags: ['cart'],
      auth: buyer,
      body: addCartItemBodySchema,
      responses: { ...cartOk, ...bodyErrors, ...authErrors, 404: err('NOT_FOUND: unknown sku'), 422: err('a cart limit would be exceeded') },
      description: 'Refused with 400 VALIDATION_FAILED, nothing written, when the cart with these units could not be priced (an amount beyond the pricing limits).',
      async handle({ principal, body }) {
        return { status: 200, body: await cart.addItem(principal.userId, body.sku, body.quantity) };
      },
    }),
    route({
      operationId: 'setCartItem',
      method: 'patch',
      path: '/v1/cart/items/{sku}',
      summary: "Sets a line's quantity",
      tags: ['cart'],
      auth: buyer,
      params: skuParamsSchema,
      body: setCartItemBodySchema,
      responses: { ...cartOk, ...bodyErrors, ...authErrors, 404: err('NOT_FOUND: no such line or sku'), 422: err('a cart limit would be exceeded') },
      async handle({ principal, params, body }) {
        return { status: 200, body: await cart.setQuantity(principal.userId, params.sku, body.quantity) };
      },
    }),
    route({
      operationId: 'removeCartItem',
      method: 'delete',
      path: '/v1/cart/items/{sku}',
      summary: 'Removes a line',
      tags: ['cart'],
      auth: buyer,
      params: skuParamsSchema,
      responses: { ...cartOk, 400: err('VALIDATION_FAILED'), ...authErrors, 404: err('NOT_FOUND') },
      async handle({ principal, params }) {
        return { status: 200, body: await cart.removeItem(principal.userId, params.sku) };
      },
    }),
    route({
      operationId: 'addCartVoucher',
      method: 'post',
      path: '/v1/cart/vouchers',
      summary: 'Applies a voucher code',
      tags: ['cart'],
      auth: buyer,
      body: addVoucherBodySchema,
      responses: {
        ...cartOk,
        ...bodyErrors,
        ...authErrors,
        404: err('NOT_FOUND'),
        422: err('VOUCHER_NOT_FOUND, VOUCHER_EXPIRED, VOUCHER_NOT_STARTED, VOUCHER_EXHAUSTED, VOUCHER_USER_LIMIT, VOUCHER_REJECTED (details carry the pricing reason)'),
      },
      async handle({ principal, body }) {
        return { status: 200, body: await cart.addVoucher(principal.userId, body.code) };
      },
    }),
    route({
      operationId: 'removeCartVoucher',
      method: 'delete',
      path: '/v1/cart/vouchers/{code}',
      summary: 'Removes a voucher code',
      tags: ['cart'],
      auth: buyer,
      params: voucherParamsSchema,
      responses: { ...cartOk, 400: err('VALIDATION_FAILED'), ...authErrors, 404: err('NOT_FOUND') },
      async handle({ principal, params }) {
        return { status: 200, body: await cart.removeVoucher(principal.userId, params.code) };
      },
    }),
  ];
}
