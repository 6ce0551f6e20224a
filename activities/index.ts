/**
 * All activities, built from their dependencies by one factory, so the worker wires real clients
 * and tests wire whatever they need — no module mocking.
 */
import { createPingActivities, type PingDeps } from './ping';

export type ActivityDeps = PingDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createPingActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
