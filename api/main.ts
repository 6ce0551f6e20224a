/**
 * The API process: wires real clients and services into the app and serves it on PORT (and
 * /metrics on METRICS_PORT when that is set). With NODE_ENV=production it refuses to start on a
 * missing or dev JWT_SECRET / WEBHOOK_SECRET (lib/config.ts).
 */
// First: tracing patches http, express, pg, ioredis and fetch as they load (OTEL_SDK_DISABLED=true: off).
import './tracing';
import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { activeTracing } from '../lib/tracing';
import type { Server } from 'node:http';
import { loadConfig, refuseDevSecretsInProduction } from '../lib/config';
import { createPool } from '../db/pool';
import { createRedis } from '../lib/redis';
import { createGatewayFromEnv } from '../services/payments';
import { createApp } from './app';
import { apiConfigFromEnv } from './config';
import { temporalProbe } from './health';
import { createHttpMetrics, createLogger, startMetricsServer } from './observability';
import { wireServices } from './wiring';

function main(): void {
  refuseDevSecretsInProduction('api');
  const config = loadConfig();
  const apiConfig = apiConfigFromEnv();
  const logger = createLogger();
  const metrics = createHttpMetrics({ defaultMetrics: true });
  const pool = createPool(config.databaseUrl);
  const redis = createRedis(config.redisUrl, 'checkout-api');
  // Lazy: the API starts (and /readyz reports Temporal down) even while Temporal is unreachable.
  const temporal = Connection.lazy({ address: config.temporalAddress, connectTimeout: 2000 });
  const tracing = activeTracing();
  // Traced: every start, Update-with-Start, signal and query carries the request's trace context.
  const interceptors = tracing ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
  const client = new Client({ connection: temporal, namespace: config.temporalNamespace, ...(interceptors ? { interceptors } : {}) });
  const app = createApp({
    probes: {
      postgres: () => pool.query('SELECT 1'),
      redis: () => redis.ping(),
      temporal: temporalProbe(temporal),
    },
    config: apiConfig,
    logger,
    metrics,
    ...wireServices({ pool, redis, temporal: client, gateway: createGatewayFromEnv(), metricsRegistry: metrics.registry }),
  });
  const server = app.listen(config.port, () => {
    logger.info({ port: config.port, taskQueue: config.taskQueue }, `API listening on http://localhost:${config.port}`);
  });
  let metricsServer: Server | undefined;
  if (apiConfig.metricsPort !== undefined) {
    const metricsPort = apiConfig.metricsPort;
    startMetricsServer(metricsPort, metrics).then(
      (s) => {
        metricsServer = s;
        logger.info({ metricsPort }, `metrics on http://localhost:${metricsPort}/metrics (not on the API port)`);
      },
      (err: unknown) => {
        logger.error({ err, metricsPort }, 'cannot serve metrics on METRICS_PORT');
        process.exit(1);
      },
    );
  }
  let stopping = false;
  const shutdown = (): void => {
    // A second signal (Ctrl-C arrives from the terminal and from the parent) changes nothing.
    if (stopping) return;
    stopping = true;
    logger.info('API shutting down');
    metricsServer?.close();
    server.close(() => {
      void Promise.allSettled([pool.end(), temporal.close(), redis.quit(), tracing?.shutdown()]).then(() => process.exit(0));
    });
    // Keep-alive connections must not hold shutdown hostage.
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main();
