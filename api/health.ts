/**
 * Liveness and readiness. /healthz says the process is up; /readyz checks every dependency with a
 * short timeout each and names what is down, so an orchestrator (or a person) sees why at once.
 */
import { Router } from 'express';
import type { Connection } from '@temporalio/client';

export type Probe = () => Promise<unknown>;
export type Probes = Record<string, Probe>;

const probeTimeoutMs = 2000;

async function runProbe(probe: Probe): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${probeTimeoutMs} ms`)), probeTimeoutMs);
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'ok';
  } catch (err) {
    return `down: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A Temporal probe bounded by a gRPC deadline: without one, the client keeps retrying an
 * unreachable server in the background long after the probe has reported it down.
 */
export function temporalProbe(connection: Connection): Probe {
  return () => connection.withDeadline(Date.now() + probeTimeoutMs - 200, () => connection.workflowService.getSystemInfo({}));
}

export function healthRouter(probes: Probes): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const names = Object.keys(probes);
    const results = await Promise.all(names.map((name) => runProbe(probes[name]!)));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const down = names.filter((_, i) => results[i] !== 'ok');
    if (down.length === 0) {
      res.json({ status: 'ready', checks });
    } else {
      res.status(503).json({ status: 'unavailable', down, checks });
    }
  });
  return router;
}
