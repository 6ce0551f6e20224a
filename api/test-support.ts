/**
 * Test harness for the HTTP API: the app in-process on a random port, wired to real services on the
 * test database and a real Temporal client; an HTTP helper that signs tokens; and a check that every
 * response a test sees conforms to the OpenAPI document (documented status, documented schema).
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { Client } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { migrate } from '../db/migrate';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createWorkerMetrics } from '../workers/metrics';
import { createServices, type Services } from '../services';
import { createSimulatorGateway } from '../services/payments';
import { createPspServer, type PspServerOptions } from '../simulators/psp/server';
import { devServerClient, sharedWorkflowBundle, uniqueTaskQueue } from '../test/support/temporal';
import { wireServices } from './wiring';
import { createApp } from './app';
import { createLogger } from './observability';
import { signToken, type Role } from './auth';
import type { ApiConfig, AppDeps } from './deps';
import type { AnyRoute } from './route';
import { testConfig, testPool, testRedis } from '../test/support/env';

export interface HttpResult {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (no JSON encoding); overrides `body`. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  /** Skip the OpenAPI conformance check (e.g. a response that must be checked some other way). */
  unchecked?: boolean;
}

export interface Harness {
  url: string;
  app: Express;
  routes: AnyRoute[];
  request(method: string, path: string, options?: RequestOptions): Promise<HttpResult>;
  token(role: Role, sub: string, sellerId?: string): string;
  close(): Promise<void>;
}

/** `/v1/orders/{orderId}` -> a regex matching concrete paths. */
function templateRegex(template: string): RegExp {
  const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${template.split(/\{[A-Za-z0-9_]+\}/).map(literal).join('[^/]+')}$`);
}

/** The declared route that serves `method path`, if any. */
export function routeFor(routes: readonly AnyRoute[], method: string, path: string): AnyRoute | undefined {
  const bare = path.split('?')[0] ?? path;
  return routes.find((r) => r.method === method.toLowerCase() && templateRegex(r.path).test(bare));
}

/** Operations whose responses were checked, with the statuses seen (for coverage reports). */
export const conformanceLog = new Map<string, Set<number>>();

/** Asserts that a response of a declared route has a documented status and matches its schema. */
export function assertConforms(routes: readonly AnyRoute[], method: string, path: string, result: HttpResult): void {
  const spec = routeFor(routes, method, path);
  if (!spec) return; // plain routes (health, metrics, openapi) and unknown paths are checked elsewhere
  const documented = spec.responses[result.status];
  const where = `${method.toUpperCase()} ${spec.path} -> ${result.status}`;
  const seen = conformanceLog.get(spec.operationId) ?? new Set<number>();
  seen.add(result.status);
  conformanceLog.set(spec.operationId, seen);
  assert.ok(result.status !== 500, `${where}: a 500 (${result.text.slice(0, 300)})`);
  assert.ok(result.headers.get('x-request-id'), `${where}: no X-Request-Id`);
  if (!documented) {
    // Undocumented statuses fall under the document's `default` response: the error shape.
    assert.ok(result.status >= 400, `${where}: success status not documented`);
  }
  if (result.status >= 400) {
    const body = result.body as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    assert.equal(typeof body.error?.code, 'string', `${where}: not the error shape: ${result.text.slice(0, 300)}`);
    assert.equal(typeof body.error?.message, 'string', `${where}: error without message`);
    assert.equal(typeof body.error?.details, 'object', `${where}: error without details`);
  }
  for (const header of Object.keys(documented?.headers ?? {})) assert.ok(result.headers.get(header), `${where}: documented header ${header} missing`);
  const schema = documented?.schema;
  if (schema) {
    const parsed = schema.safeParse(result.body);
    assert.ok(parsed.success, `${where}: response does not match the documented schema: ${parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 5))}\n${result.text.slice(0, 500)}`);
  }
}

export async function startHarness(deps: AppDeps, options: { port?: number } = {}): Promise<Harness> {
  const jwtSecret = deps.config?.jwtSecret ?? testConfig.jwtSecret;
  // Unexpected errors (500s) are logged, so a failing test shows their cause; TEST_LOG_LEVEL=info shows every request.
  const logger = deps.logger ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'error' });
  // A task queue no worker polls unless the caller names one: a saga started by a test without a
  // worker must never be picked up by a worker of another run.
  const app = createApp({ ...deps, logger, config: { jwtSecret, taskQueue: uniqueTaskQueue(), ...deps.config } });
  const server: Server = app.listen(options.port ?? 0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const routes = app.locals.routes as AnyRoute[];

  async function request(method: string, path: string, options: RequestOptions = {}): Promise<HttpResult> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    let body: string | Buffer | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['Content-Type'] ??= 'application/json';
    }
    const res = await fetch(`${url}${path}`, { method: method.toUpperCase(), headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      /* not JSON: kept as text */
    }
    const result = { status: res.status, headers: res.headers, body: parsed, text };
    if (!options.unchecked) assertConforms(routes, method, path, result);
    return result;
  }

  return {
    url,
    app,
    routes,
    request,
    token: (role, sub, sellerId) => signToken({ sub, role, ...(sellerId ? { sellerId } : {}) }, jwtSecret, '1h'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ------------------------------------------------------------------ the whole stack

/** A free TCP port on the loopback interface (the API's, known before the PSP that calls it back). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export interface Stack {
  harness: Harness;
  services: Services;
  client: Client;
  taskQueue: string;
  close(): Promise<void>;
}

/**
 * Parcel escrow workflows wait days for their deadlines; a test's stack ends long before. They are
 * terminated with the stack (best effort: visibility is eventually consistent), so test runs do not
 * pile up sleeping workflows on the shared dev server.
 */
async function terminateLeftovers(client: Client, taskQueue: string): Promise<void> {
  let count = 0;
  try {
    for await (const execution of client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` })) {
      await client.workflow.getHandle(execution.workflowId, execution.runId).terminate('test stack closed').catch(() => undefined);
      if (++count >= 500) break;
    }
  } catch {
    /* best effort */
  }
}

export interface StackOptions {
  config?: Partial<ApiConfig>;
  psp?: Partial<PspServerOptions>;
  logger?: Logger;
}

/**
 * The API in-process with everything real behind it: the services on the test database and Redis,
 * the PSP simulator (its webhooks come back to this API), the Temporal dev server, and a worker
 * running the real workflows and activities on a task queue of its own.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const apiPort = await freePort();
  const pspDir = mkdtempSync(path.join(tmpdir(), 'psp-'));
  const psp = createPspServer({
    dataDir: pspDir,
    webhookUrl: `http://127.0.0.1:${apiPort}/v1/webhooks/payments`,
    webhookSecret: testConfig.webhookSecret,
    asyncDelayMs: 300,
    timeoutDelayMs: 1500,
    webhookRetryBaseMs: 100,
    webhookRetryMaxMs: 1000,
    log: () => undefined,
    ...options.psp,
  });
  const pspPort = await psp.listen(0);
  const gateway = createSimulatorGateway({ baseUrl: `http://127.0.0.1:${pspPort}`, webhookSecret: testConfig.webhookSecret, timeoutMs: 1000 });
  const pool = testPool();
  const redis = testRedis();
  const services = createServices({ pool, redis, gateway });
  const taskQueue = uniqueTaskQueue();
  const workerMetrics = createWorkerMetrics();
  const connection = await NativeConnection.connect({ address: testConfig.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: testConfig.temporalNamespace,
    taskQueue,
    workflowBundle: await sharedWorkflowBundle(),
    activities: createActivities({ pool, redis, services, metrics: workerMetrics.checkout }),
    sinks: workerMetrics.sinks,
  });
  const running = worker.run();
  const { client, close: closeClient } = await devServerClient();
  const harness = await startHarness(
    {
      probes: {},
      config: { taskQueue, checkoutWaitMs: 10_000, queryTimeoutMs: 5000, checkoutRateLimit: { limit: 1000, windowMs: 60_000 }, ...options.config },
      ...wireServices({ pool, redis, temporal: client, gateway, services }),
      ...(options.logger ? { logger: options.logger } : {}),
    },
    { port: apiPort },
  );
  return {
    harness,
    services,
    client,
    taskQueue,
    async close() {
      await harness.close();
      await psp.close();
      worker.shutdown();
      await running;
      await terminateLeftovers(client, taskQueue);
      await closeClient();
      await connection.close();
      rmSync(pspDir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------ the brief's scenario, with unique ids

export interface Scenario {
  sellers: { x: string; y: string; z: string };
  skus: { a: string; b: string; c: string };
  vouchers: { platform10: string; x2off: string; freeship: string };
}

const unique = (prefix: string): string => `${prefix}_${Math.random().toString(36).slice(2, 10)}`;

/**
 * The pricing-spec.md §5 scenario through the admin API, under fresh ids (tests share one database):
 * sellers X, Y, Z (shipping 300, 300, 500), items $10 electronics (X), $20 clothing (Y), $50 books
 * (Z), vouchers 10 % off (platform), $2 off electronics (X), free shipping; tax 10 %, commission 5 %.
 * With everything in the cart the grand total is 7722.
 */
export async function createScenario(harness: Harness, options: { stock?: number; voucherLimits?: { totalLimit?: number; perUserLimit?: number } } = {}): Promise<Scenario> {
  const admin = harness.token('admin', 'test-admin');
  const put = async (path: string, body: unknown): Promise<void> => {
    const res = await harness.request('PUT', path, { token: admin, body });
    assert.equal(res.status, 200, `PUT ${path}: ${res.text}`);
  };
  const sellers = { x: unique('seller_x'), y: unique('seller_y'), z: unique('seller_z') };
  const skus = { a: unique('sku_a'), b: unique('sku_b'), c: unique('sku_c') };
  const vouchers = { platform10: unique('P10'), x2off: unique('X2OFF'), freeship: unique('FREESHIP') };
  await put(`/v1/admin/sellers/${sellers.x}`, { name: 'Seller X', shippingFee: 300 });
  await put(`/v1/admin/sellers/${sellers.y}`, { name: 'Seller Y', shippingFee: 300 });
  await put(`/v1/admin/sellers/${sellers.z}`, { name: 'Seller Z', shippingFee: 500 });
  const stock = options.stock ?? 10;
  await put(`/v1/admin/products/${skus.a}`, { sellerId: sellers.x, name: 'Earbuds', category: 'electronics', unitPrice: 1000, currency: 'USD', stock });
  await put(`/v1/admin/products/${skus.b}`, { sellerId: sellers.y, name: 'T-shirt', category: 'clothing', unitPrice: 2000, currency: 'USD', stock });
  await put(`/v1/admin/products/${skus.c}`, { sellerId: sellers.z, name: 'Novel', category: 'books', unitPrice: 5000, currency: 'USD', stock });
  const limits = options.voucherLimits ?? {};
  await put(`/v1/admin/vouchers/${vouchers.platform10}`, { scope: 'platform', type: 'percent', rateBps: 1000, maxDiscount: 15000, ...limits });
  await put(`/v1/admin/vouchers/${vouchers.x2off}`, { scope: 'seller', sellerId: sellers.x, category: 'electronics', type: 'fixed', amount: 200, ...limits });
  await put(`/v1/admin/vouchers/${vouchers.freeship}`, { scope: 'shipping', type: 'free_shipping', maxDiscount: null, ...limits });
  await put('/v1/admin/pricing-config', { defaultTaxRateBps: 1000, taxRatesBps: {}, defaultCommissionBps: 500, commissionRatesBps: {} });
  return { sellers, skus, vouchers };
}

/** Fills a buyer's cart over HTTP. */
export async function fillCart(harness: Harness, token: string, items: { sku: string; quantity: number }[], vouchers: string[] = []): Promise<void> {
  for (const item of items) {
    const res = await harness.request('POST', '/v1/cart/items', { token, body: item });
    assert.equal(res.status, 200, `add ${item.sku}: ${res.text}`);
  }
  for (const code of vouchers) {
    const res = await harness.request('POST', '/v1/cart/vouchers', { token, body: { code } });
    assert.equal(res.status, 200, `voucher ${code}: ${res.text}`);
  }
}

/** Polls `read` until `done` holds (bounded: 15 s). */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch((err: unknown) => {
      if (Date.now() > deadline) throw err;
      return undefined;
    });
    if (value !== undefined && done(value)) return value;
    if (Date.now() > deadline) {
      if (value === undefined) throw new Error('waitFor: never readable');
      return value;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// ------------------------------------------------------------------ a database of its own

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database on the test cluster, for tests whose writes would disturb the shared
 * test database (fixed ids of the demo seed; schemathesis writing random global pricing rules).
 */
export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
  const adminUrl = testConfig.databaseUrl;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const admin = new PgClient({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  await migrate(url.toString());
  return {
    url: url.toString(),
    async drop() {
      const closer = new PgClient({ connectionString: adminUrl });
      await closer.connect();
      try {
        await closer.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await closer.end();
      }
    },
  };
}
