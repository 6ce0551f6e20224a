/**
 * Liveness and readiness. /healthz says the process is up; /readyz checks every dependency with a
 * short timeout each and names what is down, so an orchestrator (or a person) sees why at once.
 * The body names the dependency and says `down: timeout` or `down: error`, never the raw error
 * (its message may hold hosts, ports, user names or a stack): the detail goes to the log.
 */
import { Router } from 'express';
import type { Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { contextOf } from './observability';

export type Probe = () => Promise<unknown>;
export type Probes = Record<string, Probe>;

const probeTimeoutMs = 2000;

class ProbeTimeout extends Error {}

/** What the body says about one probe: `ok`, `down: timeout` or `down: error`. */
export type ProbeResult = 'ok' | 'down: timeout' | 'down: error';

async function runProbe(name: string, probe: Probe, log: Logger | undefined): Promise<ProbeResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout(`no answer within ${probeTimeoutMs} ms`)), probeTimeoutMs);
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'ok';
  } catch (err) {
    log?.warn({ err, dependency: name }, `readiness: ${name} is down`);
    return err instanceof ProbeTimeout ? 'down: timeout' : 'down: error';
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

/** `logger`: where a failed probe's detail goes when the request has no logger of its own. */
export function healthRouter(probes: Probes, logger?: Logger): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const names = Object.keys(probes);
    const log = (contextOf(res) as ReturnType<typeof contextOf> | undefined)?.log ?? logger;
    const results = await Promise.all(names.map((name) => runProbe(name, probes[name]!, log)));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const down = names.filter((_, i) => results[i] !== 'ok');
    if (down.length === 0) {
      res.json({ status: 'ready', checks });
    } else {
      res.setHeader('Retry-After', '5');
      res.status(503).json({ status: 'unavailable', down, checks });
    }
  });
  return router;
}
