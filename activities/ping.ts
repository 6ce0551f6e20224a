import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { PingResult } from '../workflows/ping';

export interface PingDeps {
  pool: Pool;
  redis: Redis;
}

/**
 * Records a ping once in Postgres (the ping id is the primary key, so a retried activity inserts
 * nothing new) and counts it in Redis.
 */
export function createPingActivities({ pool, redis }: PingDeps) {
  return {
    async recordPing(pingId: string, message: string): Promise<PingResult> {
      const { rows } = await pool.query<{ created_at: Date }>(
        `INSERT INTO pings (ping_id, message) VALUES ($1, $2)
         ON CONFLICT (ping_id) DO UPDATE SET ping_id = EXCLUDED.ping_id
         RETURNING created_at`,
        [pingId, message],
      );
      const redisCount = await redis.incr(`ping:${pingId}`);
      await redis.expire(`ping:${pingId}`, 24 * 3600);
      return { pingId, redisCount, storedAt: rows[0]!.created_at.toISOString() };
    },
  };
}

export type PingActivities = ReturnType<typeof createPingActivities>;
