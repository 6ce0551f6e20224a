/**
 * The stack's helper services beside the core ones, both built from pinned Go sources
 * (go-tools.ts) and run privately on loopback with pid files and logs under the stack's data folder:
 * - Jaeger v2 (all-in-one, in-memory), the local trace viewer, in both modes. Optional: when it
 *   cannot be built or started the stack says that traces are off and carries on.
 * - stripe-mock, the Stripe API stand-in of the Stripe gateway's tests, under `--for-tests` only.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { log, pidAlive, portOpen, processCommand, readPid, StackError, startDaemon, stopDaemon, waitFor } from './proc';
import { jaegerBinary, stripeMockBinary } from './go-tools';
import { dataDir, type ServiceStatus } from './services';

type Env = NodeJS.ProcessEnv;

function portFromEnv(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new StackError(`${name} must be a port number (1-65535), got "${raw}"`);
  return port;
}

/** Ports of the helper services (all on 127.0.0.1), each overridable to run a second stack beside the first. */
export function extraPorts(env: Env = process.env): {
  jaegerUi: number;
  jaegerQueryGrpc: number;
  otlpGrpc: number;
  otlpHttp: number;
  stripeMock: number;
  stripeMockHttps: number;
} {
  return {
    jaegerUi: portFromEnv(env, 'JAEGER_UI_PORT', 16686),
    jaegerQueryGrpc: portFromEnv(env, 'JAEGER_QUERY_GRPC_PORT', 16685),
    otlpGrpc: portFromEnv(env, 'JAEGER_OTLP_GRPC_PORT', 4317),
    otlpHttp: portFromEnv(env, 'JAEGER_OTLP_HTTP_PORT', 4318),
    stripeMock: portFromEnv(env, 'STRIPE_MOCK_PORT', 12111),
    stripeMockHttps: portFromEnv(env, 'STRIPE_MOCK_HTTPS_PORT', 12112),
  };
}

/** Where consumers find the services (the variables of the team's contract, defaulting to this stack). */
export const jaegerUiUrl = (env: Env = process.env): string => env.JAEGER_UI_URL?.trim() || `http://127.0.0.1:${extraPorts(env).jaegerUi}`;
export const otlpEndpoint = (env: Env = process.env): string =>
  env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || `http://127.0.0.1:${extraPorts(env).otlpHttp}`;
export const stripeMockUrl = (env: Env = process.env): string => env.STRIPE_MOCK_URL?.trim() || `http://127.0.0.1:${extraPorts(env).stripeMock}`;

/** STACK_JAEGER=0 skips the local Jaeger altogether: no build, no start (traces are off). */
export const jaegerSkipped = (env: Env = process.env): boolean => env.STACK_JAEGER?.trim() === '0';

/**
 * Whether traces go to this stack's Jaeger: OTEL_EXPORTER_OTLP_ENDPOINT unset (like DATABASE_URL:
 * unset means the local default), or pointing at the local Jaeger's OTLP port. docker-compose.yml
 * sets it to its own Jaeger, so the setup job there starts none.
 */
export function localJaegerWanted(env: Env = process.env): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!endpoint) return true;
  try {
    const url = new URL(endpoint);
    return ['127.0.0.1', 'localhost'].includes(url.hostname) && Number(url.port) === extraPorts(env).otlpHttp;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- Jaeger

const jaegerDir = path.join(dataDir, 'jaeger');
const jaegerConfigFile = path.join(jaegerDir, 'config.yaml');
const jaegerPidFile = path.join(dataDir, 'run', 'jaeger.pid');
const jaegerLogFile = path.join(dataDir, 'logs', 'jaeger.log');
/** In our Jaeger's command line whatever binary runs it: tells it from an unrelated process with a reused pid. */
const jaegerCommandMarker = path.join('jaeger', 'config.yaml');

/**
 * Jaeger v2's all-in-one configuration (cmd/jaeger/internal/all-in-one.yaml of v1.76.0) cut down
 * to what the stack needs: OTLP in, in-memory storage, the query API and UI, all on loopback. The
 * other receivers (Jaeger, Zipkin), remote sampling, health/expvar/zpages endpoints and the
 * collector's own Prometheus metrics on 8888 are left out: fewer ports to collide with.
 */
export function jaegerConfig(ports = extraPorts()): string {
  return `# Written by scripts/stack/extras.ts at every \`npm run stack -- up\`: edits here are overwritten.
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn

extensions:
  jaeger_query:
    storage:
      traces: memstore
    # Jaeger would otherwise trace its own queries, into itself: noise among the project's services.
    enable_tracing: false
    http:
      endpoint: 127.0.0.1:${ports.jaegerUi}
    grpc:
      endpoint: 127.0.0.1:${ports.jaegerQueryGrpc}
  jaeger_storage:
    backends:
      memstore:
        memory:
          # The newest traces only: a load test must not grow the viewer without bound.
          max_traces: 20000

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${ports.otlpGrpc}
      http:
        endpoint: 127.0.0.1:${ports.otlpHttp}

processors:
  batch:

exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}

function ourJaegerPid(): number | undefined {
  const pid = readPid(jaegerPidFile);
  return pid !== undefined && pidAlive(pid) && processCommand(pid).includes(jaegerCommandMarker) ? pid : undefined;
}

async function jaegerAnswers(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/api/services`, { signal: AbortSignal.timeout(1000) });
  return response.ok;
}

/** Says why traces are off; Jaeger is never a reason for `up` to fail. */
function tracesOff(why: string): void {
  log(`traces are off: ${why}`);
}

/** Starts the local Jaeger unless it is running, not wanted, or unavailable (then says so). */
export async function jaegerUp(): Promise<void> {
  if (!localJaegerWanted()) return;
  if (jaegerSkipped()) {
    tracesOff('STACK_JAEGER=0');
    return;
  }
  const ports = extraPorts();
  if (ourJaegerPid() !== undefined) {
    log(`Jaeger already running (UI ${jaegerUiUrl()})`);
    return;
  }
  for (const port of [ports.jaegerUi, ports.jaegerQueryGrpc, ports.otlpGrpc, ports.otlpHttp]) {
    if (await portOpen(port)) {
      tracesOff(`port ${port} is taken by a process this stack did not start (stop it, or move Jaeger with JAEGER_UI_PORT, JAEGER_QUERY_GRPC_PORT, JAEGER_OTLP_GRPC_PORT, JAEGER_OTLP_HTTP_PORT)`);
      return;
    }
  }
  const bin = jaegerBinary();
  if (!bin) {
    tracesOff('Jaeger is unavailable (see above)');
    return;
  }
  mkdirSync(jaegerDir, { recursive: true });
  writeFileSync(jaegerConfigFile, jaegerConfig(ports));
  log(`starting Jaeger (in-memory) with its UI on ${jaegerUiUrl()} and OTLP on 127.0.0.1:${ports.otlpGrpc} (gRPC), :${ports.otlpHttp} (HTTP)`);
  const pid = startDaemon({ cmd: bin, args: ['--config', jaegerConfigFile], logFile: jaegerLogFile, pidFile: jaegerPidFile });
  try {
    await waitFor('Jaeger', () => jaegerAnswers(ports.jaegerUi), { timeoutMs: 60_000, logFile: jaegerLogFile, alive: () => pidAlive(pid) });
  } catch (err) {
    await jaegerDown();
    tracesOff(err instanceof Error ? err.message : String(err));
  }
}

export async function jaegerDown(): Promise<void> {
  if ((await stopDaemon(jaegerPidFile, jaegerCommandMarker)) === 'stopped') log('stopped Jaeger');
}

export function jaegerStatus(): ServiceStatus {
  if (!localJaegerWanted()) return { name: 'jaeger', state: 'external', detail: `traces to ${otlpEndpoint()}` };
  const ports = extraPorts();
  return ourJaegerPid() !== undefined
    ? { name: 'jaeger', state: 'running', detail: `UI ${jaegerUiUrl()}, OTLP 127.0.0.1:${ports.otlpGrpc} (gRPC) / ${otlpEndpoint()} (HTTP), in-memory` }
    : { name: 'jaeger', state: 'stopped', detail: jaegerSkipped() ? 'traces are off (STACK_JAEGER=0)' : 'traces are off' };
}

// ---------------------------------------------------------------- stripe-mock

const stripeMockPidFile = path.join(dataDir, 'run', 'stripe-mock.pid');
const stripeMockLogFile = path.join(dataDir, 'logs', 'stripe-mock.log');
/** In its command line whatever binary runs it (STRIPE_MOCK_PATH may name any file). */
const stripeMockCommandMarker = '-https-addr 127.0.0.1:';
/** stripe-mock accepts any key of this shape; the one its documentation uses. */
export const stripeMockTestKey = 'sk_test_123';

function ourStripeMockPid(): number | undefined {
  const pid = readPid(stripeMockPidFile);
  return pid !== undefined && pidAlive(pid) && processCommand(pid).includes(stripeMockCommandMarker) ? pid : undefined;
}

async function stripeMockAnswers(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/charges`, {
    headers: { Authorization: `Bearer ${stripeMockTestKey}` },
    signal: AbortSignal.timeout(1000),
  });
  return response.ok;
}

/** Starts stripe-mock unless it is running; says so and carries on when it cannot be built. */
export async function stripeMockUp(): Promise<void> {
  const ports = extraPorts();
  if (ourStripeMockPid() !== undefined) {
    log(`stripe-mock already running on ${stripeMockUrl()}`);
    return;
  }
  for (const port of [ports.stripeMock, ports.stripeMockHttps]) {
    if (await portOpen(port)) {
      throw new StackError(`port ${port} is taken by a process this stack did not start.`, 'stop that process, or set STRIPE_MOCK_PORT / STRIPE_MOCK_HTTPS_PORT');
    }
  }
  const bin = stripeMockBinary();
  if (!bin) {
    log('stripe-mock is unavailable (see above): the Stripe gateway tests will fail');
    return;
  }
  log(`starting stripe-mock on http://127.0.0.1:${ports.stripeMock} (https ${ports.stripeMockHttps})`);
  // The -*-addr forms of -http-port / -https-port: they bind loopback instead of every interface.
  const pid = startDaemon({
    cmd: bin,
    args: ['-http-addr', `127.0.0.1:${ports.stripeMock}`, '-https-addr', `127.0.0.1:${ports.stripeMockHttps}`],
    logFile: stripeMockLogFile,
    pidFile: stripeMockPidFile,
  });
  await waitFor('stripe-mock', () => stripeMockAnswers(ports.stripeMock), {
    timeoutMs: 60_000,
    logFile: stripeMockLogFile,
    alive: () => pidAlive(pid),
  }).catch(async (err: unknown) => {
    await stripeMockDown();
    throw err;
  });
}

export async function stripeMockDown(): Promise<void> {
  if ((await stopDaemon(stripeMockPidFile, stripeMockCommandMarker)) === 'stopped') log('stopped stripe-mock');
}

export function stripeMockStatus(): ServiceStatus {
  const ports = extraPorts();
  return ourStripeMockPid() !== undefined
    ? { name: 'stripe-mock', state: 'running', detail: `http://127.0.0.1:${ports.stripeMock} (https ${ports.stripeMockHttps}, log ${stripeMockLogFile})` }
    : { name: 'stripe-mock', state: 'stopped', detail: '' };
}

export function extrasRunning(): { jaeger: boolean; 'stripe-mock': boolean } {
  return { jaeger: ourJaegerPid() !== undefined, 'stripe-mock': ourStripeMockPid() !== undefined };
}

/** Where to look at traces, for the "is up" banner of `npm start`. */
export function jaegerUiSummary(): string {
  const status = jaegerStatus();
  if (status.state === 'external') return `(traces to ${otlpEndpoint()}: see that collector's UI)`;
  return status.state === 'running' ? jaegerUiUrl() : 'off (Jaeger unavailable: see the [stack] lines above)';
}
