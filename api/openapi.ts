/**
 * The OpenAPI 3.1 document of the API, generated from the route declarations (api/route.ts) and
 * their zod schemas with `z.toJSONSchema`, plus the few plain express routes (health, metrics, this
 * document). Served at GET /v1/openapi.json. api/openapi.test.ts checks that every route express
 * has registered is documented and that responses seen in the tests validate against it.
 */
import { z } from 'zod';
import type { AnyRoute, ResponseSpec } from './route';
import { errorResponseSchema } from './schemas';

type JsonSchema = Record<string, unknown>;

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect) of a zod schema, without the `$schema` marker. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  delete out.$schema;
  return out;
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
  description?: string;
}

function parametersOf(schema: z.ZodType | undefined, location: Parameter['in']): Parameter[] {
  if (!schema) return [];
  const json = jsonSchemaOf(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    // Header names are matched case-insensitively; the document uses their usual spelling.
    name: location === 'header' ? name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()) : name,
    in: location,
    required: location === 'path' || required.has(name),
    schema: property,
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
  }));
}

/** Every response carries it (api-contract.md, Conventions). */
const requestIdHeader = { description: "the request's id: the client's X-Request-Id when it is sane, else a fresh one", required: true, schema: { type: 'string' } };

function responseOf(spec: ResponseSpec): JsonSchema {
  const headers: Record<string, JsonSchema> = { 'X-Request-Id': requestIdHeader };
  for (const [name, h] of Object.entries(spec.headers ?? {})) headers[name] = { description: h.description, required: true, schema: jsonSchemaOf(h.schema, 'output') };
  return {
    description: spec.description,
    headers,
    ...(spec.schema ? { content: { 'application/json': { schema: jsonSchemaOf(spec.schema, 'output') } } } : {}),
    ...(spec.links ? { links: spec.links } : {}),
  };
}

const errorResponse = (description: string): JsonSchema => ({
  description,
  headers: { 'X-Request-Id': requestIdHeader },
  content: { 'application/json': { schema: jsonSchemaOf(errorResponseSchema, 'output') } },
});

function operationOf(spec: AnyRoute): JsonSchema {
  const parameters = [...parametersOf(spec.params, 'path'), ...parametersOf(spec.query, 'query'), ...parametersOf(spec.headers, 'header')];
  const responses: Record<string, JsonSchema> = Object.fromEntries(Object.entries(spec.responses).map(([status, r]) => [status, responseOf(r)]));
  responses.default = errorResponse('any other error, in the one error shape');
  const security = typeof spec.auth === 'object' ? [{ bearerAuth: [] }] : spec.auth === 'signature' ? [{ paymentSignature: [] }] : [];
  const roles = typeof spec.auth === 'object' ? (spec.auth.roles.length === 0 ? 'admin' : [...spec.auth.roles, 'admin'].join(', ')) : undefined;
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description || roles ? { description: [spec.description, roles ? `Roles: ${roles}.` : undefined].filter(Boolean).join('\n\n') } : {}),
    tags: spec.tags,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.body
      ? { requestBody: { required: !spec.bodyOptional, content: { 'application/json': { schema: jsonSchemaOf(spec.body, 'input') } } } }
      : {}),
    responses,
    security,
  };
}

/** Routes served by plain express handlers rather than route(): documented here by hand. */
function plainPaths(options: { metrics: boolean }): Record<string, Record<string, JsonSchema>> {
  const json = (schema: z.ZodType): JsonSchema => ({ 'application/json': { schema: jsonSchemaOf(schema, 'output') } });
  return {
    '/healthz': {
      get: {
        operationId: 'healthz',
        summary: 'Liveness: the process is up',
        tags: ['operations'],
        security: [],
        responses: { 200: { description: 'up', content: json(z.looseObject({ status: z.literal('ok') })) } },
      },
    },
    '/readyz': {
      get: {
        operationId: 'readyz',
        summary: 'Readiness: Postgres, Redis and Temporal answer',
        tags: ['operations'],
        security: [],
        responses: {
          200: { description: 'ready', content: json(z.looseObject({ status: z.literal('ready'), checks: z.record(z.string(), z.string()) })) },
          503: {
            description: 'a dependency is down: `down` names each; `checks` says `down: timeout` or `down: error` (the detail is logged, never returned)',
            headers: { 'Retry-After': { description: 'seconds before asking again', required: true, schema: { type: 'string' } } },
            content: json(z.looseObject({ status: z.literal('unavailable'), down: z.array(z.string()), checks: z.record(z.string(), z.string()) })),
          },
        },
      },
    },
    ...(options.metrics
      ? {
          '/metrics': {
            get: {
              operationId: 'metrics',
              summary: 'Prometheus metrics: request counts and latency histograms by route and status (on METRICS_PORT instead when that is set)',
              tags: ['operations'],
              security: [],
              responses: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } },
            },
          },
        }
      : {}),
    '/v1/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'This document',
        tags: ['operations'],
        security: [],
        responses: { 200: { description: 'the OpenAPI 3.1 document', content: json(z.looseObject({ openapi: z.string() })) } },
      },
    },
  };
}

export function buildOpenApi(routes: readonly AnyRoute[], options: { serverUrl?: string; version?: string; metrics?: boolean } = {}): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = plainPaths({ metrics: options.metrics ?? true });
  for (const spec of routes) {
    paths[spec.path] ??= {};
    paths[spec.path]![spec.method] = operationOf(spec);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Multi-vendor checkout orchestrator API',
      version: options.version ?? '1.0.0',
      description:
        'One cart with items from many sellers becomes one charge, per-seller reservations, escrow and payouts (a Temporal saga). Money is integer minor units; rates are basis points. Every error has the shape {"error": {"code", "message", "details"}}. Every response carries X-Request-Id.',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    tags: ['catalog', 'admin', 'cart', 'checkout', 'orders', 'parcels', 'webhooks', 'operations', 'dev'].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256 JWT with claims sub, role (buyer | seller | admin), sellerId (sellers), exp' },
        paymentSignature: { type: 'apiKey', in: 'header', name: 'Payment-Signature', description: 't=<unix seconds>,v1=<hex HMAC-SHA256(WEBHOOK_SECRET, "<t>.<raw body>")>' },
      },
    },
  };
}
