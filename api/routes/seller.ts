/**
 * The seller's parcels (api-contract.md, Parcel lifecycle): `GET /v1/seller/parcels`, newest first,
 * each with the seller's own lines of the order's frozen price, from Postgres (order_parcels joined
 * with orders; db/migrations/0031_seller_parcels.sql indexes it). A seller lists its own parcels
 * (the token's `sellerId`); admin names the seller with `?sellerId=`.
 */
import { ValidationError } from '../../lib/errors';
import { forbidden, type Principal } from '../auth';
import type { OrdersPort } from '../deps';
import { route, type AnyRoute } from '../route';
import { sellerParcelListQuerySchema, sellerParcelPageSchema } from '../schemas';
import { authErrors, errorResponse as err } from './responses';

/** Whose parcels: the seller's own; admin must name one. */
function sellerOf(principal: Principal, requested: string | undefined): string {
  if (principal.role === 'admin') {
    if (requested === undefined) throw new ValidationError([{ path: 'query.sellerId', message: 'is required for admin (whose parcels to list)' }]);
    return requested;
  }
  const own = principal.sellerId;
  if (own === undefined) throw forbidden('only a seller has parcels');
  if (requested !== undefined && requested !== own) throw forbidden("another seller's parcels are not yours", { sellerId: requested });
  return own;
}

export function sellerRoutes(deps: { orders: Pick<OrdersPort, 'listSellerParcels'> }): AnyRoute[] {
  return [
    route({
      operationId: 'listSellerParcels',
      method: 'get',
      path: '/v1/seller/parcels',
      summary: "The seller's parcels, newest first (keyset pagination), each with its lines",
      description:
        "A parcel shows the seller's own lines of the order's frozen price breakdown, what the buyer paid for it (customerPaid), the seller's payout, the ship-by deadline and, once delivered, autoReleaseAt. Filter by `status`; page with `limit` (1-100, default 20) and the opaque `cursor` (nextCursor of the previous page, absent on the last). Admin passes `sellerId`.",
      tags: ['parcels'],
      auth: { roles: ['seller'] },
      query: sellerParcelListQuerySchema,
      responses: {
        200: { description: 'a page of parcels', schema: sellerParcelPageSchema },
        400: err('VALIDATION_FAILED (status, limit, cursor, sellerId)'),
        ...authErrors,
      },
      async handle({ principal, query }) {
        const sellerId = sellerOf(principal, query.sellerId);
        const page = await deps.orders.listSellerParcels(sellerId, {
          ...(query.status === undefined ? {} : { status: query.status }),
          ...(query.limit === undefined ? {} : { limit: query.limit }),
          ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
        });
        // Where a parcel's actions go is the API's business (api/parcel-actions.ts), not the client's.
        const parcels = page.parcels.map(({ escrowWorkflowId: _internal, ...parcel }) => parcel);
        return { status: 200, body: page.nextCursor === undefined ? { parcels } : { parcels, nextCursor: page.nextCursor } };
      },
    }),
  ];
}
