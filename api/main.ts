/** The API process: wires real clients and services into the app and serves it on PORT. */
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../lib/config';
import { createPool } from '../db/pool';
import { createRedis } from '../lib/redis';
import { createGatewayFromEnv } from '../services/payments';
import { createApp } from './app';
import { apiConfigFromEnv } from './config';
import { temporalProbe } from './health';
import { createHttpMetrics, createLogger } from './observability';
import { wireServices } from './wiring';

function main(): void {
  const config = loadConfig();
  const logger = createLogger();
  const pool = createPool(config.databaseUrl);
  const redis = createRedis(config.redisUrl, 'checkout-api');
  // Lazy: the API starts (and /readyz reports Temporal down) even while Temporal is unreachable.
  const temporal = Connection.lazy({ address: config.temporalAddress, connectTimeout: 2000 });
  const client = new Client({ connection: temporal, namespace: config.temporalNamespace });
  const app = createApp({
    probes: {
      postgres: () => pool.query('SELECT 1'),
      redis: () => redis.ping(),
      temporal: temporalProbe(temporal),
    },
    config: apiConfigFromEnv(),
    logger,
    metrics: createHttpMetrics({ defaultMetrics: true }),
    ...wireServices({ pool, redis, temporal: client, gateway: createGatewayFromEnv() }),
  });
  const server = app.listen(config.port, () => {
    logger.info({ port: config.port, taskQueue: config.taskQueue }, `API listening on http://localhost:${config.port}`);
  });
  let stopping = false;
  const shutdown = (): void => {
    // A second signal (Ctrl-C arrives from the terminal and from the parent) changes nothing.
    if (stopping) return;
    stopping = true;
    logger.info('API shutting down');
    server.close(() => {
      void Promise.allSettled([pool.end(), temporal.close(), redis.quit()]).then(() => process.exit(0));
    });
    // Keep-alive connections must not hold shutdown hostage.
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main();
