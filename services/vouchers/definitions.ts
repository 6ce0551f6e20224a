/**
 * Voucher definitions: create or replace (PUT), read with the live usage counts, read many for
 * pricing, and the read-only check that a user could use a voucher now (cart apply). A changed
 * definition replaces the voucher's Redis state at once (./redis-sync.ts).
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { NotFoundError } from '../../lib/errors';
import { toSafeInt } from '../../db/pool';
import { externalIdSchema, fieldError, parseInput, pgError, voucherCodeSchema } from '../shared/validation';
import { refusal } from './refusals';
import { toDefinition, voucherColumns, type VoucherRow } from './rows';
import type { RedisSync } from './redis-sync';
import { voucherInputSchema, type VoucherInputBody } from './schemas';
import type { VoucherDefinition, VoucherService, VoucherView } from './types';
import { windowRefusalAt } from './window';

export function createDefinitions({ pool, now, sync }: { pool: Pool; now: () => Date; sync: RedisSync }): Pick<VoucherService, 'upsert' | 'get' | 'getDefinitions' | 'check'> {
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
    await sync.replace(id);
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

  return { upsert, get, getDefinitions, check };
}
