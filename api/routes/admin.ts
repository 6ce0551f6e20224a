/**
 * Catalog administration (api-contract.md): role admin only. One table: each resource is a PUT
 * (create or replace, by its id in the path) and, for some, a GET of the same path; the routes and
 * their OpenAPI operations are made from it.
 */
import type { z } from 'zod';
import type { AdminPort } from '../deps';
import { route, type AnyRoute, type ResponseSpec } from '../route';
import {
  anyObjectSchema,
  campaignBodySchema,
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
import { authErrors, errorResponse as err } from './responses';

const writeErrors = { 400: err('VALIDATION_FAILED or MALFORMED_JSON'), ...authErrors, 413: err('PAYLOAD_TOO_LARGE'), 415: err('UNSUPPORTED_MEDIA_TYPE') };
const readErrors = { 400: err('VALIDATION_FAILED'), ...authErrors, 404: err('NOT_FOUND') };
const catalogRefusals = { 404: err('NOT_FOUND: unknown seller'), 422: err('refused') };
const admin = { roles: [] as const };

type Params = Record<string, string>;

/** One administered resource: its PUT, and its GET when it has one. */
interface AdminResource {
  /** The operation ids are `put<Name>` and `get<Name>`. */
  name: string;
  path: string;
  params?: z.ZodType<Params>;
  body: z.ZodType;
  /** What the PUT and the GET answer. */
  answer: { description: string; schema: z.ZodType };
  putSummary: string;
  /** Refusals of the PUT beyond bad input and authentication. */
  putErrors?: Record<number, ResponseSpec>;
  put: (port: AdminPort, params: Params, body: unknown) => Promise<unknown>;
  get?: { summary: string; read: (port: AdminPort, params: Params) => Promise<unknown> };
}

// Each body is parsed by its resource's schema before `put` runs: `as never` hands it to the port's typed method.
const resources: AdminResource[] = [
  {
    name: 'Seller',
    path: '/v1/admin/sellers/{sellerId}',
    params: sellerParamsSchema,
    body: sellerBodySchema,
    answer: { description: 'the seller', schema: sellerSchema },
    putSummary: 'Creates or updates a seller',
    put: (port, params, body) => port.putSeller(params.sellerId ?? '', body as never),
    get: { summary: 'A seller with its connected account and the payouts it is still owed', read: (port, params) => port.getSeller(params.sellerId ?? '') },
  },
  {
    name: 'Product',
    path: '/v1/admin/products/{sku}',
    params: skuParamsSchema,
    body: productBodySchema,
    answer: { description: 'the product with its stock', schema: productSchema },
    putSummary: 'Creates or updates a product; `stock` sets the on-hand quantity',
    putErrors: { ...catalogRefusals, 409: err('the stock is below the reserved units') },
    put: (port, params, body) => port.putProduct(params.sku ?? '', body as never),
    get: { summary: 'A product with its stock {onHand, reserved, sold, available}', read: (port, params) => port.getProduct(params.sku ?? '') },
  },
  {
    name: 'Voucher',
    path: '/v1/admin/vouchers/{code}',
    params: voucherParamsSchema,
    body: voucherBodySchema,
    answer: { description: 'the voucher with its usage', schema: voucherSchema },
    putSummary: 'Creates or updates a voucher',
    putErrors: catalogRefusals,
    put: (port, params, body) => port.putVoucher(params.code ?? '', body as never),
    get: { summary: 'A voucher with its usage {held, consumed}', read: (port, params) => port.getVoucher(params.code ?? '') },
  },
  {
    name: 'Promotion',
    path: '/v1/admin/promotions/{id}',
    params: promotionParamsSchema,
    body: promotionBodySchema,
    answer: { description: 'the promotion', schema: anyObjectSchema },
    putSummary: 'Creates or updates a seller promotion (pricing-spec.md shape)',
    putErrors: catalogRefusals,
    put: (port, params, body) => port.putPromotion(params.id ?? '', body as never),
  },
  {
    name: 'Campaign',
    path: '/v1/admin/campaigns/{id}',
    params: promotionParamsSchema,
    body: campaignBodySchema,
    answer: { description: 'the campaign', schema: anyObjectSchema },
    putSummary: 'Creates or updates a category campaign (pricing-spec.md shape)',
    putErrors: catalogRefusals,
    put: (port, params, body) => port.putCampaign(params.id ?? '', body as never),
  },
  {
    name: 'PricingConfig',
    path: '/v1/admin/pricing-config',
    body: pricingConfigBodySchema,
    answer: { description: 'the pricing configuration', schema: anyObjectSchema },
    putSummary: 'Sets the tax and commission rates',
    put: (port, _params, body) => port.putPricingConfig(body as never),
  },
];

function routesOf(port: AdminPort, resource: AdminResource): AnyRoute[] {
  const { name, path, params, body, answer } = resource;
  // A resource with a GET links its PUT's answer to it (OpenAPI links, followed by the contract test).
  const links = resource.get && params ? { [`get${name}`]: { operationId: `get${name}`, parameters: linkParameters(path) } } : undefined;
  const put = route({
    operationId: `put${name}`,
    method: 'put',
    path,
    summary: resource.putSummary,
    tags: ['admin'],
    auth: admin,
    ...(params ? { params } : {}),
    body,
    responses: { 200: { ...answer, ...(links ? { links } : {}) }, ...writeErrors, ...resource.putErrors },
    async handle(input) {
      return { status: 200, body: await resource.put(port, input.params ?? {}, input.body) };
    },
  });
  if (!resource.get || !params) return [put];
  const { read, summary } = resource.get;
  const get = route({
    operationId: `get${name}`,
    method: 'get',
    path,
    summary,
    tags: ['admin'],
    auth: admin,
    params,
    responses: { 200: answer, ...readErrors },
    async handle(input) {
      return { status: 200, body: await read(port, input.params) };
    },
  });
  return [put, get];
}

/** `{sku}` in `/v1/admin/products/{sku}` -> `{ sku: '$request.path.sku' }`. */
function linkParameters(path: string): Record<string, string> {
  const names = [...path.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((match) => match[1] ?? '');
  return Object.fromEntries(names.map((param): [string, string] => [param, `$request.path.${param}`]));
}

export function adminRoutes(port: AdminPort): AnyRoute[] {
  return resources.flatMap((resource) => routesOf(port, resource));
}
