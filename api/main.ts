/** The API process: wires real clients into the app and serves it on PORT. */
import { Connection } from '@temporalio/client';
import { loadConfig } from '../lib/config';
import { createPool } from '../db/pool';
import { createRedis } from '../lib/redis';
import { createApp } from './app';
import { temporalProbe } from './health';

function main(): void {
  const config = loadConfig();
  const pool = createPool(config.databaseUrl);
  const redis = createRedis(config.redisUrl, 'checkout-api');
  // Lazy: the API starts (and /readyz reports Temporal down) even while Temporal is unreachable.
  const temporal = Connection.lazy({ address: config.temporalAddress, connectTimeout: 2000 });
  const app = createApp({
    probes: {
      postgres: () => pool.query('SELECT 1'),
      redis: () => redis.ping(),
      temporal: temporalProbe(temporal),
    },
  });
  const server = app.listen(config.port, () => {
    console.log(`API listening on http://localhost:${config.port}`);
  });
  const shutdown = (): void => {
    console.log('API shutting down');
    server.close(() => {
      void Promise.allSettled([pool.end(), temporal.close(), redis.quit()]).then(() => process.exit(0));
    });
    // Keep-alive connections must not hold shutdown hostage.
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main();
