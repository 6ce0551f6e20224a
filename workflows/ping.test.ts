import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { NativeConnection } from '@temporalio/worker';
import { createPingActivities } from '../activities/ping';
import { pingWorkflowId } from './ids';
import { pingWorkflow } from './ping';
import { testConfig, testPool, testRedis, uniqueId } from '../test/support/env';
import { createTimeSkippingEnv, devServerClient, sharedWorkflowBundle, uniqueTaskQueue } from '../test/support/temporal';

describe('ping workflow @integration', () => {
  it('runs on the real dev server and touches Postgres and Redis once', async () => {
    const connection = await NativeConnection.connect({ address: testConfig.temporalAddress });
    const { client, close } = await devServerClient();
    const taskQueue = uniqueTaskQueue();
    try {
      const worker = await Worker.create({
        connection,
        namespace: testConfig.temporalNamespace,
        taskQueue,
        workflowBundle: await sharedWorkflowBundle(),
        activities: createPingActivities({ pool: testPool(), redis: testRedis() }),
      });
      const pingId = uniqueId('ping');
      const result = await worker.runUntil(
        client.workflow.execute(pingWorkflow, { taskQueue, workflowId: pingWorkflowId(pingId), args: [{ pingId, message: 'hello' }] }),
      );
      assert.equal(result.pingId, pingId);
      assert.equal(result.redisCount, 1);
      const { rows } = await testPool().query<{ message: string }>('SELECT message FROM pings WHERE ping_id = $1', [pingId]);
      assert.deepEqual(rows, [{ message: 'hello' }]);
      assert.equal(await testRedis().get(`ping:${pingId}`), '1');
    } finally {
      await close();
      await connection.close();
    }
  });

  it('refuses a second workflow for the same ping id while the first one runs', async () => {
    const { client, close } = await devServerClient();
    try {
      const pingId = uniqueId('ping');
      const options = { taskQueue: uniqueTaskQueue(), workflowId: pingWorkflowId(pingId), args: [{ pingId, message: 'x', delay: '1 hour' }] as [Parameters<typeof pingWorkflow>[0]] };
      const first = await client.workflow.start(pingWorkflow, options);
      await assert.rejects(client.workflow.start(pingWorkflow, options), { name: 'WorkflowExecutionAlreadyStartedError' });
      await first.terminate('test done');
    } finally {
      await close();
    }
  });
});

describe('ping workflow with a 7-day timer (time-skipping) @integration', () => {
  it('waits 7 days of workflow time in a few seconds of real time', async function () {
    this.timeout(120_000);
    const env = await createTimeSkippingEnv();
    try {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: 'time-skipping',
        workflowBundle: await sharedWorkflowBundle(),
        activities: createPingActivities({ pool: testPool(), redis: testRedis() }),
      });
      const pingId = uniqueId('ping');
      const startedAtMs = await env.currentTimeMs();
      const realStart = Date.now();
      const result = await worker.runUntil(
        env.client.workflow.execute(pingWorkflow, {
          taskQueue: 'time-skipping',
          workflowId: pingWorkflowId(pingId),
          args: [{ pingId, message: 'a week later', delay: '7 days' }],
        }),
      );
      const elapsedWorkflowMs = (await env.currentTimeMs()) - startedAtMs;
      assert.equal(result.pingId, pingId);
      assert.ok(elapsedWorkflowMs >= 7 * 24 * 3600 * 1000, `workflow time advanced only ${elapsedWorkflowMs} ms`);
      assert.ok(Date.now() - realStart < 60_000, 'time skipping should finish in seconds');
    } finally {
      await env.teardown();
    }
  });
});
