/** The vouchers' and usages' Postgres rows, their columns, and how they become the service's types. */
import { toSafeInt } from '../../db/pool';
import type { HoldStatus, VoucherDefinition, VoucherHold, VoucherScope, VoucherType } from './types';

export interface VoucherRow {
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

export interface UsageRow {
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

export const voucherColumns =
  'code, scope, discount_type, rate_bps, amount_minor, max_discount_minor, min_spend_minor, seller_id, category, starts_at, expires_at, total_limit, per_user_limit, version';
export const usageColumns = 'code, order_id, user_id, slot_no, user_slot_no, status, held_at, hold_expires_at, consumed_at, ended_at';

/** Live usages count against the limits: holds and redemptions. */
export function isLive(status: HoldStatus): boolean {
  return status === 'held' || status === 'consumed';
}

export function toDefinition(row: VoucherRow): VoucherDefinition {
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

export function toHoldFromRow(row: UsageRow): VoucherHold {
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
