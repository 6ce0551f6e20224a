/**
 * Runs audit checks against a database and summarises them. All checks read one consistent
 * snapshot (a REPEATABLE READ, READ ONLY transaction), so a check never sees half of a concurrent
 * operation and checks never contradict each other.
 */
import type { Pool, PoolClient } from 'pg';
import type { AuditCheck } from './checks';

export interface CheckResult {
  readonly name: string;
  readonly description: string;
  readonly status: 'ok' | 'violated' | 'error';
  readonly violations: number;
  /** The first few violating rows. */
  readonly sample: readonly Record<string, unknown>[];
  readonly error?: string;
  readonly durationMs: number;
}

export interface AuditReport {
  readonly ok: boolean;
  readonly database: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly violations: number;
  readonly errors: number;
  readonly checks: readonly CheckResult[];
}

export interface AuditOptions {
  /** Shown in the report (never the credentials). */
  database?: string;
  /** Violating rows shown per check. */
  sampleMax?: number;
  /**
   * Run inside a transaction the caller already opened (tests use this to audit rows they will roll
   * back). By default the runner opens its own read-only snapshot.
   */
  inCallerTransaction?: boolean;
}

export const auditDefaults = { sampleMax: 20 } as const;

async function runCheck(client: PoolClient, check: AuditCheck, sampleMax: number, savepoints: boolean): Promise<CheckResult> {
  const started = Date.now();
  const base = { name: check.name, description: check.description };
  // A savepoint lets the remaining checks run after one fails (e.g. a table that does not exist yet).
  if (savepoints) await client.query('SAVEPOINT audit_check');
  try {
    const { rows } = await client.query<Record<string, unknown> & { audit_total: string }>(
      `SELECT v.*, count(*) OVER () AS audit_total FROM (${check.sql}) v LIMIT $1`,
      [sampleMax],
    );
    if (savepoints) await client.query('RELEASE SAVEPOINT audit_check');
    const violations = rows[0] ? Number(rows[0].audit_total) : 0;
    const sample = rows.map(({ audit_total: _total, ...row }) => row);
    return { ...base, status: violations === 0 ? 'ok' : 'violated', violations, sample, durationMs: Date.now() - started };
  } catch (err) {
    if (savepoints) await client.query('ROLLBACK TO SAVEPOINT audit_check');
    return { ...base, status: 'error', violations: 0, sample: [], error: (err as Error).message, durationMs: Date.now() - started };
  }
}

export async function runAudit(db: Pool | PoolClient, checks: readonly AuditCheck[], options: AuditOptions = {}): Promise<AuditReport> {
  const started = Date.now();
  const sampleMax = options.sampleMax ?? auditDefaults.sampleMax;
  const ownTransaction = !options.inCallerTransaction;
  const client = 'release' in db ? db : await db.connect();
  const results: CheckResult[] = [];
  try {
    if (ownTransaction) await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    for (const check of checks) results.push(await runCheck(client, check, sampleMax, true));
    if (ownTransaction) await client.query('COMMIT');
  } catch (err) {
    if (ownTransaction) await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    if (client !== db) client.release();
  }
  const violations = results.reduce((sum, r) => sum + r.violations, 0);
  const errors = results.filter((r) => r.status === 'error').length;
  return {
    ok: violations === 0 && errors === 0,
    database: options.database ?? '',
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    violations,
    errors,
    checks: results,
  };
}
