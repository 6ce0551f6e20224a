/**
 * The express application, built from its dependencies so tests can run it in-process against
 * real services and a real Temporal client. Middleware order matters:
 *   request id + log + metrics -> helmet -> raw body (webhooks) -> JSON body (size-limited)
 *   -> health, metrics (unless METRICS_PORT serves them apart), OpenAPI -> the declared routes (auth, validation, handler) -> 404 -> errors.
 */
import express, { type Express } from 'express';
import helmet from 'helmet';
import pino from 'pino';
import { resolveApiConfig } from './config';
import type { AppDeps } from './deps';
import { errorHandler, notFoundHandler } from './errors';
import { healthRouter } from './health';
import { createHttpMetrics, metricsHandler, observe } from './observability';
import { buildOpenApi } from './openapi';
import { admissionConfigFromEnv, createAdmission, createAdmissionMetrics } from './admission';
import { expressPath, mountRoutes, type AnyRoute } from './route';
import { adminRoutes } from './routes/admin';
import { catalogRoutes } from './routes/catalog';
import { demoUsers, devRoutes, devRoutesEnabled } from './routes/dev';
import { cartRoutes } from './routes/cart';
import { checkoutRoutes } from './routes/checkout';
import { orderRoutes } from './routes/orders';
import { sellerRoutes } from './routes/seller';
import { webhookRoutes } from './routes/webhooks';
import { storefrontHandler } from './storefront-static';

/** The routes the given dependencies support (a route is mounted only when what it needs is wired). */
export function buildRoutes(deps: AppDeps): AnyRoute[] {
  const config = resolveApiConfig(deps.config);
  const routes: AnyRoute[] = [];
  const { temporal: client, orders } = deps;
  if (deps.admin) routes.push(...adminRoutes(deps.admin));
  if (deps.cart) routes.push(...cartRoutes(deps.cart));
  if (client && orders && deps.checkout) {
    routes.push(
      ...checkoutRoutes({
        client,
        orders,
        checkout: deps.checkout,
        taskQueue: config.taskQueue,
        checkoutWaitMs: config.checkoutWaitMs,
        queryTimeoutMs: config.queryTimeoutMs,
        checkoutSettings: config.checkoutSettings,
        rateLimit: { ...config.checkoutRateLimit, ...(deps.redis ? { redis: deps.redis } : {}), ...(deps.logger ? { log: deps.logger } : {}) },
        // Admission control first: past capacity a checkout is refused before it touches anything.
        admission: createAdmission({ ...admissionConfigFromEnv(), ...config.admission }, {
          ...(deps.redis ? { redis: deps.redis } : {}),
          metrics: createAdmissionMetrics(deps.metrics?.registry),
        }).middleware,
      }),
    );
  }
  if (client && orders) routes.push(...orderRoutes({ client, orders, queryTimeoutMs: config.queryTimeoutMs }));
  if (orders) routes.push(...sellerRoutes({ orders }));
  if (client && deps.payments) routes.push(...webhookRoutes({ client, payments: deps.payments }));
  if (deps.catalogView) routes.push(...catalogRoutes(deps.catalogView));
  // Dev sign-in for the storefront: never mounted with NODE_ENV=production.
  if (devRoutesEnabled()) routes.push(...devRoutes({ jwtSecret: config.jwtSecret, users: config.devUsers ?? demoUsers }));
  return routes;
}

export function createApp(deps: AppDeps): Express {
  const config = resolveApiConfig(deps.config);
  const logger = deps.logger ?? pino({ level: 'silent' });
  const metrics = deps.metrics ?? createHttpMetrics();
  const routes = buildRoutes({ ...deps, metrics });
  // With METRICS_PORT, /metrics is served on that port (api/main.ts) and not here.
  const serveMetrics = config.metricsPort === undefined;
  const openapi = buildOpenApi(routes, { metrics: serveMetrics });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // The default query parser builds nested objects from `a[b]=c`; the API only takes flat strings.
  app.set('query parser', 'simple');
  app.locals.routes = routes;
  app.locals.openapi = openapi;
  app.use(observe(logger, metrics));
  app.use(helmet());
  // Webhook signatures are computed over the raw bytes: these paths get the body unparsed.
  for (const spec of routes.filter((r) => r.rawBody)) {
    app.use(expressPath(spec.path), express.raw({ type: () => true, limit: config.bodyLimitBytes }));
  }
  app.use(express.json({ limit: config.bodyLimitBytes, strict: true, type: ['application/json', 'application/*+json'] }));
  app.use(healthRouter(deps.probes, logger));
  if (serveMetrics) app.get('/metrics', metricsHandler(metrics));
  app.get('/v1/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  mountRoutes(app, routes, { jwtSecret: config.jwtSecret });
  // The storefront (web/dist) under `/`: after the routes, so it only sees what none of them took.
  app.use(storefrontHandler());
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
