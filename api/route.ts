/**
 * Routes are declared once, as data: method, path, who may call it, the zod schemas of its path
 * parameters, query, headers, body and responses, and a handler. The same declaration registers
 * the express route (auth, then validation, then the handler) and generates its OpenAPI operation
 * (api/openapi.ts), so the document cannot drift from what the server does.
 */
import type { Express, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { type z } from 'zod';
import { AppError } from '../lib/errors';
import { authenticate, requireRole, type Principal, type Role } from './auth';
import { contextOf, noteIds } from './observability';
import { assertStorableText, parseOrThrow } from './validation';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call a route: `public`, a webhook checked by its signature, or a bearer token with one of `roles`. */
export type AuthSpec = 'public' | 'signature' | { roles: readonly Role[] };

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Response headers, documented (e.g. Location). */
  headers?: Record<string, { description: string; schema: z.ZodType }>;
  /** OpenAPI links: how a value of this response feeds another operation's parameters. */
  links?: Record<string, { operationId: string; parameters: Record<string, string>; description?: string }>;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

type PrincipalOf<A extends AuthSpec> = A extends { roles: readonly Role[] } ? Principal : undefined;
type Out<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface HandlerInput<A extends AuthSpec, P, Q, H, B> {
  principal: PrincipalOf<A>;
  params: Out<P>;
  query: Out<Q>;
  headers: Out<H>;
  body: Out<B>;
  /** The raw request bytes (routes with `rawBody: true` only). */
  rawBody: Buffer | undefined;
  req: Request;
  res: Response;
  log: Logger;
}

export interface RouteSpec<
  A extends AuthSpec = AuthSpec,
  P extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  H extends z.ZodType | undefined = z.ZodType | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
> {
  operationId: string;
  method: Method;
  /** OpenAPI path template, e.g. `/v1/orders/{orderId}`. */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  auth: A;
  params?: P;
  query?: Q;
  headers?: H;
  body?: B;
  /** True when the body is optional (an absent body is parsed as `{}`). */
  bodyOptional?: boolean;
  /** The handler gets the raw bytes instead of parsed JSON (webhook signatures are over the raw body). */
  rawBody?: boolean;
  /** Extra middleware after authentication and before validation (rate limiting). */
  middleware?: RequestHandler[];
  responses: Record<number, ResponseSpec>;
  handle(input: HandlerInput<A, P, Q, H, B>): Promise<Reply> | Reply;
}

/** A route with its types erased, as the app and the OpenAPI generator see it. */
export type AnyRoute = RouteSpec<AuthSpec, z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>;

/** Declares a route with full type inference for its handler. */
export function route<A extends AuthSpec, P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, H extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  spec: RouteSpec<A, P, Q, H, B>,
): AnyRoute {
  return spec;
}

/** `/v1/orders/{orderId}` -> `/v1/orders/:orderId` (express 5 syntax). */
export function expressPath(openapiPath: string): string {
  return openapiPath.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

function hasBody(req: Request): boolean {
  const length = req.get('content-length');
  return (length !== undefined && length !== '0') || req.get('transfer-encoding') !== undefined;
}

/** 415 (api/errors.ts maps this code): a body that is not JSON. */
function unsupportedMediaType(): AppError {
  return new AppError('validation', 'UNSUPPORTED_MEDIA_TYPE', 'the request body must be JSON (Content-Type: application/json)');
}

function parseBody(spec: AnyRoute, req: Request): unknown {
  if (!spec.body) return undefined;
  const present = hasBody(req);
  if (present && req.body === undefined) throw unsupportedMediaType();
  const body: unknown = req.body === undefined && spec.bodyOptional ? {} : req.body;
  assertStorableText(body, 'body');
  return parseOrThrow(spec.body, body, 'body');
}

function authorise(spec: AnyRoute, req: Request, res: Response, jwtSecret: string): Principal | undefined {
  if (spec.auth === 'public' || spec.auth === 'signature') return undefined;
  const principal = authenticate(req.get('authorization'), jwtSecret);
  noteIds(res, { userId: principal.userId });
  requireRole(principal, spec.auth.roles);
  return principal;
}

/** Registers every route on the app: auth, extra middleware, validation, handler, JSON reply. */
export function mountRoutes(app: Express, routes: readonly AnyRoute[], options: { jwtSecret: string }): void {
  for (const spec of routes) {
    const path = expressPath(spec.path);
    const start: RequestHandler = (req, res, next) => {
      contextOf(res).route = spec.path;
      res.locals.principal = authorise(spec, req, res, options.jwtSecret);
      next();
    };
    const handle: RequestHandler = async (req, res) => {
      const principal = res.locals.principal as Principal | undefined;
      assertStorableText(req.params, 'path');
      assertStorableText(req.query, 'query');
      const params: unknown = spec.params ? parseOrThrow(spec.params, req.params, 'path') : undefined;
      const query: unknown = spec.query ? parseOrThrow(spec.query, req.query, 'query') : undefined;
      const headers: unknown = spec.headers ? parseOrThrow(spec.headers, req.headers, 'header') : undefined;
      const rawBody = spec.rawBody ? (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)) : undefined;
      const body = spec.rawBody ? undefined : parseBody(spec, req);
      const reply = await spec.handle({
        principal,
        params,
        query,
        headers,
        body,
        rawBody,
        req,
        res,
        log: contextOf(res).log,
      });
      for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
      res.status(reply.status).json(reply.body);
    };
    app[spec.method](path, start, ...(spec.middleware ?? []), handle);
  }
}
