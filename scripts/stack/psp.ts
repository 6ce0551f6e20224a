/**
 * The PSP simulator as a service of the local stack: started as a daemon (pid file and log under the
 * stack's data folder, like Redis and Temporal), checked through its /healthz, stopped only when
 * this stack started it. Its webhook target follows the API's PORT, its secret WEBHOOK_SECRET.
 */
import path from 'node:path';
import { type AppConfig, localPorts, projectRoot } from '../../lib/config';
import { defaultPspDataDir } from '../../simulators/psp/config';
import { log, pidAlive, portOpen, processCommand, readPid, StackError, startDaemon, stopDaemon, waitFor } from './proc';
import { dataDir, type ServiceStatus } from './services';

const pspPidFile = path.join(dataDir, 'run', 'psp.pid');
const pspLogFile = path.join(dataDir, 'logs', 'psp.log');
const pspEntry = path.join(projectRoot, 'simulators', 'psp', 'main.ts');
/** What the simulator's command line contains: tells our process from an unrelated one with a reused pid. */
const pspCommandMarker = path.join('simulators', 'psp', 'main.ts');

function pspPort(): number {
  const raw = process.env.PSP_PORT;
  const port = raw ? Number(raw) : localPorts.psp;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new StackError(`PSP_PORT must be a port number, got "${raw}"`);
  return port;
}

function ourPspPid(): number | undefined {
  const pid = readPid(pspPidFile);
  return pid !== undefined && pidAlive(pid) && processCommand(pid).includes(pspCommandMarker) ? pid : undefined;
}

async function pspHealthy(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
  return response.ok;
}

/** Starts the simulator unless it is already running (idempotent). */
export async function pspUp(config: AppConfig): Promise<void> {
  const port = pspPort();
  if (ourPspPid() !== undefined) {
    log(`PSP simulator already running on 127.0.0.1:${port}`);
    return;
  }
  if (await portOpen(port)) {
    throw new StackError(`port ${port} is taken by a process this stack did not start.`, 'stop that process, or set PSP_PORT');
  }
  const webhookUrl = process.env.PSP_WEBHOOK_URL ?? `http://127.0.0.1:${config.port}/v1/webhooks/payments`;
  log(`starting the PSP simulator on 127.0.0.1:${port} (webhooks to ${webhookUrl})`);
  const pid = startDaemon({
    cmd: process.execPath,
    args: ['--require', 'tsx/cjs', pspEntry],
    cwd: projectRoot,
    logFile: pspLogFile,
    pidFile: pspPidFile,
    env: {
      ...process.env,
      PSP_PORT: String(port),
      PSP_WEBHOOK_URL: webhookUrl,
      PSP_DATA_DIR: defaultPspDataDir(),
      WEBHOOK_SECRET: config.webhookSecret,
      PORT: String(config.port),
    },
  });
  await waitFor('PSP simulator', () => pspHealthy(port), { timeoutMs: 30_000, logFile: pspLogFile, alive: () => pidAlive(pid) });
}

/** Stops the simulator if this stack started it. */
export async function pspDown(): Promise<void> {
  if ((await stopDaemon(pspPidFile, pspCommandMarker)) === 'stopped') log('stopped the PSP simulator');
}

export function pspStatus(): ServiceStatus {
  const port = pspPort();
  return ourPspPid() !== undefined
    ? { name: 'psp', state: 'running', detail: `http://127.0.0.1:${port} (data ${defaultPspDataDir()}, log ${pspLogFile})` }
    : { name: 'psp', state: 'stopped', detail: '' };
}
