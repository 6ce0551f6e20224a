/**
 * The voucher service's types: definitions, usages and holds as callers see them, and the
 * service's interface. Plain JSON (activities hand holds to workflows).
 */
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { VoucherInputBody } from './schemas';

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
