/**
 * A checkout harness for integration tests of the saga: real Postgres and Redis (the test stack), a
 * real PSP simulator in-process, a real Temporal worker on a task queue of its own, and a webhook
 * endpoint doing what the API's does (verify, de-duplicate, signal the order's workflow). Each
 * harness seeds its own sellers, products and category, so tests never see each other's data.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { forwardPaymentEvent } from '../../api/routes/webhooks';
import { createServices, type Services } from '../../services';
import { createSimulatorGateway } from '../../services/payments';
import { createPspServer, type PspServer, type PspServerOptions } from '../../simulators/psp/server';
import { tempDataDir } from '../../simulators/psp/testing';
import { createWorkerMetrics, type WorkerMetrics } from '../../workers/metrics';
import { sagaStartOptions } from '../../api/checkout';
import type { orderWorkflow } from '../../workflows/checkout';
import { checkoutOutcomeUpdate, orderWorkflowType, type CheckoutInput, type CheckoutSettings, type CheckoutState } from '../../workflows/contract';
import { testConfig, testPool, testRedis, uniqueId } from './env';
import { sharedWorkflowBundle, uniqueTaskQueue } from './temporal';

export interface Scenario {
  category: string;
  sellers: { x: string; y: string; z: string };
  skus: { a: string; b: string; c: string };
  vouchers: { sellerX: string; platform: string; freeShipping: string };
}

export interface HarnessOptions {
  psp?: Partial<Omit<PspServerOptions, 'dataDir' | 'webhookUrl' | 'webhookSecret'>>;
  /** Deliver PSP webhooks to the workflow (default true). */
  deliverWebhooks?: boolean;
  holdTimeoutMs?: number;
  now?: () => Date;
  /**
   * Provide a Temporal connection (e.g. the time-skipping environment's) instead of the dev server;
   * `searchAttributes: false` for a server without custom search attributes.
   */
  temporal?: { client: Client; nativeConnection: NativeConnection; namespace?: string; searchAttributes?: boolean };
  workflowBundle?: WorkflowBundle;
  /** Run a worker in this process (default true); false when the test runs its own workers. */
  worker?: boolean;
}

export interface CheckoutHarness {
  services: Services;
  client: Client;
  taskQueue: string;
  psp: PspServer;
  metrics: WorkerMetrics;
  /** Seeds the product brief's scenario with unique ids: sellers X/Y/Z, one product each, three vouchers. */
  seedScenario(stock?: { a?: number; b?: number; c?: number }): Promise<Scenario>;
  startCheckout(input: Omit<CheckoutInput, 'orderId'> & { orderId?: string; settings?: Partial<CheckoutSettings> }): Promise<WorkflowHandleWithFirstExecutionRunId<typeof orderWorkflow>>;
  /** Starts a checkout and answers once it has settled (COMPLETED or FAILED), as the API does. */
  checkout(input: Omit<CheckoutInput, 'orderId'> & { orderId?: string; settings?: Partial<CheckoutSettings> }): Promise<CheckoutState>;
  /** The settled state of a started checkout (the workflow itself goes on with the parcels). */
  outcome(handle: Pick<WorkflowHandleWithFirstExecutionRunId<typeof orderWorkflow>, 'executeUpdate' | 'result'>): Promise<CheckoutState>;
  webhooksDelivered(): number;
  /** Runs one more worker on the harness's task queue (e.g. with another workflow bundle) until shut down. */
  startWorker(workflowBundle: WorkflowBundle, options?: { maxCachedWorkflows?: number }): Promise<{ shutdown: () => Promise<void> }>;
  close(): Promise<void>;
}

/** Webhook endpoint: the API's steps (verify and record through the payments service, then forward). */
async function startWebhookForwarder(services: () => Services, client: () => Client, enabled: () => boolean): Promise<{ url: string; server: Server; delivered: () => number }> {
  let delivered = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (!enabled()) {
        res.writeHead(503).end();
        return;
      }
      const raw = Buffer.concat(chunks);
      void (async () => {
        const { payments } = services();
        const outcome = await payments.handleWebhook(raw, req.headers[payments.signatureHeader] as string | undefined);
        // Like the API: every verified delivery the saga may wait for is forwarded; it ignores ids it has seen.
        if (outcome.event && outcome.forSaga) await forwardPaymentEvent(client(), outcome.event);
        delivered++;
        res.writeHead(200).end('{}');
      })().catch((err: unknown) => {
        res.writeHead(400).end(String((err as Error).message));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/webhooks/payments`, server, delivered: () => delivered };
}

export async function startCheckoutHarness(options: HarnessOptions = {}): Promise<CheckoutHarness> {
  // The forwarder is started first (the PSP needs its URL) and reaches services and client later.
  const late: { services?: Services; client?: Client } = {};
  const forwarder = await startWebhookForwarder(() => late.services!, () => late.client!, () => options.deliverWebhooks ?? true);
  const pspData = tempDataDir();
  const psp = createPspServer({
    dataDir: pspData.dir,
    webhookUrl: forwarder.url,
    webhookSecret: testConfig.webhookSecret,
    asyncDelayMs: 1000,
    timeoutDelayMs: 3000,
    webhookRetryBaseMs: 200,
    webhookRetryMaxMs: 1000,
    ...options.psp,
  });
  await psp.listen(0);
  const services = createServices({
    pool: testPool(),
    redis: testRedis(),
    gateway: createSimulatorGateway({ baseUrl: psp.url, timeoutMs: 1500, webhookSecret: testConfig.webhookSecret }),
    ...(options.now ? { now: options.now } : {}),
    ...(options.holdTimeoutMs ? { holdTimeoutMs: options.holdTimeoutMs } : {}),
  });

  late.services = services;
  let client: Client;
  let ownConnection: Connection | undefined;
  let nativeConnection: NativeConnection;
  let namespace = testConfig.temporalNamespace;
  if (options.temporal) {
    client = options.temporal.client;
    nativeConnection = options.temporal.nativeConnection;
    namespace = options.temporal.namespace ?? 'default';
  } else {
    ownConnection = await Connection.connect({ address: testConfig.temporalAddress });
    client = new Client({ connection: ownConnection, namespace });
    nativeConnection = await NativeConnection.connect({ address: testConfig.temporalAddress });
  }
  late.client = client;
  const taskQueue = uniqueTaskQueue();
  const metrics = createWorkerMetrics();
  const createWorker = async (workflowBundle: WorkflowBundle, extra: { maxCachedWorkflows?: number } = {}): Promise<Worker> =>
    Worker.create({
      ...extra,
      connection: nativeConnection,
      namespace,
      taskQueue,
      workflowBundle,
      activities: createActivities({ pool: testPool(), redis: testRedis(), services, metrics: metrics.checkout }),
      sinks: metrics.sinks,
    });
  const worker = options.worker === false ? undefined : await createWorker(options.workflowBundle ?? (await sharedWorkflowBundle()));
  const running = worker?.run();

  async function startWorker(workflowBundle: WorkflowBundle, workerOptions: { maxCachedWorkflows?: number } = {}): Promise<{ shutdown: () => Promise<void> }> {
    const extra = await createWorker(workflowBundle, workerOptions);
    const extraRunning = extra.run();
    return {
      async shutdown() {
        extra.shutdown();
        await extraRunning;
      },
    };
  }

  async function seedScenario(stock: { a?: number; b?: number; c?: number } = {}): Promise<Scenario> {
    const id = uniqueId('s').slice(2);
    const category = `cat-${id}`;
    const sellers = { x: `seller_x_${id}`, y: `seller_y_${id}`, z: `seller_z_${id}` };
    const skus = { a: `sku-a-${id}`, b: `sku-b-${id}`, c: `sku-c-${id}` };
    const vouchers = { sellerX: `X2OFF-${id}`.toUpperCase(), platform: `VOUCHER10-${id}`.toUpperCase(), freeShipping: `FREESHIP-${id}`.toUpperCase() };
    const { catalog } = services;
    // Pricing configuration is global: every saga test prices with the product brief's rates.
    await catalog.putPricingConfig({ defaultTaxRateBps: 1000, taxRatesBps: {}, defaultCommissionBps: 500, commissionRatesBps: {} });
    await catalog.upsertSeller(sellers.x, { name: 'Seller X', shippingFee: 300 });
    await catalog.upsertSeller(sellers.y, { name: 'Seller Y', shippingFee: 300 });
    await catalog.upsertSeller(sellers.z, { name: 'Seller Z', shippingFee: 500 });
    await catalog.upsertProduct(skus.a, { sellerId: sellers.x, name: 'Item A', category: `${category}-electronics`, unitPrice: 1000, currency: 'USD', stock: stock.a ?? 10 });
    await catalog.upsertProduct(skus.b, { sellerId: sellers.y, name: 'Item B', category: `${category}-clothing`, unitPrice: 2000, currency: 'USD', stock: stock.b ?? 10 });
    await catalog.upsertProduct(skus.c, { sellerId: sellers.z, name: 'Item C', category: `${category}-books`, unitPrice: 5000, currency: 'USD', stock: stock.c ?? 10 });
    await services.vouchers.upsert(vouchers.sellerX, { scope: 'seller', sellerId: sellers.x, category: `${category}-electronics`, type: 'fixed', amount: 200 });
    await services.vouchers.upsert(vouchers.platform, { scope: 'platform', type: 'percent', rateBps: 1000, maxDiscount: 15000 });
    await services.vouchers.upsert(vouchers.freeShipping, { scope: 'shipping', type: 'free_shipping' });
    return { category, sellers, skus, vouchers };
  }

  function inputOf(input: Omit<CheckoutInput, 'orderId'> & { orderId?: string }): CheckoutInput {
    const orderId = input.orderId ?? uniqueId('ord');
    return { ...input, orderId, settings: { ...(options.temporal?.searchAttributes === false ? { searchAttributes: false } : {}), ...input.settings } };
  }

  async function startCheckout(input: Omit<CheckoutInput, 'orderId'> & { orderId?: string }): Promise<WorkflowHandleWithFirstExecutionRunId<typeof orderWorkflow>> {
    return client.workflow.start<typeof orderWorkflow>(orderWorkflowType, sagaStartOptions(inputOf(input), taskQueue));
  }

  /**
   * The settled state: the `checkoutOutcome` Update, or, for a saga that failed and closed before
   * the Update reached it, the workflow's result (a FAILED order's workflow ends with the saga).
   */
  async function outcome(handle: Pick<WorkflowHandleWithFirstExecutionRunId<typeof orderWorkflow>, 'executeUpdate' | 'result'>): Promise<CheckoutState> {
    try {
      return await handle.executeUpdate(checkoutOutcomeUpdate);
    } catch (err) {
      const closed = err instanceof WorkflowNotFoundError || (err instanceof WorkflowUpdateFailedError && /completed before the Update/i.test(String((err.cause)?.message)));
      if (!closed) throw err;
      return handle.result();
    }
  }

  return {
    services,
    client,
    taskQueue,
    psp,
    metrics,
    seedScenario,
    startCheckout,
    checkout: async (input) => outcome(await startCheckout(input)),
    outcome,
    webhooksDelivered: forwarder.delivered,
    startWorker,
    async close() {
      worker?.shutdown();
      await running;
      await psp.close();
      pspData.remove();
      forwarder.server.close();
      if (ownConnection) {
        await ownConnection.close();
        await nativeConnection.close();
      }
    },
  };
}
