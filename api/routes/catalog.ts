/**
 * The storefront's public catalog read: `GET /v1/products`, products with seller, category,
 * price, shipping fee and available stock (api/catalog-view.ts). No token needed: it shows what
 * anybody browsing the shop sees; prices in a cart still come from the catalog on the server.
 */
import { z } from 'zod';
import { catalogListLimit, decodeCatalogCursor, type CatalogViewPort } from '../catalog-view';
import { route, type AnyRoute } from '../route';
import { errorResponse as err } from './responses';
import { amountSchema, identifierSchema } from '../validation';

const sellerListSchema = z
  .string()
  .max(20 * 65)
  // The id characters and commas only: the documented pattern also keeps the URL ASCII, so no
  // generated value can pass Node's 16 KB request-head limit (which answers 431 with no body).
  .regex(/^[A-Za-z0-9_.:,-]+$/, 'must be seller ids separated by commas')
  .transform((raw) => raw.split(','))
  .pipe(z.array(identifierSchema).min(1).max(20))
  .describe("comma-separated seller ids (at most 20): only these sellers' products");

export const catalogQuerySchema = z.strictObject({
  sellerId: sellerListSchema.optional(),
  limit: z
    .string()
    .regex(/^[0-9]{1,3}$/, `must be an integer from 1 to ${catalogListLimit.max}`)
    .transform(Number)
    .pipe(z.int().min(1).max(catalogListLimit.max))
    .optional()
    .describe(`page size, 1-${catalogListLimit.max} (default ${catalogListLimit.default})`),
  cursor: z
    .string()
    .max(128)
    .refine((c) => decodeCatalogCursor(c) !== undefined, 'is not a cursor returned by this API')
    .optional()
    .describe('nextCursor of the previous page (opaque)'),
});

export const catalogProductSchema = z.looseObject({
  sku: z.string(),
  name: z.string(),
  category: z.string(),
  unitPrice: amountSchema,
  currency: z.string(),
  sellerId: z.string(),
  sellerName: z.string(),
  shippingFee: amountSchema.describe("the seller's shipping fee per order"),
  available: amountSchema.describe('units that can be ordered now (on hand minus reserved)'),
});

export const catalogPageSchema = z.looseObject({
  products: z.array(catalogProductSchema).describe('in sku order'),
  nextCursor: z.string().optional().describe('pass as `cursor` for the next page; absent on the last page'),
});

export function catalogRoutes(catalog: CatalogViewPort): AnyRoute[] {
  return [
    route({
      operationId: 'listProducts',
      method: 'get',
      path: '/v1/products',
      summary: 'The public catalog: products with seller, category, price, shipping fee and available stock',
      description: 'Public (no token). Filter by `sellerId` (comma-separated); page with `limit` and the opaque `cursor`. Stock moves with every checkout: `available` is a snapshot, the checkout decides.',
      tags: ['catalog'],
      auth: 'public',
      query: catalogQuerySchema,
      responses: { 200: { description: 'a page of products', schema: catalogPageSchema }, 400: err('VALIDATION_FAILED (sellerId, limit, cursor)') },
      async handle({ query }) {
        const page = await catalog.listProducts({
          ...(query.sellerId === undefined ? {} : { sellerIds: query.sellerId }),
          ...(query.limit === undefined ? {} : { limit: query.limit }),
          ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
        });
        return { status: 200, body: page };
      },
    }),
  ];
}
