/**
 * Shared handles for integration tests: the test database (`checkout_test`) and Redis logical
 * database 1 of the running stack (test/global-setup.ts brings it up). Handles are created lazily
 * and closed once after the whole run.
 *
 * Tests never truncate or flush shared state: they create their own uniquely named rows and keys
 * (see `uniqueId`), so test files can run in any order, and against a database that already holds
 * data from earlier runs.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { loadTestConfig, type AppConfig } from '../../lib/config';
import { createPool } from '../../db/pool';
import { createRedis } from '../../lib/redis';

export const testConfig: AppConfig = loadTestConfig();

let pool: Pool | undefined;
let redis: Redis | undefined;

export function testPool(): Pool {
  pool ??= createPool(testConfig.databaseUrl, { max: 80 });
  return pool;
}

export function testRedis(): Redis {
  redis ??= createRedis(testConfig.redisUrl, 'checkout-tests');
  return redis;
}

/** A Redis URL for a logical database a single test may flush: index 2..15, never the shared one. */
export function exclusiveRedisUrl(dbIndex: number): string {
  if (!Number.isInteger(dbIndex) || dbIndex < 2 || dbIndex > 15) throw new RangeError('use a Redis db index 2..15');
  const url = new URL(testConfig.redisUrl);
  url.pathname = `/${dbIndex}`;
  return url.toString();
}

/** A short unique id for test data, e.g. `uniqueId('sku')` -> `sku-3f9c2a1b7e`. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().replace(/-/g, '').slice(0, 10)}`;
}

export async function closeTestHandles(): Promise<void> {
  const closing: Promise<unknown>[] = [];
  if (pool) closing.push(pool.end());
  if (redis) closing.push(redis.quit().catch(() => redis?.disconnect()));
  pool = undefined;
  redis = undefined;
  await Promise.all(closing);
}
