import assert from 'node:assert/strict';
import { testPool } from '../../test/support/env';
import { createTransactionPipeline, type PipelinedStatement } from './pipeline';

function echo(value: string): PipelinedStatement {
  return {
    name: 'pipeline_test_echo',
    text: 'SELECT $1::text AS value, txid_current()::text AS txid',
    values: [value],
    inline: (literal) => `SELECT ${literal(value)}::text AS value, txid_current()::text AS txid`,
  };
}

function failing(): PipelinedStatement {
  return {
    name: 'pipeline_test_fail',
    text: 'SELECT 1 / (0 * $1::int) AS value, txid_current()::text AS txid',
    values: [1],
    inline: () => 'SELECT 1 / 0 AS value, txid_current()::text AS txid',
  };
}

describe('transaction pipeline @integration', () => {
  const pool = testPool();

  it('runs calls that queue up in one round trip, each in its own transaction', async () => {
    const pipeline = createTransactionPipeline<{ value: string; txid: string }>(pool, { batchMax: 50, inFlightMax: 1 });
    const values = Array.from({ length: 40 }, (_, i) => `v'${i}\\`);
    const results = await Promise.all(values.map((v) => pipeline.run(echo(v))));
    assert.deepEqual(
      results.map((rows) => rows[0]?.value),
      values,
      'each caller gets its own row; quotes and backslashes survive the literal escaping',
    );
    assert.equal(new Set(results.map((rows) => rows[0]?.txid)).size, values.length, 'one transaction per call');
  });

  it('a failing call fails alone; the others of its batch still get their results', async () => {
    const pipeline = createTransactionPipeline<{ value: string; txid: string }>(pool, { batchMax: 50, inFlightMax: 1 });
    const calls = [echo('a'), echo('b'), failing(), echo('c'), echo('d')].map((s) => pipeline.run(s));
    const outcomes = await Promise.allSettled(calls);
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'fulfilled' ? o.value[0]?.value : 'failed')),
      ['a', 'b', 'failed', 'c', 'd'],
    );
    // The connection went back to the pool usable (no aborted transaction left behind).
    assert.equal((await pipeline.run(echo('after')))[0]?.value, 'after');
  });
});
