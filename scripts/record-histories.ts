/**
 * `npm run record-histories`: runs representative checkouts on the test stack and saves their
 * Temporal histories to workflows/histories/. The replay test runs today's workflow code against
 * them, so a change that would break a running saga (non-determinism) fails the suite. Re-record
 * only on purpose, after a deliberate, versioned change to workflow code.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stackUp } from './stack/index';
import { temporalCli } from './stack/tools';
import { projectRoot } from '../lib/config';
import { testConfig } from '../test/support/env';
import { closeTestHandles } from '../test/support/env';
import { startCheckoutHarness } from '../test/support/checkout-harness';
import { checkoutWorkflowId, parcelActionUpdate, type ParcelAction } from '../workflows/contract';

const outDir = path.join(projectRoot, 'workflows', 'histories');

/** The history in Temporal's standard JSON form, as the CLI (and the Web UI's download) writes it. */
function historyJson(workflowId: string): string {
  const cli = temporalCli(false);
  if (!cli) throw new Error('the Temporal CLI is not installed: npm run stack -- up');
  const result = spawnSync(cli, ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', testConfig.temporalAddress, '--namespace', testConfig.temporalNamespace], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`temporal workflow show failed: ${result.stderr}`);
  return result.stdout;
}

async function main(): Promise<void> {
  await stackUp({ forTests: true });
  const h = await startCheckoutHarness();
  try {
    const s = await h.seedScenario({ c: 0 });
    const items = [{ sku: s.skus.a, quantity: 1 }, { sku: s.skus.b, quantity: 1 }];
    // `orderWorkflow` histories (the legacy types' histories, checkout-*.json, were recorded by the
    // first release and stay as they are: those executions may still be running).
    const act = (orderId: string, sellerId: string, action: ParcelAction, by: string) =>
      h.client.workflow.getHandle(checkoutWorkflowId(orderId)).executeUpdate(parcelActionUpdate, { args: [{ sellerId, action, by }] });
    const cases: { name: string; run: () => Promise<string[]> }[] = [
      {
        name: 'order-completed',
        run: async () => {
          const handle = await h.startCheckout({ buyerId: 'replay-buyer', items, voucherCodes: [s.vouchers.sellerX, s.vouchers.platform, s.vouchers.freeShipping], paymentToken: 'tok_visa' });
          const state = await h.outcome(handle);
          await act(state.orderId, s.sellers.x, 'ship', s.sellers.x);
          await act(state.orderId, s.sellers.x, 'deliver', 'admin');
          await act(state.orderId, s.sellers.x, 'confirmReceipt', 'replay-buyer');
          await act(state.orderId, s.sellers.y, 'refund', 'replay-buyer');
          await handle.result();
          return [handle.workflowId];
        },
      },
      {
        name: 'order-async-payment',
        run: async () => {
          const handle = await h.startCheckout({ buyerId: 'replay-buyer', items: [{ sku: s.skus.a, quantity: 1 }], voucherCodes: [], paymentToken: 'tok_async' });
          const state = await h.outcome(handle);
          await act(state.orderId, s.sellers.x, 'refund', 'admin');
          await handle.result();
          return [handle.workflowId];
        },
      },
      {
        name: 'order-insufficient-stock',
        run: async () => {
          const handle = await h.startCheckout({ buyerId: 'replay-buyer', items: [...items, { sku: s.skus.c, quantity: 1 }], voucherCodes: [s.vouchers.platform], paymentToken: 'tok_visa' });
          await handle.result();
          return [handle.workflowId];
        },
      },
      {
        name: 'order-declined',
        run: async () => {
          const handle = await h.startCheckout({ buyerId: 'replay-buyer', items, voucherCodes: [s.vouchers.platform], paymentToken: 'tok_chargeDeclined' });
          await handle.result();
          return [handle.workflowId];
        },
      },
    ];
    for (const c of cases) {
      const workflowIds = await c.run();
      for (const [i, workflowId] of workflowIds.entries()) {
        const file = path.join(outDir, `${c.name}${i === 0 ? '' : `-child${i}`}.json`);
        writeFileSync(file, historyJson(workflowId));
        console.log(`recorded ${path.relative(projectRoot, file)}`);
      }
    }
  } finally {
    await h.close();
    await closeTestHandles();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
