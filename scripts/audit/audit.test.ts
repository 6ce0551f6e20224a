import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../lib/config';
import { testPool, uniqueId } from '../../test/support/env';
import { allChecks, ledgerChecks, paymentChecks } from './checks';
import { runAudit, type AuditReport } from './run';

function violationsOf(report: AuditReport, check: string, match: (row: Record<string, unknown>) => boolean): Record<string, unknown>[] {
  const result = report.checks.find((c) => c.name === check);
  assert.ok(result, `check ${check} ran`);
  assert.equal(result.status, 'violated', `${check} should be violated`);
  return result.sample.filter(match);
}

describe('invariant auditor @integration', () => {
  it('finds no violation in the test database', async () => {
    const report = await runAudit(testPool(), [...ledgerChecks, ...paymentChecks], { database: 'checkout_test' });
    const failing = report.checks.filter((c) => c.status !== 'ok');
    assert.deepEqual(failing, [], JSON.stringify(failing, null, 2));
    assert.equal(report.ok, true);
  });

  it('detects each kind of violation (rows forced in past the database guards, then rolled back)', async function () {
    const client = await testPool().connect();
    const orderId = uniqueId('audit-ord');
    try {
      await client.query('BEGIN');
      // Disables triggers (balance, immutability, foreign keys) for this transaction only, to plant
      // corrupt rows no code path can produce. Needs a superuser, as the local stack's user is.
      const allowed = await client.query('SET LOCAL session_replication_role = replica').then(
        () => true,
        () => false,
      );
      if (!allowed) {
        await client.query('ROLLBACK');
        this.skip();
      }
      const entry = await client.query<{ entry_id: string }>(
        `INSERT INTO ledger_entries (business_key, kind, order_id, currency) VALUES ($1, 'escrow', $2, 'USD') RETURNING entry_id::text`,
        [`escrow:${orderId}`, orderId],
      );
      const entryId = entry.rows[0]!.entry_id;
      await client.query(
        `INSERT INTO ledger_postings (entry_id, currency, account_kind, account_ref, seller_id, amount_minor) VALUES
           ($1, 'USD', 'psp_clearing', '', 's1', 1000), ($1, 'USD', 'order_escrow', $2, 's1', -900)`,
        [entryId, orderId],
      );
      await client.query(
        `INSERT INTO ledger_parcels (order_id, seller_id, position, currency, escrow_entry_id, customer_paid_minor, platform_subsidy_minor, payout_minor, commission_minor, tax_minor)
         VALUES ($1, 's1', 0, 'USD', $2, 1000, 0, 1000, 0, 0)`,
        [orderId, entryId],
      );
      const release = await client.query<{ entry_id: string }>(
        `INSERT INTO ledger_entries (business_key, kind, order_id, seller_id, currency) VALUES ($1, 'release', $2, 's1', 'USD') RETURNING entry_id::text`,
        [`release:${orderId}:s1`, orderId],
      );
      await client.query(
        `INSERT INTO ledger_postings (entry_id, currency, account_kind, account_ref, seller_id, amount_minor) VALUES
           ($1, 'USD', 'order_escrow', $2, 's1', 1000), ($1, 'USD', 'seller_payable', 's1', 's1', -1000)`,
        [release.rows[0]!.entry_id, orderId],
      );
      const refund = await client.query<{ entry_id: string }>(
        `INSERT INTO ledger_entries (business_key, kind, order_id, seller_id, currency) VALUES ($1, 'refund', $2, 's2', 'USD') RETURNING entry_id::text`,
        [`refund:${orderId}:s2`, orderId],
      );
      await client.query(
        `INSERT INTO ledger_postings (entry_id, currency, account_kind, account_ref, seller_id, amount_minor) VALUES
           ($1, 'USD', 'order_escrow', $2, 's2', 5000), ($1, 'USD', 'buyer_refunds_payable', $2, 's2', -5000)`,
        [refund.rows[0]!.entry_id, orderId],
      );
      const adjustment = await client.query<{ entry_id: string }>(
        `INSERT INTO ledger_entries (business_key, kind, currency) VALUES ($1, 'adjustment', 'USD') RETURNING entry_id::text`,
        [`adjustment:${orderId}`],
      );
      await client.query(
        `INSERT INTO ledger_postings (entry_id, currency, account_kind, account_ref, amount_minor) VALUES
           ($1, 'USD', 'seller_payable', $2, 50), ($1, 'USD', 'psp_clearing', '', -50)`,
        [adjustment.rows[0]!.entry_id, `seller-${orderId}`],
      );
      await client.query(
        `INSERT INTO payments (order_id, gateway, idempotency_key, payment_id, amount_minor, currency, status)
         VALUES ($1, 'simulator', $2, $3, 1000, 'USD', 'succeeded')`,
        [orderId, `charge:${orderId}`, `pi_${orderId}`],
      );
      await client.query(`INSERT INTO payment_refunds (order_id, seller_id, idempotency_key, amount_minor, status) VALUES ($1, 's1', $2, 1500, 'succeeded')`, [
        orderId,
        `refund:${orderId}:s1`,
      ]);
      await client.query(
        `INSERT INTO payment_webhook_events (event_id, type, order_id, payment_id, amount_minor, currency, event_created_at, payload)
         VALUES ($1, 'payment.succeeded', $2, $3, 1000, 'USD', now(), '{}')`,
        [uniqueId('evt'), orderId, `pi_second_${orderId}`],
      );

      const report = await runAudit(client, allChecks, { inCallerTransaction: true, sampleMax: 1000 });
      const mine = (row: Record<string, unknown>): boolean => Object.values(row).some((v) => typeof v === 'string' && v.includes(orderId));
      assert.equal(violationsOf(report, 'ledger_entries_balance', mine).length, 1, 'the escrow entry sums to +100');
      assert.equal(report.checks.find((c) => c.name === 'ledger_balances_sum_to_zero')?.status, 'violated');
      assert.equal(violationsOf(report, 'escrow_zero_once_settled', (r) => r.order_id === orderId).length, 1);
      assert.equal(violationsOf(report, 'parcel_escrow_matches_state', (r) => r.order_id === orderId).length, 1);
      assert.equal(violationsOf(report, 'escrow_never_overdrawn', (r) => r.order_id === orderId).length, 1);
      assert.equal(violationsOf(report, 'refunds_within_charge', (r) => r.order_id === orderId).length, 1);
      assert.equal(violationsOf(report, 'refund_total_consistent', (r) => r.order_id === orderId).length, 1);
      assert.equal(violationsOf(report, 'one_successful_charge_per_order', (r) => r.order_id === orderId).length, 1);
      assert.equal(violationsOf(report, 'ledger_refunds_within_charge', (r) => r.order_id === orderId).length, 1);
      assert.equal(violationsOf(report, 'payables_never_overpaid', (r) => r.account_ref === `seller-${orderId}`).length, 1);
      const charge = report.checks.find((c) => c.name === 'escrow_matches_charge')!;
      assert.equal(charge.sample.filter(mine).length, 0, 'the escrow took 1000 from the PSP, as charged');
      assert.equal(report.ok, false);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  });

  it('runs as `npm run audit -- --test`, printing JSON and exiting 0 when clean', () => {
    const result = spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(projectRoot, 'scripts', 'audit.ts'), '--test', '--check', 'ledger_entries_balance'], {
      cwd: projectRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const report = JSON.parse(result.stdout) as AuditReport;
    assert.deepEqual(report.checks.map((c) => [c.name, c.status]), [['ledger_entries_balance', 'ok']]);
    const bad = spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(projectRoot, 'scripts', 'audit.ts'), '--check', 'no_such_check'], { cwd: projectRoot, encoding: 'utf8' });
    assert.equal(bad.status, 2);
  });
});
