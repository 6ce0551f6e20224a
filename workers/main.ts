/**
 * The worker process: connects to Temporal, Postgres and Redis, serves the checkout task queue, and
 * shuts down gracefully on SIGINT/SIGTERM (the Temporal runtime stops polling, lets running
 * activities finish within the grace period, then the pools close).
 */
import { loadConfig } from '../lib/config';
import { createPool } from '../db/pool';
import { createRedis } from '../lib/redis';
import { createActivities } from '../activities';
import { connectWorker, createWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const pool = createPool(config.databaseUrl);
  const redis = createRedis(config.redisUrl, 'checkout-worker');
  const connection = await connectWorker(config.temporalAddress);
  try {
    const worker = await createWorker({
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      activities: createActivities({ pool, redis }),
    });
    console.log(`worker polling task queue "${config.taskQueue}" on ${config.temporalAddress} (namespace ${config.temporalNamespace})`);
    await worker.run();
    console.log('worker stopped');
  } finally {
    await connection.close();
    await pool.end();
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error('worker failed:', err);
  process.exit(1);
});
