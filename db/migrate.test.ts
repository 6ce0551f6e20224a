import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { loadMigrations, migrate } from './migrate';
import { testConfig, uniqueId } from '../test/support/env';

/** A throwaway database on the test server, dropped afterwards. */
async function withScratchDatabase(fn: (url: string) => Promise<void>): Promise<void> {
  const name = uniqueId('scratch').replace(/-/g, '_');
  const admin = new Client({ connectionString: testConfig.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(testConfig.databaseUrl);
  url.pathname = `/${name}`;
  try {
    await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

function scratchMigrations(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(path.join(dir, name), sql);
  return dir;
}

describe('migrations', () => {
  it('the project migrations are well named, ordered and unique', () => {
    const migrations = loadMigrations();
    assert.ok(migrations.length > 0);
    assert.deepEqual(migrations.map((m) => m.version), [...migrations.map((m) => m.version)].sort());
  });

  it('rejects a badly named migration file', () => {
    const dir = scratchMigrations({ '1_bad.sql': 'SELECT 1;' });
    try {
      assert.throws(() => loadMigrations(dir), /must be named NNNN_lower_snake_case\.sql/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  describe('@integration', () => {
    it('applies every project migration to an empty database, then nothing on a second run', async () => {
      await withScratchDatabase(async (url) => {
        const first = await migrate(url);
        assert.equal(first.applied.length, loadMigrations().length);
        const second = await migrate(url);
        assert.deepEqual(second.applied, []);
        assert.equal(second.alreadyApplied, loadMigrations().length);
      });
    });

    it('runs concurrent migrators safely (advisory lock): each migration applied once', async () => {
      await withScratchDatabase(async (url) => {
        const results = await Promise.all([migrate(url), migrate(url), migrate(url)]);
        const appliedCounts = results.map((r) => r.applied.length).sort((a, b) => b - a);
        assert.deepEqual(appliedCounts, [loadMigrations().length, 0, 0]);
      });
    });

    it('refuses a migration edited after it was applied, and rolls back a failing one', async () => {
      await withScratchDatabase(async (url) => {
        const dir = scratchMigrations({ '0001_a.sql': 'CREATE TABLE a (id int);' });
        try {
          await migrate(url, undefined, dir);
          writeFileSync(path.join(dir, '0001_a.sql'), 'CREATE TABLE a (id bigint);');
          await assert.rejects(migrate(url, undefined, dir), /was edited after it was applied/);

          writeFileSync(path.join(dir, '0001_a.sql'), 'CREATE TABLE a (id int);');
          writeFileSync(path.join(dir, '0002_b.sql'), 'CREATE TABLE b (id int); SELECT no_such_function();');
          await assert.rejects(migrate(url, undefined, dir), /migration 0002_b\.sql failed/);
          const client = new Client({ connectionString: url });
          await client.connect();
          const { rows } = await client.query<{ exists: boolean }>("SELECT to_regclass('b') IS NOT NULL AS exists");
          const recorded = await client.query('SELECT version FROM schema_migrations ORDER BY version');
          await client.end();
          assert.equal(rows[0]!.exists, false, 'the failed migration left a table behind');
          assert.deepEqual(recorded.rows, [{ version: '0001' }]);
        } finally {
          rmSync(dir, { recursive: true });
        }
      });
    });
  });
});
