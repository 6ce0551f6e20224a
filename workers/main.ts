/**
 * The worker process: connects to Temporal, Postgres, Redis and the payment gateway, serves the
 * checkout task queue and its Prometheus metrics, and shuts down gracefully on SIGINT/SIGTERM (the
 * Temporal runtime stops polling and lets running activities finish within the grace period;
 * then the pools close).
 */
// First: tracing patches pg, ioredis and fetch as they load (OTEL_SDK_DISABLED=true: off).
import './tracing';
import { Client, Connection } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { createWorkerLogger } from './logging';
import { loadConfig, refuseDevSecretsInProduction } from '../lib/config';
import { createPool } from '../db/pool';
import { createRedis } from '../lib/redis';
import { createActivities } from '../activities';
import { createServices } from '../services';
import { createGatewayFromEnv } from '../services/payments';
import { voucherHoldMsFromEnv } from '../services/vouchers';
import { createWorkerMetrics, freeLoopbackPort, listenMetricsServer } from './metrics';
import { startReconciler } from './reconciler';
import { connectWorker, createWorker } from './worker';
import { activeTracing } from '../lib/tracing';

async function main(): Promise<void> {
  refuseDevSecretsInProduction('worker');
  const config = loadConfig();
  const tracing = activeTracing();
  // The SDK's own worker metrics go to a loopback exporter that our /metrics endpoint appends: on
  // the port after ours when ours is fixed, else on one the kernel picks (several workers per host).
  const ports = config.workerMetricsPorts;
  const sdkMetricsAddress = `127.0.0.1:${ports.fixed ? ports.from + 1 : await freeLoopbackPort()}`;
  Runtime.install({
    logger: createWorkerLogger(process.env.LOG_LEVEL),
    telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetricsAddress } } },
  });
  const pool = createPool(config.databaseUrl);
  const redis = createRedis(config.redisUrl, 'checkout-worker');
  const gateway = createGatewayFromEnv();
  // VOUCHER_HOLD_MS (default PAYMENT_TIMEOUT_MS + 15 min); a value shorter than the payment wait stops start-up here.
  const metrics = createWorkerMetrics({ defaultMetrics: true });
  const services = createServices({ pool, redis, gateway, holdTimeoutMs: voucherHoldMsFromEnv(), metricsRegistry: metrics.registry });
  const { server: metricsServer, port: metricsPort } = await listenMetricsServer(ports, metrics.registry, `http://${sdkMetricsAddress}/metrics`);
  const connection = await connectWorker(config.temporalAddress);
  const clientConnection = await Connection.connect({ address: config.temporalAddress });
  const reconciler = startReconciler({
    client: new Client({ connection: clientConnection, namespace: config.temporalNamespace }),
    orders: services.orders,
    taskQueue: config.taskQueue,
    intervalMs: config.reconcileIntervalMs,
    graceMs: config.reconcileGraceMs,
    log: (message, fields) => console.log(JSON.stringify({ msg: message, ...fields })),
  });
  try {
    const worker = await createWorker({
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      activities: createActivities({ pool, redis, services, metrics: metrics.checkout, payoutsEnabled: process.env.PAYMENT_GATEWAY === 'stripe' }),
      sinks: metrics.sinks,
      ...(tracing ? { tracing: { sinks: tracing.workflowSinks() } } : {}),
    });
    console.log(`worker polling task queue "${config.taskQueue}" on ${config.temporalAddress} (namespace ${config.temporalNamespace}); metrics on :${metricsPort}/metrics`);
    await worker.run();
    console.log('worker stopped');
  } finally {
    await reconciler.stop();
    await clientConnection.close();
    metricsServer.close();
    await connection.close();
    await pool.end();
    redis.disconnect();
    await tracing?.shutdown();
  }
}

main().catch((err: unknown) => {
  console.error('worker failed:', err);
  process.exit(1);
});
