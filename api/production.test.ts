/**
 * Production start-up, with real processes: with NODE_ENV=production every entry point (API,
 * worker, PSP simulator, `npm start`) refuses a missing or documented dev JWT_SECRET /
 * WEBHOOK_SECRET with one line naming the variable and a non-zero exit, before it starts anything;
 * with secrets of its own the API starts, and METRICS_PORT moves /metrics off the API port.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { devSecrets, projectRoot } from '../lib/config';
import { testConfig } from '../test/support/env';
import { createApp } from './app';
import { apiConfigFromEnv } from './config';
import { freePort } from './test-support';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of this process without the variables under test. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['NODE_ENV', 'JWT_SECRET', 'WEBHOOK_SECRET', 'METRICS_PORT', 'PORT']) delete env[name];
  return env;
}

function start(entry: string, env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => Exit; exited: Promise<Exit> } {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', entry], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const output = (): Exit => ({ code: child.exitCode, stdout, stderr });
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, output, exited };
}

/** Runs an entry that must refuse: it has to exit on its own, quickly. */
async function refused(entry: string, env: NodeJS.ProcessEnv): Promise<Exit> {
  const run = start(entry, env);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 30_000);
  try {
    return await run.exited;
  } finally {
    clearTimeout(timer);
  }
}

const entries = ['api/main.ts', 'workers/main.ts', 'simulators/psp/main.ts', 'scripts/start.ts'];

describe('production start-up @integration', function () {
  this.timeout(90_000);

  it('every process refuses unset or dev secrets with one line naming them, and exits non-zero', async () => {
    // Each entry with both unset; the dev-value case (one shared check, lib/config.test.ts has every
    // combination) once, through the API.
    const cases = [
      ...entries.map((entry) => ({ entry, env: { ...baseEnv(), NODE_ENV: 'production' }, names: ['JWT_SECRET is unset', 'WEBHOOK_SECRET is unset'] })),
      {
        entry: 'api/main.ts',
        env: { ...baseEnv(), NODE_ENV: 'production', JWT_SECRET: devSecrets.jwtSecret, WEBHOOK_SECRET: 'whsec_prod_0123456789abcdef' },
        names: ['JWT_SECRET is the documented dev value'],
      },
    ];
    // Two at a time: the machine is shared.
    const results: Exit[] = [];
    for (let i = 0; i < cases.length; i += 2) results.push(...(await Promise.all(cases.slice(i, i + 2).map((c) => refused(c.entry, c.env)))));
    cases.forEach((c, i) => {
      const result = results[i]!;
      const where = `${c.entry} (${c.names.join(', ')}): ${JSON.stringify(result)}`;
      assert.equal(result.code, 78, where);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, where);
      for (const name of c.names) assert.ok(lines[0]!.includes(name), where);
      assert.match(lines[0]!, /refusing to start with NODE_ENV=production/);
      if (c.names.length === 1) assert.ok(!lines[0]!.includes('WEBHOOK_SECRET'), `only the bad variable is named: ${where}`);
      // Refused before anything started: no stack, no listening, nothing on stdout.
      assert.equal(result.stdout, '', where);
    });
  });

  it('with secrets of its own the API starts in production; METRICS_PORT serves /metrics apart and the API port does not', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const run = start('api/main.ts', {
      ...baseEnv(),
      NODE_ENV: 'production',
      JWT_SECRET: 'prod-jwt-secret-0123456789abcdef',
      WEBHOOK_SECRET: 'whsec_prod_0123456789abcdef',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      DATABASE_URL: testConfig.databaseUrl,
      REDIS_URL: testConfig.redisUrl,
      TEMPORAL_ADDRESS: testConfig.temporalAddress,
      LOG_LEVEL: 'warn',
    });
    try {
      const deadline = Date.now() + 60_000;
      let up = false;
      while (!up && Date.now() < deadline) {
        assert.equal(run.output().code, null, `the API exited: ${JSON.stringify(run.output())}`);
        up = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
          (res) => res.ok,
          () => false,
        );
        if (!up) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.ok(up, `metrics never came up: ${JSON.stringify(run.output())}`);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      const onApiPort = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(onApiPort.status, 404);
      assert.equal(((await onApiPort.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
      // The same registry the app counts in: the requests above are there.
      assert.match(await metrics.text(), /http_requests_total\{method="GET",route="\/healthz",status="200"\} 1/);
      assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status, 404, 'the metrics port serves /metrics only');
      const doc = (await (await fetch(`http://127.0.0.1:${port}/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
      assert.equal(doc.paths['/metrics'], undefined, 'the API port documents what it serves');
      run.child.kill('SIGTERM');
      assert.equal((await run.exited).code, 0);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  });

  it('without METRICS_PORT the app serves /metrics itself (as before)', async () => {
    const server = createApp({ probes: {}, config: {} }).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /http_requests_total|# HELP/);
    } finally {
      server.close();
    }
  });
});

describe('API configuration: METRICS_PORT and the rate-limit prefix', () => {
  it('METRICS_PORT is a port other than PORT; unset means /metrics on the API port', () => {
    assert.equal(apiConfigFromEnv({}).metricsPort, undefined);
    assert.equal(apiConfigFromEnv({ METRICS_PORT: ' ' }).metricsPort, undefined);
    assert.equal(apiConfigFromEnv({ METRICS_PORT: '9100' }).metricsPort, 9100);
    assert.throws(() => apiConfigFromEnv({ METRICS_PORT: 'abc' }), /METRICS_PORT/);
    assert.throws(() => apiConfigFromEnv({ METRICS_PORT: '3000' }), /METRICS_PORT must differ from PORT/);
    assert.throws(() => apiConfigFromEnv({ PORT: '8080', METRICS_PORT: '8080' }), /METRICS_PORT must differ from PORT/);
  });

  it('CHECKOUT_RATE_LIMIT_PREFIX names the Redis keys of the shared limit (default rl:checkout:)', () => {
    assert.equal(apiConfigFromEnv({}).checkoutRateLimit.prefix, 'rl:checkout:');
    assert.equal(apiConfigFromEnv({ CHECKOUT_RATE_LIMIT_PREFIX: 'rl:staging:' }).checkoutRateLimit.prefix, 'rl:staging:');
    assert.throws(() => apiConfigFromEnv({ CHECKOUT_RATE_LIMIT_PREFIX: 'has space' }), /CHECKOUT_RATE_LIMIT_PREFIX/);
  });
});
