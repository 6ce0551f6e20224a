/**
 * `npm run audit [-- --test] [--check <name>]... [--sample <n>]`: checks the money invariants over
 * the live database and prints a JSON summary. Exit code 0 = every invariant holds, 1 = at least
 * one violation, 2 = the audit itself failed (a check errored, or the database is unreachable).
 *
 * Database: DATABASE_URL (or the local default `checkout`); with --test or AUDIT_TEST=1 the test
 * database (TEST_DATABASE_URL or the local `checkout_test`). Checks: scripts/audit/checks.ts.
 */
import { loadConfig, loadTestConfig } from '../lib/config';
import { createPool } from '../db/pool';
import { allChecks } from './audit/checks';
import { runAudit } from './audit/run';

const usage = 'usage: npm run audit [-- --test] [--check <name>]... [--sample <n>]';

interface Args {
  test: boolean;
  only: string[];
  sampleMax: number | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { test: process.env.AUDIT_TEST === '1' || process.env.AUDIT_TEST === 'true', only: [], sampleMax: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--test') args.test = true;
    else if (arg === '--check' && argv[i + 1]) args.only.push(argv[++i]!);
    else if (arg === '--sample' && argv[i + 1] && /^\d{1,4}$/.test(argv[i + 1]!)) args.sampleMax = Number(argv[++i]);
    else throw new Error(`unknown argument ${String(arg)}\n${usage}`);
  }
  return args;
}

/** host:port/database, never the credentials. */
function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const config = args.test ? loadTestConfig() : loadConfig();
  const unknown = args.only.filter((name) => !allChecks.some((c) => c.name === name));
  if (unknown.length > 0) throw new Error(`unknown check(s): ${unknown.join(', ')}; known: ${allChecks.map((c) => c.name).join(', ')}`);
  const checks = args.only.length > 0 ? allChecks.filter((c) => args.only.includes(c.name)) : allChecks;
  const pool = createPool(config.databaseUrl, { max: 1, application_name: 'checkout-audit' });
  try {
    const report = await runAudit(pool, checks, { database: describeDatabase(config.databaseUrl), sampleMax: args.sampleMax });
    console.log(JSON.stringify(report, null, 2));
    if (report.errors > 0) return 2;
    return report.ok ? 0 : 1;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.log(JSON.stringify({ ok: false, error: (err as Error).message }, null, 2));
    process.exit(2);
  },
);
