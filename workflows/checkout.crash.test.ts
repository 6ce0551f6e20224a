import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { projectRoot } from '../lib/config';
import { startCheckoutHarness, type CheckoutHarness } from '../test/support/checkout-harness';
import { testPool } from '../test/support/env';
import { orderIdOfWorkflowId } from '../lib/vocabulary';

/** Starts a worker in a child process and resolves once it polls. */
async function startWorkerProcess(taskQueue: string, pspUrl: string): Promise<ChildProcess> {
  // Node itself runs the worker (tsx as a require hook), so the SIGKILL below reaches the worker:
  // the tsx CLI would be a wrapper process, and killing it would leave the real worker running.
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'test/support/worker-process.ts'], {
    cwd: projectRoot,
    env: { ...process.env, TASK_QUEUE: taskQueue, PSP_URL: pspUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('READY')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready:\n${output}`)));
  });
  return child;
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('checkout saga survives a killed worker @integration', function () {
  this.timeout(120_000);
  let h: CheckoutHarness;
  const workers: ChildProcess[] = [];
  before(async () => {
    h = await startCheckoutHarness({ worker: false, psp: { asyncDelayMs: 4000 } });
  });
  after(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await h.close();
  });

  it('a worker killed with SIGKILL between steps: a new worker finishes the saga exactly once, charged once', async () => {
    const s = await h.seedScenario();
    const first = await startWorkerProcess(h.taskQueue, h.psp.url);
    workers.push(first);
    const handle = await h.startCheckout({
      buyerId: 'buyer-crash',
      items: [{ sku: s.skus.a, quantity: 1 }, { sku: s.skus.c, quantity: 1 }],
      voucherCodes: [s.vouchers.platform],
      paymentToken: 'tok_async',
    });
    const orderId = orderIdOfWorkflowId(handle.workflowId)!;
    // Charged and waiting for the payment webhook: reservations and the voucher hold are in place.
    for (let i = 0; i < 200 && (await h.services.orders.findOrder(orderId))?.status !== 'AWAITING_PAYMENT'; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await h.services.orders.findOrder(orderId))?.status, 'AWAITING_PAYMENT');
    await kill(first);

    // The webhook arrives while no worker runs: Temporal keeps the signal in the history.
    for (let i = 0; i < 200 && h.webhooksDelivered() === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(h.webhooksDelivered() > 0, 'the payment webhook was delivered');

    workers.push(await startWorkerProcess(h.taskQueue, h.psp.url));
    const state = await h.outcome(handle);
    assert.equal(state.status, 'COMPLETED', JSON.stringify(state.failure));
    const payments = await testPool().query<{ status: string; amount_minor: string }>('SELECT status, amount_minor FROM payments WHERE order_id = $1', [orderId]);
    assert.deepEqual(payments.rows.map((r) => r.status), ['succeeded']);
    const escrows = await testPool().query("SELECT 1 FROM ledger_entries WHERE kind = 'escrow' AND order_id = $1", [orderId]);
    assert.equal(escrows.rowCount, 1, 'escrow posted once');
    const stock = await h.services.inventory.getStock(s.skus.a);
    assert.deepEqual([stock.reserved, stock.sold], [0, 1]);
    assert.deepEqual((await h.services.vouchers.get(s.vouchers.platform)).usage, { held: 0, consumed: 1 });
  });

  it('a worker killed while its local activities are in flight: the new worker runs them again, each with one effect', async () => {
    const s = await h.seedScenario();
    // Hold the lock of seller Z's stock row so the saga's first workflow task stops inside the
    // local activity that reserves stock (the order row and the voucher hold go through beside it).
    const blocker = await testPool().connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM inventory_buckets WHERE sku = $1 FOR UPDATE', [s.skus.c]);
      const first = await startWorkerProcess(h.taskQueue, h.psp.url);
      workers.push(first);
      const handle = await h.startCheckout({
        buyerId: 'buyer-crash-la',
        items: [{ sku: s.skus.a, quantity: 1 }, { sku: s.skus.c, quantity: 1 }],
        voucherCodes: [s.vouchers.platform],
        paymentToken: 'tok_visa',
      });
      const orderId = orderIdOfWorkflowId(handle.workflowId)!;
      // Seller X's reservation is in; seller Z's waits on the lock: the workflow task is open.
      for (let i = 0; i < 200 && (await h.services.inventory.getStock(s.skus.a)).reserved === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal((await h.services.inventory.getStock(s.skus.a)).reserved, 1);
      await kill(first);
      await blocker.query('ROLLBACK');
      workers.push(await startWorkerProcess(h.taskQueue, h.psp.url));
      const state = await h.outcome(handle);
      assert.equal(state.status, 'COMPLETED', JSON.stringify(state.failure));
      for (const sku of [s.skus.a, s.skus.c]) {
        const stock = await h.services.inventory.getStock(sku);
        assert.deepEqual([stock.reserved, stock.sold], [0, 1], `${sku}: reserved and sold once`);
      }
      assert.deepEqual((await h.services.vouchers.get(s.vouchers.platform)).usage, { held: 0, consumed: 1 });
      const payments = await testPool().query<{ status: string }>('SELECT status FROM payments WHERE order_id = $1', [orderId]);
      assert.deepEqual(payments.rows.map((r) => r.status), ['succeeded'], 'charged once');
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    }
  });
});
