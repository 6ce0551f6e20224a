/**
 * Workflows the bench leaves running on its own task queues: the parcel children of its checkouts
 * (they wait days for their ship-by timer, on a queue no worker polls once the bench ends) and the
 * floor children. They are terminated at the end of a run, once every checkout of the run has
 * settled (BENCH_CHECKOUT_KEEP_WORKFLOWS=1 keeps them). After Ctrl-C nothing is terminated: a
 * checkout still in flight is finished by the next run's worker (same task queue), whose end then
 * terminates its children. Only workflows of the bench's task queues are touched (visibility query).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';

export async function terminateRunning(client: Client, taskQueue: string, reason: string): Promise<number> {
  const query = `TaskQueue = '${taskQueue.replace(/'/g, "\\'")}' AND ExecutionStatus = 'Running'`;
  let terminated = 0;
  // Visibility trails the histories a little: a few passes until a pass finds nothing.
  for (let pass = 0; pass < 5; pass += 1) {
    const ids: string[] = [];
    for await (const execution of client.workflow.list({ query })) ids.push(execution.workflowId);
    if (ids.length === 0) break;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let id = ids.pop(); id; id = ids.pop()) {
          try {
            await client.workflow.getHandle(id).terminate(reason);
            terminated += 1;
          } catch (err) {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          }
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return terminated;
}
