/** Builds the checkout worker; used by the worker process and by the integration tests. */
import { bundleWorkflowCode, NativeConnection, Worker, type InjectedSinks, type Logger, type WorkflowBundle } from '@temporalio/worker';
import { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, type OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';
import type { CheckoutSinks } from '../workflows/sinks';
import type { Activities } from '../activities';
import { RefusalSpanAttributes } from './tracing-interceptors';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A prebuilt bundle (tests build it once); otherwise the worker bundles `workflows/` at start. */
  workflowBundle?: WorkflowBundle;
  sinks?: InjectedSinks<CheckoutSinks>;
  /**
   * Tracing (docs/tracing.md): the sink of the spans made in the workflow sandbox
   * (lib/tracing.ts `workflowSinks()`). With it the activities are traced and the workflows are
   * bundled with their tracing interceptors (a prebuilt `workflowBundle` must be built with
   * `bundleWorkflows({ tracing: true })`).
   */
  tracing?: { sinks: InjectedSinks<OpenTelemetrySinks> };
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

/** The workflow interceptors of tracing (workflows/tracing.ts), bundled only when tracing is on. */
export const workflowTracingModule = require.resolve('../workflows/tracing');

/** Bundles `workflows/` for the deterministic sandbox (a few seconds; do it once per process). */
export function bundleWorkflows(options: { tracing?: boolean } = {}): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath, logger: bundlerLogger, ...(options.tracing ? { workflowInterceptorModules: [workflowTracingModule] } : {}) });
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const tracing = options.tracing;
  const workflowBundle = options.workflowBundle ?? (await bundleWorkflows({ tracing: tracing !== undefined }));
  const sinks = { ...options.sinks, ...tracing?.sinks };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    workflowBundle,
    // A workflow task waits this long for the worker that has the execution cached (its sticky
    // queue) before any worker takes it with a full replay: short, so a killed worker's orders move
    // to another one within seconds (default 10 s; the chaos scenario measures the recovery).
    stickyQueueScheduleToStartTimeout: '3 seconds',
    ...(Object.keys(sinks).length > 0 ? { sinks } : {}),
    ...(tracing
      ? {
          interceptors: {
            // Local activities run through these too: each gets its RunActivity span.
            activity: [
              (ctx) => ({
                inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
                outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
              }),
              () => ({ inbound: new RefusalSpanAttributes() }),
            ],
          },
        }
      : {}),
  });
}

export async function connectWorker(address: string): Promise<NativeConnection> {
  return NativeConnection.connect({ address });
}
