/**
 * The local stack manager's programmatic face, used by `npm run stack`, `npm start` and the test
 * suite's global setup. `up` is idempotent: it installs what is missing, starts what is not running,
 * applies migrations, registers search attributes, and reports which services it started, so the
 * caller can later stop exactly those (and nothing someone else started).
 */
import { type AppConfig, loadConfig, loadTestConfig } from '../../lib/config';
import { migrate } from '../../db/migrate';
import { log } from './proc';
import * as services from './services';
import { pspDown, pspStatus, pspUp } from './psp';
import { chromiumPath, postgresBinDir, redisServerBin, temporalCli, temporalTestServer } from './tools';
import { jaegerBinary, stripeMockBinary, toxiproxyServerBinary } from './go-tools';
import { extrasRunning, jaegerDown, jaegerSkipped, jaegerStatus, jaegerUp, localJaegerWanted, stripeMockDown, stripeMockStatus, stripeMockUp } from './extras';

export { StackError } from './proc';
export { jaegerUiSummary } from './extras';

export type ServiceName = 'postgres' | 'redis' | 'temporal' | 'psp' | 'jaeger' | 'stripe-mock';

/** Services whose absence does not make the stack "down" (`stack status` exits 0 without them). */
export const optionalServices: ReadonlySet<string> = new Set(['psp', 'jaeger', 'stripe-mock']);

export interface UpOptions {
  config?: AppConfig;
  /**
   * Also prepare the test database, install the time-skipping test server, toxiproxy-server and
   * Chromium, and start stripe-mock. The PSP simulator is not started then: tests run their own,
   * in-process, with the settings each test needs.
   */
  forTests?: boolean;
}

/**
 * Installs every missing binary first, one at a time (apt and pip must not run concurrently). The
 * Go tools are built last: the first Jaeger build takes minutes, and it reports its own progress.
 * They are optional: one that cannot be had is reported and skipped, never a reason to fail.
 */
function installMissing(config: AppConfig, forTests: boolean): void {
  if (config.local.postgres) postgresBinDir();
  if (config.local.redis) redisServerBin();
  if (config.local.temporal) temporalCli();
  if (forTests) {
    temporalTestServer();
    chromiumPath();
    stripeMockBinary();
    toxiproxyServerBinary();
  }
  if (localJaegerWanted() && !jaegerSkipped()) jaegerBinary();
}

async function preparePostgres(config: AppConfig, forTests: boolean): Promise<void> {
  const urls = [config.databaseUrl];
  if (forTests) urls.push(loadTestConfig().databaseUrl);
  for (const url of new Set(urls)) {
    if (config.local.postgres) await services.ensureDatabase(url);
    const result = await migrate(url, (line) => log(line));
    if (result.applied.length > 0) log(`${result.applied.length} migration(s) applied to ${new URL(url).pathname.slice(1)}`);
  }
}

export async function stackUp(options: UpOptions = {}): Promise<{ started: ServiceName[] }> {
  const config = options.config ?? loadConfig();
  const forTests = options.forTests ?? false;
  const before = services.isRunningLocally(config);
  const pspWasRunning = pspStatus().state === 'running';
  const extrasBefore = extrasRunning();
  installMissing(config, forTests);
  // Start the services concurrently: Temporal's start-up dominates, the others hide behind it.
  await Promise.all([
    config.local.postgres ? services.postgresUp() : Promise.resolve(),
    config.local.redis ? services.redisUp() : Promise.resolve(),
    config.local.temporal ? services.temporalUp(config) : services.registerSearchAttributes(config),
    jaegerUp(),
    forTests ? stripeMockUp() : Promise.resolve(),
  ]);
  await preparePostgres(config, forTests);
  if (!forTests) await pspUp(config);
  const after = services.isRunningLocally(config);
  const started: ServiceName[] = (['postgres', 'redis', 'temporal'] as const).filter((s) => after[s] && !before[s]);
  if (!pspWasRunning && pspStatus().state === 'running') started.push('psp');
  const extrasAfter = extrasRunning();
  started.push(...(['jaeger', 'stripe-mock'] as const).filter((s) => extrasAfter[s] && !extrasBefore[s]));
  return { started };
}

/** Stops the named services (default: all) that this stack started. */
export async function stackDown(only?: readonly ServiceName[]): Promise<void> {
  const wanted = new Set<ServiceName>(only ?? ['postgres', 'redis', 'temporal', 'psp', 'jaeger', 'stripe-mock']);
  // The simulator first: it may still be delivering webhooks.
  if (wanted.has('psp')) await pspDown();
  await Promise.all([
    wanted.has('jaeger') ? jaegerDown() : Promise.resolve(),
    wanted.has('stripe-mock') ? stripeMockDown() : Promise.resolve(),
    wanted.has('temporal') ? services.temporalDown() : Promise.resolve(),
    wanted.has('redis') ? services.redisDown() : Promise.resolve(),
    wanted.has('postgres') ? services.postgresDown() : Promise.resolve(),
  ]);
}

export function stackStatus(config: AppConfig = loadConfig()): services.ServiceStatus[] {
  return [...services.statuses(config), pspStatus(), jaegerStatus(), stripeMockStatus()];
}
