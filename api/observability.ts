/**
 * Request ids, structured logs and metrics.
 *
 * - Every response carries `X-Request-Id`: the client's own when it is sane, a fresh one otherwise.
 * - Each request gets a pino child logger bound to its request id; handlers add the order id and
 *   workflow id they touch (`noteIds`), and one line per request is logged when it finishes, with
 *   method, route, status, duration, user, order and workflow ids.
 * - Prometheus metrics: request count and latency histogram by method, route template and status,
 *   in a registry owned by the app (tests build many apps in one process).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';
import pino, { type Logger } from 'pino';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** What a request's log line and metrics need, kept on res.locals. */
export interface RequestContext {
  requestId: string;
  /** The request's logger: bound to the request id and to every id noted so far. */
  log: Logger;
  /** The request-id-bound logger the noted ids are added to (never bound twice). */
  baseLog: Logger;
  startedAt: bigint;
  userId?: string;
  orderId?: string;
  workflowId?: string;
  /** The matched route template (e.g. `/v1/orders/{orderId}`), set by the route wrapper. */
  route?: string;
}

export function contextOf(res: Response): RequestContext {
  return res.locals.ctx as RequestContext;
}

/** Adds business ids to the request's log line (and to its child logger for later lines). */
export function noteIds(res: Response, ids: { userId?: string; orderId?: string; workflowId?: string }): void {
  const ctx = contextOf(res);
  Object.assign(ctx, ids);
  const bound = Object.fromEntries(
    (['userId', 'orderId', 'workflowId'] as const).flatMap((key) => (ctx[key] === undefined ? [] : [[key, ctx[key]]])),
  );
  ctx.log = ctx.baseLog.child(bound);
  // The request's server span (the root of its trace) carries the ids: Jaeger finds a checkout by
  // its order id (docs/tracing.md). No-op when tracing is off.
  const span = getRPCMetadata(context.active())?.span ?? trace.getActiveSpan();
  span?.setAttributes({
    ...(ids.orderId === undefined ? {} : { 'order.id': ids.orderId }),
    ...(ids.userId === undefined ? {} : { 'user.id': ids.userId }),
    ...(ids.workflowId === undefined ? {} : { temporalWorkflowId: ids.workflowId }),
  });
}

/** Logs join traces: the trace and span of the line's context, when one is recording. */
export function traceFields(): { traceId?: string; spanId?: string } {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? { traceId: spanContext.traceId, spanId: spanContext.spanId } : {};
}

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const base = { level: options.level ?? process.env.LOG_LEVEL ?? 'info', base: { service: 'checkout-api' }, mixin: traceFields };
  return options.destination ? pino(base, options.destination) : pino(base);
}

export interface HttpMetrics {
  registry: Registry;
  observe(method: string, route: string, status: number, seconds: number): void;
}

export function createHttpMetrics(options: { defaultMetrics?: boolean } = {}): HttpMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests by method, route template and status', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    observe(method, route, status, seconds) {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
  };
}

/**
 * First middleware: request id, child logger, and the finish hook that logs and measures.
 * Unmatched paths are measured under one label (`unmatched`) so that scanners cannot blow up the
 * label cardinality.
 */
export function observe(logger: Logger, metrics: HttpMetrics): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.get('X-Request-Id');
    const requestId = given && requestIdPattern.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const baseLog = logger.child({ requestId });
    const ctx: RequestContext = { requestId, log: baseLog, baseLog, startedAt: process.hrtime.bigint() };
    res.locals.ctx = ctx;
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - ctx.startedAt) / 1e9;
      // Declared routes set ctx.route; plain express routes (health, metrics) are named by express.
      const matched = (req.route as { path?: unknown } | undefined)?.path;
      const route = ctx.route ?? (typeof matched === 'string' ? `${req.baseUrl}${matched}` : 'unmatched');
      metrics.observe(req.method, route, res.statusCode, seconds);
      // The ids are bound on ctx.log already.
      const line = { method: req.method, route, path: req.path, status: res.statusCode, durationMs: Math.round(seconds * 1000) };
      if (res.statusCode >= 500) ctx.log.error(line, 'request failed');
      else ctx.log.info(line, 'request');
    });
    next();
  };
}

/** GET /metrics of the app: the registry in Prometheus text format. */
export function metricsHandler(metrics: HttpMetrics): RequestHandler {
  return (_req, res, next) => {
    metrics.registry.metrics().then((text) => {
      res.setHeader('Content-Type', metrics.registry.contentType);
      res.send(text);
    }, next);
  };
}

/**
 * `METRICS_PORT`: /metrics on a small server of its own (e.g. reachable only from the monitoring
 * network), serving the same registry the app counts in; anything else there is 404.
 */
export function startMetricsServer(port: number, metrics: HttpMetrics, host?: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      () => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics failed\n'),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const onListening = (): void => {
      server.off('error', reject);
      resolve(server);
    };
    if (host === undefined) server.listen(port, onListening);
    else server.listen(port, host, onListening);
  });
}
