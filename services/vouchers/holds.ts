/**
 * Voucher holds and their ends: a hold takes a slot of the voucher and of the user (Redis hands the
 * slot numbers out, a conditional Postgres insert enforces the limits; inserts are batched), then
 * becomes a redemption (consume), ends (release, the hold's compensation) or expires (sweep).
 * Idempotent by business key: hold per (code, orderId); consume and release per orderId.
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { BusinessError } from '../../lib/errors';
import { toSafeInt } from '../../db/pool';
import { limits } from '../limits';
import { createBatcher } from '../shared/batcher';
import { externalIdSchema, parseInput, voucherCodeSchema } from '../shared/validation';
import { parseHoldResult, voucherKeys, voucherScripts, type StateEntry } from './redis-state';
import type { RedisSync } from './redis-sync';
import { refusal, refusalCodes } from './refusals';
import { isLive, toHoldFromRow, usageColumns, type UsageRow } from './rows';
import type { VoucherHold, VoucherService } from './types';

interface HoldItem {
  code: string;
  orderId: string;
  userId: string;
  slot: number;
  userSlot: number;
  heldAt: Date;
  expiresAt: Date;
}

/** Inserts holds; a row is skipped (not returned) when its slot is taken or the voucher refuses it. */
const insertHoldsSql = `
INSERT INTO voucher_usages (code, order_id, user_id, slot_no, user_slot_no, status, held_at, hold_expires_at)
SELECT r.code, r.order_id, r.user_id, r.slot_no, r.user_slot_no, 'held', r.held_at, r.hold_expires_at
  FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::int[], $6::timestamptz[], $7::timestamptz[])
       AS r (code, order_id, user_id, slot_no, user_slot_no, held_at, hold_expires_at)
  JOIN vouchers v ON v.code = r.code
 WHERE (v.starts_at IS NULL OR r.held_at >= v.starts_at)
   AND (v.expires_at IS NULL OR r.held_at < v.expires_at)
   AND (v.total_limit IS NULL OR r.slot_no <= v.total_limit)
   AND (v.per_user_limit IS NULL OR r.user_slot_no <= v.per_user_limit)
   AND NOT EXISTS (SELECT 1 FROM voucher_order_releases t WHERE t.order_id = r.order_id)
ON CONFLICT DO NOTHING
RETURNING code, order_id`;

const holdArgsSchema = z.object({ code: voucherCodeSchema, userId: externalIdSchema, orderId: externalIdSchema });

export interface HoldsDeps {
  pool: Pool;
  redis: Redis;
  now: () => Date;
  holdTimeoutMs: number;
  sync: RedisSync;
}

export function createHolds({ pool, redis, now, holdTimeoutMs, sync }: HoldsDeps): Pick<VoucherService, 'hold' | 'consume' | 'release' | 'expireHolds'> {
  const holdWriter = createBatcher<HoldItem, boolean>(insertHolds, {
    batchMax: limits.voucherHoldBatchMax,
    inFlightMax: limits.voucherHoldBatchesInFlightMax,
  });

  async function insertHolds(items: HoldItem[]): Promise<boolean[]> {
    const { rows } = await pool.query<{ code: string; order_id: string }>({
      name: 'voucher_insert_holds',
      text: insertHoldsSql,
      values: [
        items.map((i) => i.code),
        items.map((i) => i.orderId),
        items.map((i) => i.userId),
        items.map((i) => i.slot),
        items.map((i) => (i.userSlot > 0 ? i.userSlot : null)),
        items.map((i) => i.heldAt.toISOString()),
        items.map((i) => i.expiresAt.toISOString()),
      ],
    });
    const inserted = new Set(rows.map((r) => `${r.code}\n${r.order_id}`));
    return items.map((i) => inserted.has(`${i.code}\n${i.orderId}`));
  }

  async function hold(code: string, userId: string, orderId: string): Promise<VoucherHold> {
    const args = parseInput(holdArgsSchema, { code, userId, orderId });
    const keys = voucherKeys(args.code);
    for (let attempt = 1; attempt <= limits.voucherHoldAttemptsMax; attempt += 1) {
      const at = now();
      const result = parseHoldResult(
        await voucherScripts.hold.run(redis, keys, [args.orderId, args.userId, at.getTime(), holdTimeoutMs, limits.voucherReclaimPerCallMax]),
      );
      if (result.status === 'MISSING') {
        await sync.loadState(args.code);
        continue;
      }
      if (result.status !== 'OK' && result.status !== 'EXISTS') throw refusal(refusalCodes[result.status], args.code);
      const entry = result.entry;
      if (!entry) throw new Error('hold script returned no entry');
      if (entry.userId !== args.userId) {
        throw new BusinessError('HOLD_CONFLICT', `order ${args.orderId} holds voucher ${args.code} for another user`, { code: args.code, orderId: args.orderId });
      }
      if (entry.state === 'held' && entry.expiresAtMs <= at.getTime()) {
        // A hold of this order that ran out in Redis before it reached Postgres: start over.
        await voucherScripts.release.run(redis, keys, [args.orderId, String(entry.slot)]);
        continue;
      }
      const placed = await placeHold(args, entry, at, result.gen);
      if (placed) return placed;
      await voucherScripts.invalidate.run(redis, keys, [result.gen]);
    }
    throw new Error(`voucher ${args.code}: the hold for order ${args.orderId} did not settle after ${limits.voucherHoldAttemptsMax} attempts; retry`);
  }

  /**
   * Writes the hold Redis granted. Returns the hold, throws a refusal, or returns undefined when the
   * Redis state proved stale (the caller drops it and tries again).
   */
  async function placeHold(
    args: { code: string; userId: string; orderId: string },
    entry: StateEntry,
    at: Date,
    gen: string,
  ): Promise<VoucherHold | undefined> {
    const item: HoldItem = { ...args, slot: entry.slot, userSlot: entry.userSlot, heldAt: at, expiresAt: new Date(entry.expiresAtMs) };
    return sync.holdInFlight(args.code, async () => ((await holdWriter.submit(item)) ? toHold(item) : resolveRefusedInsert(item, entry, gen)));
  }

  /** Why Postgres did not take the hold: a retry, a released order, a stale Redis, or an expired slot owner. */
  async function resolveRefusedInsert(item: HoldItem, entry: StateEntry, gen: string): Promise<VoucherHold | undefined> {
    const keys = voucherKeys(item.code);
    const existing = await readUsage(item.code, item.orderId);
    if (existing) {
      // A retry: the recorded usage is the outcome. Redis must not keep a slot Postgres does not have.
      if (!isLive(existing.status)) await voucherScripts.release.run(redis, keys, [item.orderId, String(entry.slot)]);
      else if (toSafeInt(existing.slot_no) !== entry.slot) await voucherScripts.invalidate.run(redis, keys, [gen]);
      return toHoldFromRow(existing);
    }
    const released = await pool.query('SELECT 1 FROM voucher_order_releases WHERE order_id = $1', [item.orderId]);
    if ((released.rowCount ?? 0) > 0) {
      await voucherScripts.release.run(redis, keys, [item.orderId, String(entry.slot)]);
      throw new BusinessError('INVALID_STATE', `the vouchers of order ${item.orderId} were released; no new hold is taken`, { orderId: item.orderId });
    }
    // A slot may be occupied by a hold that has expired but was not ended yet: end it and try again.
    const swept = await pool.query(
      `UPDATE voucher_usages SET status = 'expired', ended_at = $4
        WHERE code = $1 AND status = 'held' AND hold_expires_at <= $4
          AND (slot_no = $2 OR (user_id = $3 AND user_slot_no = $5))`,
      [item.code, item.slot, item.userId, item.heldAt, item.userSlot > 0 ? item.userSlot : null],
    );
    if ((swept.rowCount ?? 0) > 0 && (await holdWriter.submit(item))) return toHold(item);
    // Otherwise the Redis state disagrees with Postgres (slots taken by rows it does not know, or a
    // definition that changed): the caller rebuilds it and tries again.
    return undefined;
  }

  /**
   * All or nothing, in one Postgres transaction: the order's usage rows are locked; when every one
   * is a live hold (or already a redemption, on a retry) they all become redemptions; otherwise
   * none does — a hold that ran out is marked expired (it no longer counted anyway) and the call is
   * refused, so a FAILED order never keeps a redemption or a per-user slot. Redis (the fast path)
   * learns of the redemptions after the commit; should that fail, the retry finds the rows
   * consumed and repeats only the Redis step.
   */
  async function consume(orderId: string): Promise<VoucherHold[]> {
    const id = parseInput(externalIdSchema, orderId, 'orderId');
    const at = now();
    const client = await pool.connect();
    let usages: VoucherHold[];
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<UsageRow>(`SELECT ${usageColumns} FROM voucher_usages WHERE order_id = $1 ORDER BY code FOR UPDATE`, [id]);
      const released = rows.filter((u) => u.status === 'released');
      const ranOut = rows.filter((u) => u.status === 'held' && u.hold_expires_at.getTime() <= at.getTime());
      const expired = rows.filter((u) => u.status === 'expired' || ranOut.includes(u));
      if (released.length > 0) {
        await client.query('ROLLBACK');
        throw new BusinessError('INVALID_STATE', `order ${id}: its voucher holds were released; they cannot be consumed`, { orderId: id });
      }
      if (expired.length > 0) {
        // A hold whose time ran out is over even if no sweep ended it yet (its slot may be reused
        // already): record that, and consume nothing.
        await client.query(
          `UPDATE voucher_usages SET status = 'expired', ended_at = $2
            WHERE order_id = $1 AND status = 'held' AND hold_expires_at <= $2`,
          [id, at],
        );
        await client.query('COMMIT');
        const codes = expired.map((u) => u.code);
        throw new BusinessError('VOUCHER_HOLD_EXPIRED', `order ${id}: the hold of ${codes.join(', ')} expired before it was consumed; nothing was consumed`, { orderId: id, codes });
      }
      const { rows: consumed } = await client.query<UsageRow>(
        `UPDATE voucher_usages SET status = 'consumed', consumed_at = $2
          WHERE order_id = $1 AND status = 'held' RETURNING ${usageColumns}`,
        [id, at],
      );
      await client.query('COMMIT');
      const byCode = new Map(consumed.map((u) => [u.code, u]));
      usages = rows.map((u) => toHoldFromRow(byCode.get(u.code) ?? u));
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    await Promise.all(usages.map((u) => voucherScripts.consume.run(redis, voucherKeys(u.code), [id])));
    return usages;
  }

  async function release(orderId: string): Promise<VoucherHold[]> {
    const id = parseInput(externalIdSchema, orderId, 'orderId');
    const at = now();
    await pool.query('INSERT INTO voucher_order_releases (order_id, released_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [id, at]);
    await pool.query(`UPDATE voucher_usages SET status = 'released', ended_at = $2 WHERE order_id = $1 AND status = 'held'`, [id, at]);
    const usages = await readOrderUsages(id);
    await Promise.all(
      usages.filter((u) => !isLive(u.status)).map((u) => voucherScripts.release.run(redis, voucherKeys(u.code), [id, ''])),
    );
    return usages;
  }

  async function expireHolds(): Promise<number> {
    const at = now();
    const { rows } = await pool.query<{ code: string; order_id: string; slot_no: string }>(
      `UPDATE voucher_usages u SET status = 'expired', ended_at = $1
        FROM (SELECT code, order_id FROM voucher_usages WHERE status = 'held' AND hold_expires_at <= $1
               ORDER BY hold_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) AS due
        WHERE u.code = due.code AND u.order_id = due.order_id
        RETURNING u.code, u.order_id, u.slot_no`,
      [at, limits.voucherExpirySweepMax],
    );
    await Promise.all(rows.map((r) => voucherScripts.release.run(redis, voucherKeys(r.code), [r.order_id, String(toSafeInt(r.slot_no))])));
    return rows.length;
  }

  async function readUsage(code: string, orderId: string): Promise<UsageRow | undefined> {
    const { rows } = await pool.query<UsageRow>(`SELECT ${usageColumns} FROM voucher_usages WHERE code = $1 AND order_id = $2`, [code, orderId]);
    return rows[0];
  }

  async function readOrderUsages(orderId: string): Promise<VoucherHold[]> {
    const { rows } = await pool.query<UsageRow>(`SELECT ${usageColumns} FROM voucher_usages WHERE order_id = $1 ORDER BY code`, [orderId]);
    return rows.map(toHoldFromRow);
  }

  return { hold, consume, release, expireHolds };
}

function toHold(item: HoldItem): VoucherHold {
  return {
    code: item.code,
    orderId: item.orderId,
    userId: item.userId,
    status: 'held',
    heldAt: item.heldAt.toISOString(),
    expiresAt: item.expiresAt.toISOString(),
    consumedAt: null,
    endedAt: null,
  };
}
