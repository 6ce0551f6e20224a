/**
 * A checkout worker in a child process, for tests that kill it (SIGKILL) mid-saga. It serves
 * TASK_QUEUE against the test stack and the PSP at PSP_URL, and prints READY once polling.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createServices } from '../../services';
import { createSimulatorGateway } from '../../services/payments';
import { bundleWorkflows } from '../../workers/worker';
import { testConfig, testPool, testRedis } from './env';

async function main(): Promise<void> {
  const taskQueue = process.env.TASK_QUEUE;
  const pspUrl = process.env.PSP_URL;
  if (!taskQueue || !pspUrl) throw new Error('TASK_QUEUE and PSP_URL are required');
  const services = createServices({
    pool: testPool(),
    redis: testRedis(),
    gateway: createSimulatorGateway({ baseUrl: pspUrl, timeoutMs: 1500, webhookSecret: testConfig.webhookSecret }),
  });
  const connection = await NativeConnection.connect({ address: testConfig.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: testConfig.temporalNamespace,
    taskQueue,
    workflowBundle: await bundleWorkflows(),
    activities: createActivities({ pool: testPool(), redis: testRedis(), services }),
  });
  await worker.runUntil(async () => {
    console.log('READY');
    await new Promise(() => undefined); // until killed
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
