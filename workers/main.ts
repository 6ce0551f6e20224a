/**
 * The worker process: connects to Temporal, Postgres, Redis and the payment gateway, serves the
 * checkout task queue and its Prometheus metrics, and shuts down gracefully on SIGINT/SIGTERM (the
 * Temporal runtime stops polling and lets running activities finish within the grace period;
 * then the pools close).
 */
import { Runtime } from '@temporalio/worker';
import { createWorkerLogger } from './logging';
import { loadConfig } from '../lib/config';
import { createPool } from '../db/pool';
import { createRedis } from '../lib/redis';
import { createActivities } from '../activities';
import { createServices } from '../services';
import { createGatewayFromEnv } from '../services/payments';
import { createWorkerMetrics, startMetricsServer } from './metrics';
import { connectWorker, createWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  // The SDK's own worker metrics go to a loopback exporter that our /metrics endpoint appends.
  const sdkMetricsAddress = `127.0.0.1:${config.workerMetricsPort + 1}`;
  Runtime.install({
    logger: createWorkerLogger(process.env.LOG_LEVEL),
    telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetricsAddress } } },
  });
  const pool = createPool(config.databaseUrl);
  const redis = createRedis(config.redisUrl, 'checkout-worker');
  const gateway = createGatewayFromEnv();
  const services = createServices({ pool, redis, gateway });
  const metrics = createWorkerMetrics({ defaultMetrics: true });
  const metricsServer = startMetricsServer(config.workerMetricsPort, metrics.registry, `http://${sdkMetricsAddress}/metrics`);
  const connection = await connectWorker(config.temporalAddress);
  try {
    const worker = await createWorker({
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      activities: createActivities({ pool, redis, services, metrics: metrics.checkout, payoutsEnabled: process.env.PAYMENT_GATEWAY === 'stripe' }),
      sinks: metrics.sinks,
    });
    console.log(`worker polling task queue "${config.taskQueue}" on ${config.temporalAddress} (namespace ${config.temporalNamespace}); metrics on :${config.workerMetricsPort}/metrics`);
    await worker.run();
    console.log('worker stopped');
  } finally {
    metricsServer.close();
    await connection.close();
    await pool.end();
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error('worker failed:', err);
  process.exit(1);
});
