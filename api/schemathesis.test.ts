/**
 * Schemathesis (property-based testing from the OpenAPI document) against the running app: it
 * generates valid and invalid requests for every operation and checks that no response is a 5xx,
 * that every status code, content type, header and body is the documented one. Bounded to a small
 * number of examples per operation and a time budget, so it takes about a minute.
 *
 * The `st` CLI comes from the project venv (scripts/stack/tools.ts installs the pinned release when
 * it is missing). It runs with an admin token (admin may call everything, so every operation is
 * exercised past authentication), against a database and a Redis database of its own: the data it
 * generates (a campaign for every category, random pricing rates) would change the prices other
 * test files see in the shared test database.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { schemathesis } from '../scripts/stack/tools';
import { createSimulatorGateway } from '../services/payments';
import { devServerClient } from '../test/support/temporal';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { createPool } from '../db/pool';
import { createRedis } from '../lib/redis';
import { exclusiveRedisUrl, testConfig } from '../test/support/env';
import { createScratchDatabase, startHarness, type Harness, type ScratchDatabase } from './test-support';
import { wireServices } from './wiring';

const maxExamples = process.env.SCHEMATHESIS_MAX_EXAMPLES ?? '6';
const maxTimeSec = process.env.SCHEMATHESIS_MAX_TIME_S ?? '60';
const seed = process.env.SCHEMATHESIS_SEED ?? '20251126';

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('schemathesis against /v1/openapi.json @integration', () => {
  let harness: Harness;
  let closeTemporal: () => Promise<void>;
  let st: string;
  let reportDir: string;
  let database: ScratchDatabase;
  let pool: Pool;
  let redis: Redis;

  before(async function () {
    this.timeout(300_000); // a first run installs schemathesis from PyPI
    st = schemathesis()!;
    const { client, close } = await devServerClient();
    closeTemporal = close;
    database = await createScratchDatabase('checkout_st');
    pool = createPool(database.url, { max: 8 });
    redis = createRedis(exclusiveRedisUrl(12), 'schemathesis-test');
    await redis.flushdb();
    const gateway = createSimulatorGateway({ baseUrl: 'http://127.0.0.1:9', webhookSecret: testConfig.webhookSecret });
    harness = await startHarness({
      probes: {},
      // The checkout wait is shortened: schemathesis only needs the answer's shape.
      config: { checkoutWaitMs: 200, checkoutRateLimit: { limit: 1000, windowMs: 60_000 }, queryTimeoutMs: 300 },
      ...wireServices({ pool, redis, temporal: client, gateway }),
    });
    reportDir = mkdtempSync(path.join(tmpdir(), 'schemathesis-'));
  });
  after(async () => {
    await harness?.close();
    await closeTemporal?.();
    await pool?.end();
    redis?.disconnect();
    await database?.drop();
    if (reportDir) rmSync(reportDir, { recursive: true, force: true });
  });

  it('finds no 5xx and no response that violates the document', async function () {
    this.timeout(240_000);
    const junit = path.join(reportDir, 'junit.xml');
    const args = [
      'run',
      `${harness.url}/v1/openapi.json`,
      '--url',
      harness.url,
      '--checks',
      'not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance',
      '--header',
      `Authorization: Bearer ${harness.token('admin', 'schemathesis')}`,
      '--phases',
      'examples,coverage,fuzzing',
      '--max-examples',
      maxExamples,
      '--max-time',
      maxTimeSec,
      '--seed',
      seed,
      // One worker: with several, hypothesis' lambda descriptions race in CPython 3.11's ast module.
      '--workers',
      '1',
      '--request-timeout',
      '10',
      '--suppress-health-check',
      'all',
      '--report',
      'junit',
      '--report-junit-path',
      junit,
      '--no-color',
    ];
    const { code, output } = await run(st, args, reportDir, { ...process.env, SCHEMATHESIS_TELEMETRY: 'false', NO_COLOR: '1' }, 200_000);
    const summary = output.split('\n').slice(-40).join('\n');
    if (code !== 0) writeFileSync(path.join(tmpdir(), 'schemathesis-last-failure.log'), output);
    assert.equal(code, 0, `schemathesis failed (exit ${code}; full output in ${path.join(tmpdir(), 'schemathesis-last-failure.log')}):\n${output.slice(-12_000)}`);
    assert.match(readFileSync(junit, 'utf8'), /<testsuite/);
    console.log(`      schemathesis: ${summary.split('\n').filter((l) => /passed|failed|operations|test cases/i.test(l)).join(' | ')}`);
  });
});
