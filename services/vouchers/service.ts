/**
 * Vouchers: definitions in Postgres, holds and redemptions limited by a total and a per-user limit.
 *
 * A usage (a hold, later consumed into a redemption) occupies one of the voucher's slots
 * 1..totalLimit and one of the user's slots 1..perUserLimit; Postgres partial unique indexes allow a
 * slot to be live once, and the insert is conditional on the slot numbers being within the limits,
 * so the limits hold whatever the concurrency, the retries, or the state of Redis (see
 * db/migrations/0012_vouchers.sql). Redis (./redis-state.ts) hands out the slot numbers and turns
 * away requests for exhausted vouchers without touching Postgres; after a Redis restart or flush its
 * state is rebuilt from Postgres.
 *
 * Every operation is idempotent by business key: hold per (code, orderId); consume and release
 * per orderId. release is the compensation of hold. A hold that is neither consumed nor released
 * (a crashed saga) expires after `holdTimeoutMs` and its slots are reused.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { BusinessError, NotFoundError } from '../../lib/errors';
import { toSafeInt } from '../../db/pool';
import type { VoucherInput } from '../../pricing';
import { limits } from '../limits';
import { externalIdSchema, fieldError, parseInput, pgError, voucherCodeSchema } from '../catalog/validation';
import { createBatcher } from './batcher';
import { voucherInputSchema, type VoucherInputBody } from './schemas';
import { formatEntry, parseHoldResult, voucherKeys, voucherScripts, type HoldScriptStatus, type StateEntry } from './redis-state';
import { windowRefusalAt } from './window';

export type VoucherScope = 'seller' | 'platform' | 'shipping';
export type VoucherType = 'percent' | 'fixed' | 'free_shipping';

export interface VoucherDefinition {
  code: string;
  scope: VoucherScope;
  type: VoucherType;
  rateBps: number | null;
  amount: number | null;
  maxDiscount: number | null;
  minSpend: number;
  sellerId: string | null;
  category: string | null;
  /** RFC 3339; null = no bound. Valid from startsAt (inclusive) until expiresAt (exclusive). */
  startsAt: string | null;
  expiresAt: string | null;
  /** null = no limit. */
  totalLimit: number | null;
  perUserLimit: number | null;
  version: number;
}

/** Usages that count against the limits now: live holds (not yet expired) and redemptions. */
export interface VoucherUsage {
  held: number;
  consumed: number;
}

export interface VoucherView extends VoucherDefinition {
  usage: VoucherUsage;
}

export type HoldStatus = 'held' | 'consumed' | 'released' | 'expired';

export interface VoucherHold {
  code: string;
  orderId: string;
  userId: string;
  status: HoldStatus;
  heldAt: string;
  /** When an unconsumed hold stops counting and its slot is reused. */
  expiresAt: string;
  consumedAt: string | null;
  /** When it was released or expired. */
  endedAt: string | null;
}

export type VoucherRefusalCode = 'VOUCHER_NOT_FOUND' | 'VOUCHER_NOT_STARTED' | 'VOUCHER_EXPIRED' | 'VOUCHER_EXHAUSTED' | 'VOUCHER_USER_LIMIT';

export interface VoucherService {
  /** Creates or replaces a definition (PUT). Its usages are kept. */
  upsert(code: string, input: VoucherInputBody): Promise<VoucherView>;
  get(code: string): Promise<VoucherView>;
  /** The definitions that exist among `codes`. */
  getDefinitions(codes: readonly string[]): Promise<Map<string, VoucherDefinition>>;
  /**
   * A read-only check that `userId` could use the voucher now (it exists, is inside its window,
   * neither limit is reached). Takes no slot. Throws the VOUCHER_* BusinessError otherwise.
   */
  check(code: string, userId: string): Promise<VoucherDefinition>;
  /**
   * Holds one use of the voucher for the order, atomically against the window, the total limit and
   * the user's limit (holds and redemptions both count). Idempotent per (code, orderId): a retry
   * returns the recorded hold. Throws VOUCHER_NOT_FOUND, VOUCHER_NOT_STARTED, VOUCHER_EXPIRED,
   * VOUCHER_EXHAUSTED, VOUCHER_USER_LIMIT; INVALID_STATE (conflict) when the order's vouchers were
   * already released; HOLD_CONFLICT (conflict) when the order holds the code for another user.
   */
  hold(code: string, userId: string, orderId: string): Promise<VoucherHold>;
  /**
   * The order's holds become redemptions. Returns the order's usages. Throws VOUCHER_HOLD_EXPIRED
   * (conflict) when a hold of the order expired before it was consumed, INVALID_STATE when the
   * order's holds were released.
   */
  consume(orderId: string): Promise<VoucherHold[]>;
  /** Compensation of hold: the order's live holds end and free their slots; later holds for the order are refused. */
  release(orderId: string): Promise<VoucherHold[]>;
  /** Ends expired holds in Postgres and frees them in Redis (a periodic sweep; holds also expire lazily). */
  expireHolds(): Promise<number>;
  /** Rebuilds the voucher's Redis state from Postgres. */
  resync(code: string): Promise<void>;
}

export interface VoucherDeps {
  pool: Pool;
  redis: Redis;
  /** The clock; injectable so that window and expiry tests need no sleeps. */
  now?: () => Date;
  /** How long a hold keeps its slot unless consumed or released. */
  holdTimeoutMs?: number;
}

/** The pricing engine's voucher shape (pricing-spec.md §2) of a definition. */
export function toPricingVoucher(def: VoucherDefinition): VoucherInput {
  const minSpend = def.minSpend;
  if (def.scope === 'shipping') {
    return def.type === 'fixed'
      ? { code: def.code, scope: 'shipping', type: 'fixed', amount: def.amount ?? 0, minSpend }
      : { code: def.code, scope: 'shipping', type: 'free_shipping', maxDiscount: def.maxDiscount, minSpend };
  }
  const terms =
    def.type === 'percent'
      ? ({ type: 'percent', rateBps: def.rateBps ?? 0, maxDiscount: def.maxDiscount } as const)
      : ({ type: 'fixed', amount: def.amount ?? 0 } as const);
  return def.scope === 'seller'
    ? { code: def.code, scope: 'seller', sellerId: def.sellerId ?? '', category: def.category, minSpend, ...terms }
    : { code: def.code, scope: 'platform', category: def.category, minSpend, ...terms };
}

interface VoucherRow {
  code: string;
  scope: VoucherScope;
  discount_type: VoucherType;
  rate_bps: number | null;
  amount_minor: string | null;
  max_discount_minor: string | null;
  min_spend_minor: string;
  seller_id: string | null;
  category: string | null;
  starts_at: Date | null;
  expires_at: Date | null;
  total_limit: string | null;
  per_user_limit: number | null;
  version: string;
}

interface UsageRow {
  code: string;
  order_id: string;
  user_id: string;
  slot_no: string;
  user_slot_no: number | null;
  status: HoldStatus;
  held_at: Date;
  hold_expires_at: Date;
  consumed_at: Date | null;
  ended_at: Date | null;
}

interface HoldItem {
  code: string;
  orderId: string;
  userId: string;
  slot: number;
  userSlot: number;
  heldAt: Date;
  expiresAt: Date;
}

const voucherColumns =
  'code, scope, discount_type, rate_bps, amount_minor, max_discount_minor, min_spend_minor, seller_id, category, starts_at, expires_at, total_limit, per_user_limit, version';
const usageColumns = 'code, order_id, user_id, slot_no, user_slot_no, status, held_at, hold_expires_at, consumed_at, ended_at';

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

export function createVoucherService({ pool, redis, now = () => new Date(), holdTimeoutMs = limits.holdTimeoutMsDefault }: VoucherDeps): VoucherService {
  if (!Number.isInteger(holdTimeoutMs) || holdTimeoutMs < limits.holdTimeoutMsMin || holdTimeoutMs > limits.holdTimeoutMsMax) {
    throw new RangeError(`holdTimeoutMs must be an integer in ${limits.holdTimeoutMsMin}..${limits.holdTimeoutMsMax}`);
  }
  const loads = new Map<string, Promise<void>>();
  /** Holds of this process between their Redis slot and their Postgres row, per code. */
  const inFlight = new Map<string, number>();
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

  // ------------------------------------------------------------------ definitions

  async function upsert(code: string, input: VoucherInputBody): Promise<VoucherView> {
    const id = parseInput(voucherCodeSchema, code, 'code');
    const v = parseInput(voucherInputSchema, input);
    try {
      await pool.query(
        `INSERT INTO vouchers (code, scope, discount_type, rate_bps, amount_minor, max_discount_minor, min_spend_minor,
           seller_id, category, starts_at, expires_at, total_limit, per_user_limit)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (code) DO UPDATE SET scope = excluded.scope, discount_type = excluded.discount_type,
           rate_bps = excluded.rate_bps, amount_minor = excluded.amount_minor, max_discount_minor = excluded.max_discount_minor,
           min_spend_minor = excluded.min_spend_minor, seller_id = excluded.seller_id, category = excluded.category,
           starts_at = excluded.starts_at, expires_at = excluded.expires_at, total_limit = excluded.total_limit,
           per_user_limit = excluded.per_user_limit, version = vouchers.version + 1, updated_at = now()`,
        [
          id,
          v.scope,
          v.type,
          v.rateBps ?? null,
          v.amount ?? null,
          v.maxDiscount ?? null,
          v.minSpend ?? 0,
          v.sellerId ?? null,
          v.category ?? null,
          v.startsAt ?? null,
          v.expiresAt ?? null,
          v.totalLimit ?? null,
          v.perUserLimit ?? null,
        ],
      );
    } catch (err) {
      if (pgError(err)?.code === '23503') throw fieldError('sellerId', `unknown seller ${v.sellerId ?? ''}`);
      throw err;
    }
    // Replace the Redis state now, with the new version: a loader that read the old definition
    // can no longer overwrite it (the load script keeps the newer version).
    await voucherScripts.invalidate.run(redis, voucherKeys(id), ['']);
    await loadState(id);
    return get(id);
  }

  async function get(code: string): Promise<VoucherView> {
    const id = parseInput(voucherCodeSchema, code, 'code');
    const { rows } = await pool.query<VoucherRow & { held: string; consumed: string }>(
      `SELECT ${voucherColumns},
              (SELECT count(*) FROM voucher_usages u WHERE u.code = v.code AND u.status = 'held' AND u.hold_expires_at > $2) AS held,
              (SELECT count(*) FROM voucher_usages u WHERE u.code = v.code AND u.status = 'consumed') AS consumed
         FROM vouchers v WHERE v.code = $1`,
      [id, now()],
    );
    const row = rows[0];
    if (!row) throw new NotFoundError('voucher', id);
    return { ...toDefinition(row), usage: { held: toSafeInt(row.held), consumed: toSafeInt(row.consumed) } };
  }

  async function getDefinitions(codes: readonly string[]): Promise<Map<string, VoucherDefinition>> {
    const valid = codes.filter((c) => voucherCodeSchema.safeParse(c).success);
    if (valid.length === 0) return new Map();
    // A named statement whose codes come as JSON through an InitPlan: one generic plan, no re-planning
    // per call (see pricingDataSql in services/catalog/service.ts).
    const { rows } = await pool.query<VoucherRow>({
      name: 'voucher_definitions',
      text: `SELECT ${voucherColumns} FROM vouchers WHERE code = ANY (ARRAY(SELECT json_array_elements_text($1::json)))`,
      values: [JSON.stringify(valid)],
    });
    return new Map(rows.map((row) => [row.code, toDefinition(row)]));
  }

  async function check(code: string, userId: string): Promise<VoucherDefinition> {
    const args = parseInput(z.object({ code: voucherCodeSchema, userId: externalIdSchema }), { code, userId });
    const at = now();
    const live = await readLive(args.code, args.userId, at);
    if (!live) throw refusal('VOUCHER_NOT_FOUND', args.code);
    const def = toDefinition(live.row);
    const windowRefusal = windowRefusalAt(def, at.getTime());
    if (windowRefusal) throw refusal(windowRefusal, args.code, def);
    if (def.perUserLimit !== null && live.userLive >= def.perUserLimit) throw refusal('VOUCHER_USER_LIMIT', args.code, def);
    if (def.totalLimit !== null && live.live >= def.totalLimit) throw refusal('VOUCHER_EXHAUSTED', args.code, def);
    return def;
  }

  /** The definition and the live usage counts (total count bounded by the limit it is compared with). */
  async function readLive(code: string, userId: string, at: Date): Promise<{ row: VoucherRow; live: number; userLive: number } | undefined> {
    const { rows } = await pool.query<VoucherRow & { live: string; user_live: string }>(
      `SELECT ${voucherColumns},
              (SELECT count(*) FROM (SELECT 1 FROM voucher_usages u
                 WHERE u.code = v.code AND (u.status = 'consumed' OR (u.status = 'held' AND u.hold_expires_at > $3))
                 LIMIT coalesce(v.total_limit, 0)) AS x) AS live,
              (SELECT count(*) FROM voucher_usages u
                 WHERE u.code = v.code AND u.user_id = $2 AND (u.status = 'consumed' OR (u.status = 'held' AND u.hold_expires_at > $3))) AS user_live
         FROM vouchers v WHERE v.code = $1`,
      [code, userId, at],
    );
    const row = rows[0];
    return row ? { row, live: toSafeInt(row.live), userLive: toSafeInt(row.user_live) } : undefined;
  }

  // ------------------------------------------------------------------ hold

  async function hold(code: string, userId: string, orderId: string): Promise<VoucherHold> {
    const args = parseInput(holdArgsSchema, { code, userId, orderId });
    const keys = voucherKeys(args.code);
    for (let attempt = 1; attempt <= limits.voucherHoldAttemptsMax; attempt += 1) {
      const at = now();
      const result = parseHoldResult(
        await voucherScripts.hold.run(redis, keys, [args.orderId, args.userId, at.getTime(), holdTimeoutMs, limits.voucherReclaimPerCallMax]),
      );
      if (result.status === 'MISSING') {
        await loadState(args.code);
        continue;
      }
      if (result.status !== 'OK' && result.status !== 'EXISTS') throw refusal(refusalCodes[result.status], args.code);
      const entry = result.entry;
      if (!entry) throw new Error('hold script returned no entry');
      if (entry.userId !== args.userId) {
        throw new BusinessError('HOLD_CONFLICT', `order ${args.orderId} holds voucher ${args.code} for another user`, { code: args.code, orderId: args.orderId }, 'conflict');
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
    inFlight.set(args.code, (inFlight.get(args.code) ?? 0) + 1);
    try {
      if (await holdWriter.submit(item)) return toHold(item);
      return await resolveRefusedInsert(item, entry, gen);
    } finally {
      inFlight.set(args.code, (inFlight.get(args.code) ?? 1) - 1);
    }
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
      throw new BusinessError('INVALID_STATE', `the vouchers of order ${item.orderId} were released; no new hold is taken`, { orderId: item.orderId }, 'conflict');
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

  // ------------------------------------------------------------------ consume / release / expiry

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
        throw new BusinessError('INVALID_STATE', `order ${id}: its voucher holds were released; they cannot be consumed`, { orderId: id }, 'conflict');
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
        throw new BusinessError('VOUCHER_HOLD_EXPIRED', `order ${id}: the hold of ${codes.join(', ')} expired before it was consumed; nothing was consumed`, { orderId: id, codes }, 'conflict');
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

  // ------------------------------------------------------------------ Redis state

  async function resync(code: string): Promise<void> {
    const id = parseInput(voucherCodeSchema, code, 'code');
    await voucherScripts.invalidate.run(redis, voucherKeys(id), ['']);
    await loadState(id);
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
    const drainUntil = Date.now() + limits.voucherLoadDrainMaxMs;
    while ((inFlight.get(code) ?? 0) > 0 && Date.now() < drainUntil) await delay(5);
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

  async function readUsage(code: string, orderId: string): Promise<UsageRow | undefined> {
    const { rows } = await pool.query<UsageRow>(`SELECT ${usageColumns} FROM voucher_usages WHERE code = $1 AND order_id = $2`, [code, orderId]);
    return rows[0];
  }

  async function readOrderUsages(orderId: string): Promise<VoucherHold[]> {
    const { rows } = await pool.query<UsageRow>(`SELECT ${usageColumns} FROM voucher_usages WHERE order_id = $1 ORDER BY code`, [orderId]);
    return rows.map(toHoldFromRow);
  }

  return { upsert, get, getDefinitions, check, hold, consume, release, expireHolds, resync };
}

const refusalCodes: Record<Exclude<HoldScriptStatus, 'OK' | 'EXISTS' | 'MISSING'>, VoucherRefusalCode> = {
  NOT_FOUND: 'VOUCHER_NOT_FOUND',
  NOT_STARTED: 'VOUCHER_NOT_STARTED',
  EXPIRED: 'VOUCHER_EXPIRED',
  USER_LIMIT: 'VOUCHER_USER_LIMIT',
  EXHAUSTED: 'VOUCHER_EXHAUSTED',
};

const refusalMessages: Record<VoucherRefusalCode, string> = {
  VOUCHER_NOT_FOUND: 'does not exist',
  VOUCHER_NOT_STARTED: 'is not valid yet',
  VOUCHER_EXPIRED: 'has expired',
  VOUCHER_EXHAUSTED: 'has reached its usage limit',
  VOUCHER_USER_LIMIT: 'has reached its usage limit for this user',
};

export function refusal(code: VoucherRefusalCode, voucherCode: string, def?: VoucherDefinition): BusinessError {
  const details: Record<string, unknown> = { code: voucherCode };
  if (def && code === 'VOUCHER_NOT_STARTED') details.startsAt = def.startsAt;
  if (def && code === 'VOUCHER_EXPIRED') details.expiresAt = def.expiresAt;
  return new BusinessError(code, `voucher ${voucherCode} ${refusalMessages[code]}`, details);
}

function isLive(status: HoldStatus): boolean {
  return status === 'held' || status === 'consumed';
}

function toDefinition(row: VoucherRow): VoucherDefinition {
  return {
    code: row.code,
    scope: row.scope,
    type: row.discount_type,
    rateBps: row.rate_bps,
    amount: row.amount_minor === null ? null : toSafeInt(row.amount_minor),
    maxDiscount: row.max_discount_minor === null ? null : toSafeInt(row.max_discount_minor),
    minSpend: toSafeInt(row.min_spend_minor),
    sellerId: row.seller_id,
    category: row.category,
    startsAt: row.starts_at === null ? null : row.starts_at.toISOString(),
    expiresAt: row.expires_at === null ? null : row.expires_at.toISOString(),
    totalLimit: row.total_limit === null ? null : toSafeInt(row.total_limit),
    perUserLimit: row.per_user_limit,
    version: toSafeInt(row.version),
  };
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

function toHoldFromRow(row: UsageRow): VoucherHold {
  return {
    code: row.code,
    orderId: row.order_id,
    userId: row.user_id,
    status: row.status,
    heldAt: row.held_at.toISOString(),
    expiresAt: row.hold_expires_at.toISOString(),
    consumedAt: row.consumed_at?.toISOString() ?? null,
    endedAt: row.ended_at?.toISOString() ?? null,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
