/**
 * The first vertical thread: a trivial workflow proving the chain client -> Temporal -> worker ->
 * activity -> Postgres and Redis. With a delay it also proves durable timers (the time-skipping
 * test waits 7 days in seconds).
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { PingActivities } from '../activities/ping';

const { recordPing } = proxyActivities<PingActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds' },
});

export interface PingInput {
  pingId: string;
  message: string;
  /** Wait this long before recording the ping (a durable timer). */
  delay?: Duration;
}

export interface PingResult {
  pingId: string;
  /** How many times Redis has seen this ping id (1 unless the activity was retried). */
  redisCount: number;
  storedAt: string;
}

export async function pingWorkflow(input: PingInput): Promise<PingResult> {
  if (input.delay !== undefined) await sleep(input.delay);
  return recordPing(input.pingId, input.message);
}
