import { Pool, type PoolClient, type PoolConfig } from 'pg';

/**
 * A pg pool with the settings every process shares. BIGINT (int8) columns come back as strings by
 * default; money columns are BIGINT, and callers convert them with `BigInt()` or `toSafeInt()`, never
 * with parseFloat, so the parser is left alone on purpose.
 */
export function createPool(connectionString: string, options: PoolConfig = {}): Pool {
  const pool = new Pool({
    connectionString,
    max: 20,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    application_name: 'checkout-orchestrator',
    ...options,
  });
  // An idle client losing its connection (database restart) must not crash the process; the next
  // query reconnects and Temporal retries the activity that was running.
  pool.on('error', (err) => {
    console.error(`[pg] idle client error: ${err.message}`);
  });
  return pool;
}

/** Converts a BIGINT column value (string) to a JS integer, asserting it is exact. */
export function toSafeInt(value: string | number | bigint): number {
  const big = BigInt(value);
  if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`integer ${big} is outside the exact JavaScript range`);
  }
  return Number(big);
}

/**
 * Runs `work` in one transaction on one client: COMMIT on success (deferred constraints, such as the
 * ledger's balance check, run then), ROLLBACK on failure.
 */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (err) {
    // A failed ROLLBACK means the connection is broken: discard it instead of returning it to the pool.
    await client.query('ROLLBACK').then(
      () => client.release(),
      (rollbackError: Error) => client.release(rollbackError),
    );
    throw err;
  }
}
