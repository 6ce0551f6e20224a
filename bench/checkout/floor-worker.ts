/**
 * The bench-only worker of bench:checkout's floor workflows (./floor-workflows.ts): its own process
 * (like the product worker), its own task queue (BENCH_FLOOR_TASK_QUEUE), Temporal from
 * lib/config.ts. Started and stopped by bench/checkout.ts; prints "floor worker polling" once it
 * polls. SIGINT/SIGTERM stop it (the Temporal runtime's own signal handling).
 */
import path from 'node:path';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../../lib/config';
import { bundlerLogger } from '../../workers/worker';
import { createFloorActivities } from './floor-activities';

async function main(): Promise<void> {
  const taskQueue = process.env.BENCH_FLOOR_TASK_QUEUE;
  if (!taskQueue) throw new Error('BENCH_FLOOR_TASK_QUEUE is not set');
  const config = loadConfig();
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'floor-workflows.ts'), logger: bundlerLogger });
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.temporalNamespace,
      taskQueue,
      workflowBundle,
      activities: createFloorActivities(),
    });
    console.log(`floor worker polling task queue "${taskQueue}" on ${config.temporalAddress}`);
    await worker.run();
    console.log('floor worker stopped');
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error('floor worker failed:', err);
  process.exit(1);
});
