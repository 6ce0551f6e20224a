/**
 * Mocha global fixtures: bring the local stack up once before the whole run (idempotent: whatever
 * is already running is reused), and afterwards stop exactly the services this run started, so
 * `npm test` on a fresh machine leaves nothing behind while a developer's running stack is left
 * alone. KEEP_STACK=1 keeps what the run started, for fast repeated runs.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { stackDown, stackUp, type ServiceName } from '../scripts/stack/index';
import { allChecks } from '../scripts/audit/checks';
import { runAudit } from '../scripts/audit/run';
import { closeTestHandles, testPool } from './support/env';

let startedByTests: ServiceName[] = [];

export async function mochaGlobalSetup(): Promise<void> {
  // Worker chatter (lifecycle at INFO, every refused activity at WARN — the saga tests refuse on
  // purpose) drowns the test report: errors only, unless TEST_LOG_LEVEL says otherwise.
  Runtime.install({ logger: new DefaultLogger((process.env.TEST_LOG_LEVEL?.toUpperCase() as 'WARN' | undefined) ?? 'ERROR') });
  // TEST_STACK_UP=0 skips the stack check (the stack is known to be up and migrated), e.g. while
  // another migration is mid-edit in a shared development checkout.
  if (process.env.TEST_STACK_UP === '0') return;
  const { started } = await stackUp({ forTests: true });
  startedByTests = started;
}

/**
 * After the whole suite the test database must pass the invariant auditor (`npm run audit`): every
 * entry balanced, escrows settled, no double charge, failed orders fully undone.
 */
async function auditTestDatabase(): Promise<void> {
  const report = await runAudit(testPool(), allChecks, { database: 'checkout_test' });
  if (!report.ok) {
    const broken = report.checks.filter((c) => c.status !== 'ok').map((c) => `${c.name}: ${c.violations} violation(s) ${JSON.stringify(c.sample)}${c.error ? ` ${c.error}` : ''}`);
    throw new Error(`the invariant audit of the test database failed after the suite:\n${broken.join('\n')}`);
  }
  console.log(`audit: ${report.checks.length} invariants hold on the test database`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  try {
    if (process.env.TEST_AUDIT !== '0') await auditTestDatabase();
  } finally {
    await closeTestHandles();
  }
  if (startedByTests.length > 0 && !process.env.KEEP_STACK) await stackDown(startedByTests);
}
