/**
 * docker-compose.yml cannot run here (no Docker engine), so this test keeps it honest offline: it
 * parses the file and checks it against what the local stack actually runs — the same services,
 * configuration variables, dev secrets, Temporal version and ports, and commands that exist.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { devSecrets, loadConfig, projectRoot } from '../lib/config';
import { devServerDynamicConfig } from '../scripts/stack/services';
import { pinnedWheels } from '../scripts/stack/tools';

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  ports?: string[];
}

const compose = parse(readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
};
const packageJson = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const appServices = ['setup', 'worker', 'api'];

/** Resolves `${VAR:-default}` the way compose does when VAR is unset. */
const withDefaults = (value: string): string => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

describe('docker-compose.yml', () => {
  it('has the Temporal server and UI, Postgres, Redis, worker, API and the PSP simulator', () => {
    for (const name of ['temporal', 'temporal-ui', 'postgres', 'redis', 'worker', 'api', 'psp']) {
      assert.ok(compose.services[name], `service ${name} is missing`);
    }
  });

  it('runs the same Temporal CLI version the local stack installs, with the UI on 8233', () => {
    const version = pinnedWheels.temporalCli.split('==')[1];
    assert.equal(compose.services.temporal?.image, `temporalio/temporal:${version}`);
    assert.ok(compose.services['temporal-ui']?.ports?.includes('8233:8233'));
    assert.equal(compose.services['temporal-ui']?.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
  });

  it('runs the Temporal server with the dynamic config the local stack uses for checkout latency', () => {
    const command = compose.services.temporal?.command ?? [];
    const values = command.filter((_arg, i) => command[i - 1] === '--dynamic-config-value');
    // Refreshing the search-attribute cache on every read is a test convenience, not a deployment setting.
    for (const setting of devServerDynamicConfig.filter((s) => !s.startsWith('system.forceSearchAttributesCacheRefreshOnRead'))) {
      assert.ok(values.includes(setting), `docker-compose.yml's temporal lacks --dynamic-config-value ${setting}`);
    }
  });

  it('gives every app service the documented configuration variables, pointing at the containers', () => {
    for (const name of appServices) {
      const env = compose.services[name]?.environment ?? {};
      for (const variable of ['DATABASE_URL', 'REDIS_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'JWT_SECRET', 'WEBHOOK_SECRET']) {
        assert.ok(env[variable], `${name} lacks ${variable}`);
      }
      const config = loadConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, withDefaults(String(v))])));
      assert.deepEqual(config.local, { postgres: false, redis: false, temporal: false }, `${name} would start a local stack`);
      assert.equal(config.jwtSecret, devSecrets.jwtSecret);
      assert.equal(config.webhookSecret, devSecrets.webhookSecret);
      assert.equal(new URL(config.databaseUrl).hostname, 'postgres');
      assert.equal(new URL(config.redisUrl).hostname, 'redis');
      assert.equal(config.temporalAddress, 'temporal:7233');
    }
    assert.equal(compose.services.api?.environment?.PORT, '3000');
    assert.ok(compose.services.api?.ports?.includes('3000:3000'));
  });

  it('points the worker at the PSP simulator and the simulator at the API, with one webhook secret', () => {
    const psp = compose.services.psp!;
    assert.equal(compose.services.worker?.environment?.PSP_URL, `http://psp:${psp.environment?.PSP_PORT}`);
    assert.equal(psp.environment?.PSP_WEBHOOK_URL, `http://api:${compose.services.api?.environment?.PORT}/v1/webhooks/payments`);
    assert.equal(withDefaults(String(psp.environment?.WEBHOOK_SECRET)), devSecrets.webhookSecret);
  });

  it('runs npm scripts that exist, from an image the repository can build', () => {
    assert.ok(existsSync(path.join(projectRoot, 'Dockerfile')));
    for (const name of [...appServices, 'psp']) {
      const service = compose.services[name]!;
      assert.equal(service.build, '.');
      const [npm, run, script] = service.command ?? [];
      assert.equal(`${npm} ${run}`, 'npm run');
      assert.ok(script && packageJson.scripts[script], `${name} runs unknown script ${script}`);
    }
  });

  it('only depends on services and volumes it defines', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const dep of deps) assert.ok(compose.services[dep], `${name} depends on unknown service ${dep}`);
    }
    const volumes = Object.keys(compose.volumes ?? {});
    const text = readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8');
    for (const match of text.matchAll(/^\s+- ([a-z-]+):\//gm)) assert.ok(volumes.includes(match[1]!), `undeclared volume ${match[1]}`);
  });
});
