/** Builds the checkout worker; used by the worker process and by the integration tests. */
import { bundleWorkflowCode, NativeConnection, Worker, type InjectedSinks, type Logger, type WorkflowBundle } from '@temporalio/worker';
import type { CheckoutSinks } from '../workflows/sinks';
import type { Activities } from '../activities';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A prebuilt bundle (tests build it once); otherwise the worker bundles `workflows/` at start. */
  workflowBundle?: WorkflowBundle;
  sinks?: InjectedSinks<CheckoutSinks>;
}

export const workflowsPath = require.resolve('../workflows');

const ignore = (): void => undefined;
/** The bundler logs webpack's whole module report at INFO; only its warnings and errors matter here. */
export const bundlerLogger: Logger = {
  log: ignore,
  trace: ignore,
  debug: ignore,
  info: ignore,
  warn: (message) => console.warn(`[bundle] ${message}`),
  error: (message) => console.error(`[bundle] ${message}`),
};

/** Bundles `workflows/` for the deterministic sandbox (a few seconds; do it once per process). */
export function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath, logger: bundlerLogger });
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const workflowBundle = options.workflowBundle ?? (await bundleWorkflows());
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    workflowBundle,
    ...(options.sinks ? { sinks: options.sinks } : {}),
  });
}

export async function connectWorker(address: string): Promise<NativeConnection> {
  return NativeConnection.connect({ address });
}
