import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../lib/config';
import { parse } from 'yaml';
import { extraPorts, jaegerConfig, localJaegerWanted, stripeMockTestKey } from './extras';
import { stackStatus } from './index';

describe('stack extras: configuration', () => {
  it('binds every Jaeger endpoint to loopback on the configured ports, storage in memory', () => {
    const ports = extraPorts({ JAEGER_UI_PORT: '17686', JAEGER_OTLP_HTTP_PORT: '14318' });
    const config = parse(jaegerConfig(ports)) as {
      extensions: { jaeger_query: { http: { endpoint: string }; grpc: { endpoint: string }; storage: { traces: string } }; jaeger_storage: { backends: Record<string, unknown> } };
      receivers: { otlp: { protocols: { grpc: { endpoint: string }; http: { endpoint: string } } } };
      service: { pipelines: { traces: { receivers: string[] } } };
    };
    assert.equal(config.extensions.jaeger_query.http.endpoint, '127.0.0.1:17686');
    assert.equal(config.extensions.jaeger_query.grpc.endpoint, '127.0.0.1:16685');
    assert.equal(config.receivers.otlp.protocols.grpc.endpoint, '127.0.0.1:4317');
    assert.equal(config.receivers.otlp.protocols.http.endpoint, '127.0.0.1:14318');
    assert.deepEqual(config.service.pipelines.traces.receivers, ['otlp']);
    const store = config.extensions.jaeger_query.storage.traces;
    assert.deepEqual(Object.keys(config.extensions.jaeger_storage.backends[store] as object), ['memory']);
  });

  it('refuses a port variable that is not a port', () => {
    assert.throws(() => extraPorts({ STRIPE_MOCK_PORT: 'http' }), /STRIPE_MOCK_PORT must be a port number/);
    assert.throws(() => extraPorts({ JAEGER_UI_PORT: '70000' }), /JAEGER_UI_PORT must be a port number/);
  });

  it('starts the local Jaeger only when traces are meant for it', () => {
    assert.equal(localJaegerWanted({}), true);
    assert.equal(localJaegerWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), true);
    assert.equal(localJaegerWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318/' }), true);
    assert.equal(localJaegerWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' }), false);
    assert.equal(localJaegerWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9999' }), false);
    assert.equal(localJaegerWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }), false);
  });
});

/** Runs jaegerUp() in a child with its own data folder and ports, so the shared stack's Jaeger is not involved. */
function jaegerUpIsolated(env: Record<string, string>): { status: number | null; output: string } {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'extras-'));
  try {
    const result = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', "require('./scripts/stack/extras').jaegerUp().then(() => console.log('UP RESOLVED'))"], {
      cwd: projectRoot,
      encoding: 'utf8',
      env: { ...process.env, STACK_DATA_DIR: dataDir, JAEGER_UI_PORT: '26686', JAEGER_QUERY_GRPC_PORT: '26685', JAEGER_OTLP_GRPC_PORT: '24317', JAEGER_OTLP_HTTP_PORT: '24318', ...env },
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('stack extras: Jaeger is optional', () => {
  it('says that traces are off and carries on when Jaeger cannot be had', function () {
    this.timeout(20_000);
    const { status, output } = jaegerUpIsolated({ JAEGER_PATH: '/nonexistent/jaeger' });
    assert.equal(status, 0, output);
    assert.match(output, /JAEGER_PATH points at \/nonexistent\/jaeger, which does not exist/);
    assert.match(output, /traces are off: Jaeger is unavailable/);
    assert.match(output, /UP RESOLVED/);
  });

  it('skips Jaeger altogether with STACK_JAEGER=0', function () {
    this.timeout(20_000);
    const { status, output } = jaegerUpIsolated({ STACK_JAEGER: '0', JAEGER_PATH: '/nonexistent/jaeger' });
    assert.equal(status, 0, output);
    assert.match(output, /traces are off: STACK_JAEGER=0/);
    assert.doesNotMatch(output, /JAEGER_PATH/);
  });
});

describe('stack extras @integration: Jaeger and stripe-mock under `up --for-tests`', () => {
  const ports = extraPorts();

  it('lists both as running in the stack status', () => {
    const byName = new Map(stackStatus().map((s) => [s.name, s]));
    assert.equal(byName.get('jaeger')?.state, 'running', JSON.stringify(byName.get('jaeger')));
    assert.match(byName.get('jaeger')!.detail, new RegExp(`UI http://127\\.0\\.0\\.1:${ports.jaegerUi}`));
    assert.equal(byName.get('stripe-mock')?.state, 'running', JSON.stringify(byName.get('stripe-mock')));
  });

  it('Jaeger takes a span over OTLP/HTTP and lists its service in the query API', async function () {
    this.timeout(20_000);
    const response = await fetch(`http://127.0.0.1:${ports.jaegerUi}/api/services`);
    assert.equal(response.status, 200);
    const empty = ((await response.json()) as { data: unknown }).data;
    assert.ok(empty === null || Array.isArray(empty), 'a list of services (null while none)');

    const service = `stack-test-${randomUUID().slice(0, 8)}`;
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const span = {
      traceId: randomUUID().replace(/-/g, ''),
      spanId: randomUUID().replace(/-/g, '').slice(0, 16),
      name: 'probe',
      kind: 1,
      startTimeUnixNano: String(nowNs - 1_000_000n),
      endTimeUnixNano: String(nowNs),
    };
    const sent = await fetch(`http://127.0.0.1:${ports.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ spans: [span] }] }],
      }),
    });
    assert.equal(sent.status, 200, await sent.text());
    // The batch processor hands spans to storage within ~200 ms.
    const deadline = Date.now() + 10_000;
    let services: string[] = [];
    while (Date.now() < deadline) {
      services = ((await (await fetch(`http://127.0.0.1:${ports.jaegerUi}/api/services`)).json()) as { data: string[] | null }).data ?? [];
      if (services.includes(service)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(services.includes(service), `service ${service} not listed: ${services.join(', ')}`);
  });

  it('stripe-mock answers an authenticated Stripe request, and refuses one without a key', async () => {
    const ok = await fetch(`http://127.0.0.1:${ports.stripeMock}/v1/charges`, { headers: { Authorization: `Bearer ${stripeMockTestKey}` } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { object: string }).object, 'list');
    const refused = await fetch(`http://127.0.0.1:${ports.stripeMock}/v1/charges`);
    assert.equal(refused.status, 401);
  });
});
