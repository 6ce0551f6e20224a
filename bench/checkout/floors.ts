/**
 * The Temporal floors of bench:checkout, on the same server in the same run, on the bench-only
 * floor worker (./floor-worker.ts): the empty workflow and the no-op workflow of the checkout's
 * shape, each one at a time (latency) and `concurrency` at once in a closed loop (completions/s).
 * Workflows are started with client.workflow.execute (start, then wait for the result).
 */
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import type { emptyWorkflow, shapeWorkflow } from './floor-workflows';
import { checkoutWork, type CheckoutWork } from './history';
import { shapeTotals, type WorkflowShape } from './shape';

export interface FloorRun {
  sequentialMs: number[];
  concurrent: { concurrency: number; completed: number; elapsedMs: number; latenciesMs: number[] };
}

export interface FloorOptions {
  client: Client;
  taskQueue: string;
  runId: string;
  emptyCount: number;
  shapeCount: number;
  concurrency: number;
  durationMs: number;
  log: (line: string) => void;
}

let seq = 0;

async function runEmpty(options: FloorOptions): Promise<string> {
  seq += 1;
  const workflowId = `bench-floor:${options.runId}:empty:${seq}`;
  await options.client.workflow.execute<typeof emptyWorkflow>('emptyWorkflow', { taskQueue: options.taskQueue, workflowId });
  return workflowId;
}

async function runShape(options: FloorOptions, shape: WorkflowShape): Promise<string> {
  seq += 1;
  const workflowId = `bench-floor:${options.runId}:shape:${seq}`;
  const signals = shapeTotals(shape).signalWaits;
  if (signals === 0) {
    await options.client.workflow.execute<typeof shapeWorkflow>('shapeWorkflow', { taskQueue: options.taskQueue, workflowId, args: [shape] });
    return workflowId;
  }
  const handle = await options.client.workflow.start<typeof shapeWorkflow>('shapeWorkflow', { taskQueue: options.taskQueue, workflowId, args: [shape] });
  for (let i = 0; i < signals; i += 1) await handle.signal('floorGo');
  await handle.result();
  return workflowId;
}

async function measure(options: FloorOptions, name: string, count: number, run: () => Promise<string>): Promise<FloorRun & { lastWorkflowId: string }> {
  let lastWorkflowId = '';
  for (let i = 0; i < 3; i += 1) lastWorkflowId = await run(); // warm-up
  const sequentialMs: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    lastWorkflowId = await run();
    sequentialMs.push(performance.now() - started);
  }
  options.log(`floor ${name}: ${sequentialMs.length} one at a time`);
  const latenciesMs: number[] = [];
  const started = performance.now();
  const deadline = started + options.durationMs;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await run();
        latenciesMs.push(performance.now() - t0);
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  options.log(`floor ${name}: ${latenciesMs.length} completed by ${options.concurrency} at once in ${Math.round(elapsedMs)} ms`);
  return { sequentialMs, concurrent: { concurrency: options.concurrency, completed: latenciesMs.length, elapsedMs, latenciesMs }, lastWorkflowId };
}

export interface FloorResults {
  empty: FloorRun;
  shape: FloorRun;
  /** The Temporal work of one shape workflow, read back from its history like a checkout's. */
  shapeWork: CheckoutWork;
}

export async function runFloors(options: FloorOptions, shape: WorkflowShape): Promise<FloorResults> {
  const empty = await measure(options, 'empty workflow', options.emptyCount, () => runEmpty(options));
  const shaped = await measure(options, 'checkout-shaped workflow', options.shapeCount, () => runShape(options, shape));
  const shapeWork = await checkoutWork(options.client, shaped.lastWorkflowId);
  return { empty, shape: shaped, shapeWork };
}
