/**
 * Plain, ordered SQL migrations: `db/migrations/NNNN_description.sql`, applied in file-name order,
 * each in its own transaction, recorded in `schema_migrations` with a checksum. A landed migration
 * is never edited: a changed checksum stops the run with a clear error instead of silently
 * diverging from production. A Postgres advisory lock serialises concurrent runners (API and worker
 * starting together).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';

export const migrationsDir = path.join(__dirname, 'migrations');
const migrationFilePattern = /^(\d{4})_[a-z0-9_]+\.sql$/;
/** Arbitrary constant: the advisory lock id that serialises migration runs. */
const migrationLockId = 7_233_001;

export interface Migration {
  version: string;
  name: string;
  sql: string;
  checksum: string;
}

export function loadMigrations(dir = migrationsDir): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const seen = new Set<string>();
  return files.map((name) => {
    const match = migrationFilePattern.exec(name);
    if (!match?.[1]) throw new Error(`migration file "${name}" must be named NNNN_lower_snake_case.sql`);
    const version = match[1];
    if (seen.has(version)) throw new Error(`two migrations share the version ${version}`);
    seen.add(version);
    const sql = readFileSync(path.join(dir, name), 'utf8');
    const checksum = createHash('sha256').update(sql).digest('hex');
    return { version, name, sql, checksum };
  });
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

export async function migrate(
  connectionString: string,
  log: (line: string) => void = () => undefined,
  dir = migrationsDir,
): Promise<MigrateResult> {
  const migrations = loadMigrations(dir);
  const client = new Client({ connectionString, application_name: 'checkout-migrate' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [migrationLockId]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: string; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations',
    );
    const done = new Map(rows.map((r) => [r.version, r]));
    const applied: string[] = [];
    for (const m of migrations) {
      const prior = done.get(m.version);
      if (prior) {
        if (prior.checksum !== m.checksum) {
          throw new Error(
            `migration ${m.name} was edited after it was applied (checksum differs). ` +
              'Landed migrations are never edited: add a new migration instead.',
          );
        }
        continue;
      }
      log(`applying migration ${m.name}`);
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          m.checksum,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`);
      }
      applied.push(m.name);
    }
    return { applied, alreadyApplied: migrations.length - applied.length };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [migrationLockId]).catch(() => undefined);
    await client.end();
  }
}
