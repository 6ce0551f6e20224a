/**
 * The voucher's Redis state (./redis-state.ts) rebuilt from Postgres, the source of truth: after a
 * Redis restart or flush, a definition change, or a disagreement found by a hold. Concurrent
 * rebuilds of one voucher in a process share one load; holds of this process still on their way
 * to Postgres land first.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { toSafeInt } from '../../db/pool';
import { limits } from '../limits';
import { formatEntry, voucherKeys, voucherScripts } from './redis-state';
import { toDefinition, usageColumns, voucherColumns, type UsageRow, type VoucherRow } from './rows';

export interface RedisSync {
  /** Loads the state of one voucher from Postgres (shared by concurrent callers). */
  loadState(code: string): Promise<void>;
  /** Drops the state of one voucher and loads it again (a changed definition, an admin resync). */
  replace(code: string): Promise<void>;
  /** Counts a hold of this process between its Redis slot and its Postgres row (a load waits for it). */
  holdInFlight<T>(code: string, work: () => Promise<T>): Promise<T>;
}

export function createRedisSync({ pool, redis, now }: { pool: Pool; redis: Redis; now: () => Date }): RedisSync {
  const loads = new Map<string, Promise<void>>();
  /** Holds of this process between their Redis slot and their Postgres row, per code. */
  const inFlight = new Map<string, number>();

  async function replace(code: string): Promise<void> {
    // The load script keeps the newer version: a loader that read an older definition can no
    // longer overwrite the state once it is invalidated here.
    await voucherScripts.invalidate.run(redis, voucherKeys(code), ['']);
    await loadState(code);
  }

  async function holdInFlight<T>(code: string, work: () => Promise<T>): Promise<T> {
    inFlight.set(code, (inFlight.get(code) ?? 0) + 1);
    try {
      return await work();
    } finally {
      inFlight.set(code, (inFlight.get(code) ?? 1) - 1);
    }
  }

  /** Loads the state of one voucher from Postgres; concurrent callers in this process share one load. */
  function loadState(code: string): Promise<void> {
    let loading = loads.get(code);
    if (!loading) {
      loading = loadFromPostgres(code).finally(() => loads.delete(code));
      loads.set(code, loading);
    }
    return loading;
  }

  async function loadFromPostgres(code: string): Promise<void> {
    // Holds of this process that took a slot from the lost state and have not reached Postgres yet
    // would be invisible to the snapshot below: let them land first (bounded wait).
    const drainUntil = Date.now() + limits.voucherLoadDrainMsMax;
    while ((inFlight.get(code) ?? 0) > 0 && Date.now() < drainUntil) await delay(5); // short: a hold's Postgres write takes a few ms
    const at = now();
    const gen = `${at.getTime()}-${randomBytes(4).toString('hex')}`;
    const { rows } = await pool.query<VoucherRow>(`SELECT ${voucherColumns} FROM vouchers WHERE code = $1`, [code]);
    const row = rows[0];
    const keys = voucherKeys(code);
    if (!row) {
      await voucherScripts.load.run(redis, keys, [0, gen, at.getTime(), 1, '', '', -1, -1, limits.voucherMissingCacheTtlMs]);
      return;
    }
    const def = toDefinition(row);
    const usages = await pool.query<UsageRow>(`SELECT ${usageColumns} FROM voucher_usages WHERE code = $1 AND status IN ('held', 'consumed')`, [
      code,
    ]);
    const entries = usages.rows.flatMap((u) => [
      u.order_id,
      formatEntry({
        slot: toSafeInt(u.slot_no),
        userSlot: u.user_slot_no ?? 0,
        expiresAtMs: u.hold_expires_at.getTime(),
        state: u.status === 'consumed' ? 'consumed' : 'held',
        userId: u.user_id,
      }),
    ]);
    await voucherScripts.load.run(redis, keys, [
      def.version,
      gen,
      at.getTime(),
      0,
      def.startsAt === null ? '' : Date.parse(def.startsAt),
      def.expiresAt === null ? '' : Date.parse(def.expiresAt),
      def.totalLimit ?? -1,
      def.perUserLimit ?? -1,
      limits.voucherCacheTtlMs,
      ...entries,
    ]);
  }

  return { loadState, replace, holdInFlight };
}
