/**
 * Temporal helpers for tests: one workflow bundle per test run (bundling takes seconds), a client on
 * the real dev server, and the time-skipping test environment from the project-local binary. The
 * time-skipping server has no custom search attributes (it implements no operator service), so
 * workflows run there with `settings.searchAttributes: false`.
 */
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import { temporalTestServer } from '../../scripts/stack/tools';
import { bundleWorkflows } from '../../workers/worker';
import { testConfig, uniqueId } from './env';

let bundle: Promise<WorkflowBundle> | undefined;

/** The workflows bundled once per run and shared by every test worker. */
export function sharedWorkflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflows();
  return bundle;
}

/** A task queue of its own for each test, so tests never steal each other's tasks. */
export const uniqueTaskQueue = (): string => uniqueId('tq');

export async function devServerClient(): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: testConfig.temporalAddress });
  const client = new Client({ connection, namespace: testConfig.temporalNamespace });
  return { client, close: () => connection.close() };
}

const timeSkippingAttempts = 4;

/**
 * The SDK gives the test server only a few seconds to answer. On a busy 2-core machine (a
 * parallel build, the dev server starting) the first start can miss that window, so retry a few
 * times with a growing pause before giving up.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const path = temporalTestServer(false);
  if (!path) throw new Error('temporal-test-server is not installed: run `npm run stack -- up --for-tests`');
  let lastError: unknown;
  for (let attempt = 1; attempt <= timeSkippingAttempts; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
    } catch (err) {
      lastError = err;
      console.warn(`time-skipping test server did not start (attempt ${attempt}/${timeSkippingAttempts}): ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, attempt * 1000));
    }
  }
  throw lastError;
}
