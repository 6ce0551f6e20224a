/**
 * The floor workflows of bench:checkout, bundled for the bench's own worker (./floor-worker.ts,
 * its own task queue; never registered on the product worker). Deterministic sandbox: no Node
 * built-ins, activities as types only.
 *
 * - `emptyWorkflow` returns at once: one workflow task, the least a workflow can cost.
 * - `shapeWorkflow` runs a WorkflowShape (./shape.ts) with no-op activities: the Temporal cost of a
 *   checkout's shape without any of the checkout's own work.
 * - `floorChildWorkflow` stands for a parcel child: runs its no-op activities, then waits (like a
 *   parcel waits for its ship-by timer) until it is released by signal or terminated by the bench.
 */
import {
  condition,
  defineSignal,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { FloorActivities } from './floor-activities';
import type { WorkflowShape } from './shape';

const activities = proxyActivities<FloorActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});
const localActivities = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '15 seconds' });

/** Sent by the driver for a stage with `signalWait`, and to release a waiting child. */
export const floorGoSignal = defineSignal('floorGo');

export function emptyWorkflow(): Promise<void> {
  return Promise.resolve();
}

export async function floorChildWorkflow(input: { activities: number }): Promise<void> {
  let released = false;
  setHandler(floorGoSignal, () => {
    released = true;
  });
  for (let i = 0; i < input.activities; i += 1) await activities.noop();
  await condition(() => released, '1 day');
}

export async function shapeWorkflow(shape: WorkflowShape): Promise<number> {
  let signals = 0;
  setHandler(floorGoSignal, () => {
    signals += 1;
  });
  let waited = 0;
  const { workflowId } = workflowInfo();
  let child = 0;
  for (const stage of shape.stages) {
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < (stage.activities ?? 0); i += 1) work.push(activities.noop());
    for (let i = 0; i < (stage.localActivities ?? 0); i += 1) work.push(localActivities.noop());
    await Promise.all(work);
    for (let i = 0; i < (stage.children ?? 0); i += 1) {
      child += 1;
      await startChild(floorChildWorkflow, {
        workflowId: `${workflowId}:child:${child}`,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [{ activities: shape.childActivities }],
      });
    }
    if (stage.signalWait) {
      waited += 1;
      await condition(() => signals >= waited);
    }
  }
  return child;
}
