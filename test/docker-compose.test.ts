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
import { goTools, jaegerV2Release } from '../scripts/stack/go-tools';
import { extraPorts, localJaegerWanted } from '../scripts/stack/extras';

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
  it('has the Temporal server and UI, Postgres, Redis, worker, API, the PSP simulator and Jaeger', () => {
    for (const name of ['temporal', 'temporal-ui', 'postgres', 'redis', 'worker', 'api', 'psp', 'jaeger']) {
      assert.ok(compose.services[name], `service ${name} is missing`);
    }
  });

  it('runs the same Temporal CLI version the local stack installs, with the UI on 8233', () => {
    const version = pinnedWheels.temporalCli.split('==')[1];
    assert.equal(compose.services.temporal?.image, `temporalio/temporal:${version}`);
    assert.ok(compose.services['temporal-ui']?.ports?.includes('8233:8233'));
    assert.equal(compose.services['temporal-ui']?.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
  });

  it('runs the Jaeger v2 release the local stack builds, with its UI and OTLP ports published as locally', () => {
    assert.equal(goTools.jaeger.version, 'v1.76.0', 'bump jaegerV2Release with the Jaeger pin');
    assert.equal(compose.services.jaeger?.image, `jaegertracing/jaeger:${jaegerV2Release}`);
    const ports = extraPorts({});
    for (const port of [ports.jaegerUi, ports.otlpGrpc, ports.otlpHttp]) {
      assert.ok(compose.services.jaeger?.ports?.includes(`${port}:${port}`), `jaeger does not publish ${port}`);
    }
  });

  it('sends the traces of the API and the worker to the jaeger service over OTLP/HTTP, and starts no local Jaeger', () => {
    for (const name of ['api', 'worker']) {
      const endpoint = compose.services[name]?.environment?.OTEL_EXPORTER_OTLP_ENDPOINT;
      assert.equal(endpoint, 'http://jaeger:4318', `${name}'s OTEL_EXPORTER_OTLP_ENDPOINT`);
      assert.ok(compose.services.jaeger?.ports?.some((p) => p.endsWith(`:${new URL(endpoint).port}`)));
    }
    for (const name of appServices) {
      assert.equal(localJaegerWanted(compose.services[name]?.environment ?? {}), false, `${name} would start a local Jaeger`);
    }
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

  describe('profile scale', () => {
    const scale = Object.entries(compose.services).filter(([name]) => name.startsWith('scale-'));
    const env = (name: string): Record<string, string> => Object.fromEntries(Object.entries(compose.services[name]?.environment ?? {}).map(([k, v]) => [k, withDefaults(String(v))]));

    it('starts only with --profile scale; the default services stay profile-less', () => {
      assert.ok(scale.length >= 8);
      for (const [name, service] of scale) assert.deepEqual((service as { profiles?: string[] }).profiles, ['scale'], `${name} is not in the scale profile`);
      for (const [name, service] of Object.entries(compose.services)) {
        if (!name.startsWith('scale-')) assert.equal((service as { profiles?: string[] }).profiles, undefined, `${name} would no longer start with docker compose up`);
        for (const dep of Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {})) {
          assert.equal(name.startsWith('scale-'), dep.startsWith('scale-'), `${name} depends on ${dep} across profiles`);
        }
      }
    });

    it('runs a Temporal server with Postgres persistence (not the dev server), with the dev server\'s dynamic config', () => {
      const temporal = compose.services['scale-temporal']!;
      assert.match(temporal.image ?? '', /^temporalio\/auto-setup:\d+\.\d+\.\d+$/);
      assert.ok(!(temporal.command ?? []).includes('start-dev'));
      const e = env('scale-temporal');
      assert.equal(e.DB, 'postgres12');
      assert.equal(e.POSTGRES_SEEDS, 'scale-postgres');
      assert.ok(Number(e.NUM_HISTORY_SHARDS) >= 1);
      const mount = (temporal as { volumes?: string[] }).volumes?.find((v) => v.endsWith(`${e.DYNAMIC_CONFIG_FILE_PATH}:ro`));
      assert.ok(mount, 'the dynamic config file is mounted where DYNAMIC_CONFIG_FILE_PATH says');
      const file = path.join(projectRoot, mount.split(':')[0]!);
      const dynamic = parse(readFileSync(file, 'utf8')) as Record<string, { value: unknown }[]>;
      // Partitions differ on purpose (several workers); the cache refresh is a test convenience.
      for (const setting of devServerDynamicConfig.filter((s) => !/forceSearchAttributesCacheRefreshOnRead|numTaskqueue/.test(s))) {
        const [key, value] = setting.split('=') as [string, string];
        assert.equal(String(dynamic[key]?.[0]?.value), value, `${file} lacks ${setting}`);
      }
    });

    it('two workers and two API processes, every app process on the scale containers, the APIs sharing one Redis rate limit and admission bucket', () => {
      const workers = scale.filter(([name]) => /^scale-worker-\d+$/.test(name));
      const apis = scale.filter(([name]) => /^scale-api-\d+$/.test(name));
      assert.equal(workers.length, 2);
      assert.equal(apis.length, 2);
      for (const [name, service] of [...workers, ...apis, ['scale-setup', compose.services['scale-setup']!] as const]) {
        const config = loadConfig(env(name));
        assert.deepEqual(config.local, { postgres: false, redis: false, temporal: false }, `${name} would start a local stack`);
        assert.equal(new URL(config.databaseUrl).hostname, 'scale-postgres');
        assert.equal(new URL(config.redisUrl).hostname, 'scale-redis');
        assert.equal(config.temporalAddress, 'scale-temporal:7233');
        const [npm, run, script] = service.command ?? [];
        assert.ok(npm === 'npm' && run === 'run' && script && packageJson.scripts[script], `${name} runs unknown script ${script}`);
      }
      const [a, b] = apis.map(([name]) => env(name));
      for (const variable of ['REDIS_URL', 'CHECKOUT_RATE_LIMIT_PREFIX', 'CHECKOUT_ADMISSION_KEY', 'CHECKOUT_ADMISSION_RATE']) {
        assert.ok(a![variable], `scale APIs lack ${variable}`);
        assert.equal(a![variable], b![variable], `the two APIs differ in ${variable}`);
      }
      assert.ok(Number(a!.CHECKOUT_ADMISSION_RATE) > 0);
      const hostPorts = apis.flatMap(([, s]) => s.ports ?? []).map((p) => p.split(':')[0]);
      assert.equal(new Set(hostPorts).size, 2, 'each API on its own host port');
      const defaultPorts = Object.entries(compose.services).filter(([n]) => !n.startsWith('scale-')).flatMap(([, s]) => (s.ports ?? []).map((p) => p.split(':')[0]));
      for (const port of scale.flatMap(([, s]) => (s.ports ?? []).map((p) => p.split(':')[0]))) assert.ok(!defaultPorts.includes(port), `host port ${port} clashes with the default services`);
      assert.equal(env('scale-psp').PSP_WEBHOOK_URL, 'http://scale-api-1:3000/v1/webhooks/payments');
      assert.equal(env('scale-worker-1').PSP_URL, 'http://scale-psp:4242');
    });
  });
});
