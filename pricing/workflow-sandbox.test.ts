import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { testConfig, uniqueId } from '../test/support/env';
import { price, renderBreakdown } from './index';
import { workedExampleInput } from './test-support/fixtures';
import { pricingProbeWorkflow } from './test-support/probe-workflow';

describe('pricing inside the Temporal workflow sandbox @integration', function () {
  this.timeout(120_000);

  it('bundles with the workflow bundler and prices exactly as in Node', async () => {
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./test-support/probe-workflow'),
      logger: new DefaultLogger('WARN'),
    });
    const workerConnection = await NativeConnection.connect({ address: testConfig.temporalAddress });
    const clientConnection = await Connection.connect({ address: testConfig.temporalAddress });
    try {
      const taskQueue = uniqueId('pricing-probe');
      const worker = await Worker.create({
        connection: workerConnection,
        namespace: testConfig.temporalNamespace,
        taskQueue,
        workflowBundle,
      });
      const client = new Client({ connection: clientConnection, namespace: testConfig.temporalNamespace });
      const input = workedExampleInput();
      const result = await worker.runUntil(
        client.workflow.execute(pricingProbeWorkflow, { taskQueue, workflowId: taskQueue, args: [input] }),
      );
      const expected = price(input);
      assert.deepEqual(result, { breakdown: expected, text: renderBreakdown(expected) });
    } finally {
      await clientConnection.close();
      await workerConnection.close();
    }
  });
});
