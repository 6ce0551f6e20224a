/**
 * Dev-only sign-in for the local stack (the storefront's user picker): `GET /v1/dev/users` lists
 * the seeded demo users and `POST /v1/dev/tokens {userId}` signs a token for one of them with the
 * API's JWT_SECRET. Anyone who can reach these can act as any demo user, so they exist only
 * outside production: with NODE_ENV=production they are not mounted at all (404, and absent from
 * the OpenAPI document).
 */
import { z } from 'zod';
import { NotFoundError } from '../../lib/errors';
import { roles, signToken, type Role } from '../auth';
import { route, type AnyRoute } from '../route';
import { errorResponse as err } from './responses';
import { idLimits } from '../../lib/vocabulary';

export interface DevUser {
  userId: string;
  role: Role;
  /** Sellers only: the seller this user acts for. */
  sellerId?: string;
  /** What the picker shows. */
  label: string;
}

/** The demo users of the seed (db/seed.ts: sellers seller_x/y/z; its walkthrough's demo-buyer, demo-seller-x, demo-admin). */
export const demoUsers: readonly DevUser[] = [
  { userId: 'demo-buyer', role: 'buyer', label: 'Demo buyer' },
  { userId: 'demo-buyer-2', role: 'buyer', label: 'Second demo buyer' },
  { userId: 'demo-seller-x', role: 'seller', sellerId: 'seller_x', label: 'Seller X (electronics)' },
  { userId: 'demo-seller-y', role: 'seller', sellerId: 'seller_y', label: 'Seller Y (clothing)' },
  { userId: 'demo-seller-z', role: 'seller', sellerId: 'seller_z', label: 'Seller Z (books)' },
  { userId: 'demo-admin', role: 'admin', label: 'Admin (logistics, operations)' },
];

/** How long a dev token lasts. */
export const devTokenTtlSeconds = 12 * 3600;

/** The dev sign-in exists everywhere except with NODE_ENV=production. */
export function devRoutesEnabled(env: Record<string, string | undefined> = process.env): boolean {
  return env.NODE_ENV?.trim() !== 'production';
}

const devUserSchema = z.looseObject({ userId: z.string(), role: z.enum(roles), sellerId: z.string().optional(), label: z.string() });
const tokenBodySchema = z.strictObject({ userId: z.string().min(1).max(idLimits.externalIdLengthMax) });
const tokenSchema = z.looseObject({ token: z.string(), user: devUserSchema, expiresAt: z.string() });

export function devRoutes(options: { jwtSecret: string; users: readonly DevUser[] }): AnyRoute[] {
  return [
    route({
      operationId: 'listDevUsers',
      method: 'get',
      path: '/v1/dev/users',
      summary: 'Dev only (absent with NODE_ENV=production): the demo users one can sign in as',
      tags: ['dev'],
      auth: 'public',
      responses: { 200: { description: 'the demo users', schema: z.looseObject({ users: z.array(devUserSchema) }) } },
      handle() {
        return { status: 200, body: { users: options.users } };
      },
    }),
    route({
      operationId: 'createDevToken',
      method: 'post',
      path: '/v1/dev/tokens',
      summary: 'Dev only (absent with NODE_ENV=production): a bearer token for a demo user',
      description: `Signs an HS256 token (valid ${devTokenTtlSeconds / 3600} h) with the claims of the named demo user. Unknown users are 404.`,
      tags: ['dev'],
      auth: 'public',
      body: tokenBodySchema,
      responses: {
        200: { description: 'the token', schema: tokenSchema },
        400: err('VALIDATION_FAILED or MALFORMED_JSON'),
        404: err('NOT_FOUND: not a demo user'),
        413: err('PAYLOAD_TOO_LARGE'),
        415: err('UNSUPPORTED_MEDIA_TYPE'),
      },
      handle({ body }) {
        // Looked up per request: a test stack adds the users of the data it creates after start.
        const user = options.users.find((u) => u.userId === body.userId);
        if (!user) throw new NotFoundError('user', body.userId);
        const token = signToken({ sub: user.userId, role: user.role, ...(user.sellerId ? { sellerId: user.sellerId } : {}) }, options.jwtSecret, devTokenTtlSeconds);
        const expiresAt = new Date(Date.now() + devTokenTtlSeconds * 1000).toISOString();
        return { status: 200, body: { token, user, expiresAt } };
      },
    }),
  ];
}
