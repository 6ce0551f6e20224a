/**
 * Runs independent one-statement transactions, several per round trip.
 *
 * Under load the cost of a reservation is dominated not by Postgres but by the client: a round trip
 * through the driver and the kernel per call. Calls that arrive while `inFlightMax` batches are
 * running are gathered and sent as one message "BEGIN; <call 1>; COMMIT; BEGIN; <call 2>; COMMIT; …"
 * on one connection. Postgres still runs each call as its own transaction, one after the other,
 * exactly as if it had been sent alone (a hot row's lock is still held only from its UPDATE to its
 * COMMIT), and each caller still gets its own result only after its own COMMIT.
 *
 * A message with several statements cannot carry bind parameters, so values are rendered as
 * literals with the driver's escaping; callers pass only validated values. If a statement fails,
 * Postgres skips the rest of the message: the batch is then rolled back where it stopped and every
 * call of it is run again alone (the calls must be idempotent, which the inventory functions are).
 */
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { createBatcher } from '../shared/batcher';

export interface PipelinedStatement {
  /** The prepared form, used when the statement travels alone. */
  name: string;
  text: string;
  values: unknown[];
  /** The same statement with its values as SQL literals (escaped with `literal`), without a semicolon. */
  inline: (literal: (value: string) => string) => string;
}

type Outcome<Row> = { ok: true; rows: Row[] } | { ok: false; error: unknown };

export interface TransactionPipeline<Row extends QueryResultRow> {
  run(statement: PipelinedStatement): Promise<Row[]>;
}

export function createTransactionPipeline<Row extends QueryResultRow>(
  pool: Pool,
  options: { batchMax: number; inFlightMax: number },
): TransactionPipeline<Row> {
  async function runAlone(statement: PipelinedStatement): Promise<Outcome<Row>> {
    try {
      const result = await pool.query<Row>({ name: statement.name, text: statement.text, values: statement.values });
      return { ok: true, rows: result.rows };
    } catch (error) {
      return { ok: false, error };
    }
  }

  async function runBatch(statements: PipelinedStatement[]): Promise<Outcome<Row>[]> {
    if (statements.length === 1) return [await runAlone(statements[0] as PipelinedStatement)];
    const client: PoolClient = await pool.connect();
    let unusable = false;
    try {
      const literal = (value: string): string => client.escapeLiteral(value);
      const text = statements.map((s) => `BEGIN; ${s.inline(literal)}; COMMIT`).join('; ');
      const results = (await client.query(text)) as unknown as QueryResult<Row>[];
      return statements.map((_, index) => ({ ok: true, rows: results[3 * index + 1]?.rows ?? [] }));
    } catch {
      // The failed statement left its transaction aborted and the rest of the message unexecuted.
      await client.query('ROLLBACK').catch(() => {
        unusable = true;
      });
      return Promise.all(statements.map(runAlone));
    } finally {
      client.release(unusable);
    }
  }

  const batcher = createBatcher<PipelinedStatement, Outcome<Row>>(runBatch, options);

  return {
    async run(statement: PipelinedStatement): Promise<Row[]> {
      const outcome = await batcher.submit(statement);
      if (!outcome.ok) throw outcome.error;
      return outcome.rows;
    },
  };
}
