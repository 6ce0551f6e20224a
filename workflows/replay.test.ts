/**
 * Replays recorded histories (workflows/histories/, made by `npm run record-histories`) against
 * today's workflow code. A change that would make a running saga or parcel non-deterministic —
 * a step added, removed or reordered without versioning — fails here, before it reaches a worker
 * holding thousands of open checkouts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { sharedWorkflowBundle } from '../test/support/temporal';
import { createWorkerMetrics } from '../workers/metrics';

const historiesDir = path.join(__dirname, 'histories');
const files = readdirSync(historiesDir).filter((f) => f.endsWith('.json')).sort();

describe('workflow replay of recorded histories', function () {
  this.timeout(120_000);

  it('has recorded histories of completed, refused and asynchronously paid checkouts and of a parcel', () => {
    assert.ok(files.some((f) => f.startsWith('checkout-completed')));
    assert.ok(files.some((f) => f.includes('child')), 'a parcel history');
    assert.ok(files.length >= 4);
  });

  it('replays every recorded history without non-determinism', async () => {
    const workflowBundle = await sharedWorkflowBundle();
    const histories = files.map((file) => ({ workflowId: file, history: historyFromJSON(JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8'))) }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle, sinks: createWorkerMetrics().sinks }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.deepEqual(failures, []);
  });
});
