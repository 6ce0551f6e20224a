/**
 * The ledger service: escrow per order, release or refund per seller parcel, and the reads an
 * operator needs (balances, a per-order statement). Every operation is idempotent by its business
 * key: repeating it returns the entry posted the first time, however many callers race.
 */
import type { Pool } from 'pg';
import { BusinessError, NotFoundError } from '../../lib/errors';
import {
  assertLedgerId,
  escrowOf,
  ledgerKeys,
  parcelsFromBreakdown,
  planEscrow,
  planPayoutPaid,
  planRefund,
  planRefundPaid,
  planRelease,
  type EntryDraft,
  type ParcelAmounts,
} from './postings';
import * as store from './store';
import type {
  AccountBalance,
  AccountKind,
  BalanceFilter,
  EscrowBreakdown,
  LedgerEntry,
  OrderStatement,
  Parcel,
  ParcelStatement,
} from './types';

export interface LedgerDeps {
  pool: Pool;
}

export interface LedgerService {
  /** Moves the charge (grandTotal) plus the platform's subsidy into the order's escrow, per seller parcel. */
  createEscrow(orderId: string, breakdown: EscrowBreakdown): Promise<LedgerEntry>;
  /** Pays a parcel's escrow out: payout to the seller, commission to the platform, tax to tax payable. */
  releaseParcel(orderId: string, sellerId: string): Promise<LedgerEntry>;
  /** Returns a parcel's escrow: customerPaid becomes owed to the buyer, the subsidy is reversed. */
  refundParcel(orderId: string, sellerId: string): Promise<LedgerEntry>;
  /** Records that the PSP paid a refunded parcel back to the buyer (after payments.refund succeeded). */
  recordRefundPaid(orderId: string, sellerId: string): Promise<LedgerEntry>;
  /** Records that a released parcel's payout was transferred to the seller (after payments.payout). */
  recordPayoutPaid(orderId: string, sellerId: string): Promise<LedgerEntry>;
  getEntry(businessKey: string): Promise<LedgerEntry | undefined>;
  /** Account balances (debit positive, credit negative), optionally filtered. */
  balances(filter?: BalanceFilter): Promise<AccountBalance[]>;
  /** One account's balance in one currency (0 when it has no postings). */
  balanceOf(kind: AccountKind, ref: string, currency: string): Promise<number>;
  /** Everything the ledger knows about an order. Throws NotFoundError when it has no escrow. */
  statement(orderId: string): Promise<OrderStatement>;
}

export function createLedgerService({ pool }: LedgerDeps): LedgerService {
  /** Posts `draft` once; a repeat returns the first entry, which must say the same thing. */
  async function postOnce(draft: EntryDraft, alsoInsert?: Parameters<typeof store.insertEntry>[2]): Promise<LedgerEntry> {
    await store.insertEntry(pool, draft, alsoInsert);
    const entry = await store.entryByKey(pool, draft.businessKey);
    if (entry) {
      assertSameEntry(entry, draft);
      return entry;
    }
    // Nothing under this key: the insert hit the one-settlement-per-parcel index instead.
    const other = draft.sellerId === null ? undefined : await store.settlementOf(pool, draft.orderId, draft.sellerId);
    if (other) {
      throw new BusinessError(
        'INVALID_STATE',
        `parcel ${draft.sellerId} of order ${draft.orderId} was already ${other.kind === 'release' ? 'released' : 'refunded'}`,
        { orderId: draft.orderId, sellerId: draft.sellerId, settledBy: other.kind, entryId: other.entryId },
      );
    }
    throw new Error(`ledger entry ${draft.businessKey} was neither inserted nor found`);
  }

  async function loadParcel(orderId: string, sellerId: string): Promise<ParcelAmounts> {
    assertLedgerId(orderId, 'orderId');
    assertLedgerId(sellerId, 'sellerId');
    const parcel = await store.parcelOf(pool, orderId, sellerId);
    if (!parcel) throw new NotFoundError('parcel', `${orderId}/${sellerId}`);
    return parcel;
  }

  /** A follow-up entry (refund paid, payout paid) needs its settlement to exist first. */
  async function requireEntry(businessKey: string, orderId: string, sellerId: string, what: string): Promise<void> {
    if (!(await store.entryByKey(pool, businessKey))) {
      throw new BusinessError('INVALID_STATE', `parcel ${sellerId} of order ${orderId} has not been ${what}`, { orderId, sellerId });
    }
  }

  return {
    async createEscrow(orderId, breakdown) {
      const parcels = parcelsFromBreakdown(orderId, breakdown);
      const entry = await postOnce(planEscrow(orderId, parcels), (client, entryId) => store.insertParcels(client, entryId, parcels));
      assertSameParcels(await store.parcelsOfOrder(pool, orderId), parcels);
      return entry;
    },

    async releaseParcel(orderId, sellerId) {
      return postOnce(planRelease(await loadParcel(orderId, sellerId)));
    },

    async refundParcel(orderId, sellerId) {
      return postOnce(planRefund(await loadParcel(orderId, sellerId)));
    },

    async recordRefundPaid(orderId, sellerId) {
      const parcel = await loadParcel(orderId, sellerId);
      await requireEntry(ledgerKeys.refund(orderId, sellerId), orderId, sellerId, 'refunded');
      return postOnce(planRefundPaid(parcel));
    },

    async recordPayoutPaid(orderId, sellerId) {
      const parcel = await loadParcel(orderId, sellerId);
      await requireEntry(ledgerKeys.release(orderId, sellerId), orderId, sellerId, 'released');
      return postOnce(planPayoutPaid(parcel));
    },

    getEntry(businessKey) {
      return store.entryByKey(pool, businessKey);
    },

    balances(filter = {}) {
      return store.accountBalances(pool, filter);
    },

    async balanceOf(kind, ref, currency) {
      const [balance] = await store.accountBalances(pool, { kind, ref, currency });
      return balance?.balanceMinor ?? 0;
    },

    async statement(orderId) {
      assertLedgerId(orderId, 'orderId');
      const [parcels, entries] = await Promise.all([store.parcelsOfOrder(pool, orderId), store.entriesOfOrder(pool, orderId)]);
      const first = parcels[0];
      if (!first) throw new NotFoundError('order', orderId);
      return buildStatement(orderId, first.currency, parcels, entries);
    },
  };
}

function toParcel(p: ParcelAmounts): Parcel {
  return {
    orderId: p.orderId,
    sellerId: p.sellerId,
    position: p.position,
    currency: p.currency,
    customerPaidMinor: exactNumber(p.customerPaidMinor),
    platformSubsidyMinor: exactNumber(p.platformSubsidyMinor),
    payoutMinor: exactNumber(p.payoutMinor),
    commissionMinor: exactNumber(p.commissionMinor),
    taxMinor: exactNumber(p.taxMinor),
    escrowMinor: exactNumber(escrowOf(p)),
  };
}

function exactNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`amount ${value} is outside the exact JavaScript range`);
  }
  return Number(value);
}

/** Sums this order's postings per account, and each parcel's share of the escrow account. */
function buildStatement(orderId: string, currency: string, parcels: ParcelAmounts[], entries: LedgerEntry[]): OrderStatement {
  const totals = new Map<string, { kind: AccountKind; ref: string; sum: bigint }>();
  const escrowBySeller = new Map<string, bigint>();
  const settledBy = new Map<string, 'released' | 'refunded'>();
  for (const entry of entries) {
    if (entry.sellerId !== null && entry.kind === 'release') settledBy.set(entry.sellerId, 'released');
    if (entry.sellerId !== null && entry.kind === 'refund') settledBy.set(entry.sellerId, 'refunded');
    for (const p of entry.postings) {
      const key = `${p.account.kind}\u0000${p.account.ref}`;
      const total = totals.get(key) ?? { kind: p.account.kind, ref: p.account.ref, sum: 0n };
      total.sum += BigInt(p.amountMinor);
      totals.set(key, total);
      if (p.account.kind === 'order_escrow' && p.sellerId !== null) {
        escrowBySeller.set(p.sellerId, (escrowBySeller.get(p.sellerId) ?? 0n) + BigInt(p.amountMinor));
      }
    }
  }
  const parcelStatements: ParcelStatement[] = parcels.map((p) => ({
    ...toParcel(p),
    state: settledBy.get(p.sellerId) ?? 'held',
    escrowBalanceMinor: exactNumber(escrowBySeller.get(p.sellerId) ?? 0n),
  }));
  const escrow = [...totals.values()].find((t) => t.kind === 'order_escrow')?.sum ?? 0n;
  return {
    orderId,
    currency,
    parcels: parcelStatements,
    entries,
    escrowBalanceMinor: exactNumber(escrow),
    totals: [...totals.values()]
      .sort((a, b) => (a.kind === b.kind ? a.ref.localeCompare(b.ref) : a.kind.localeCompare(b.kind)))
      .map((t) => ({ account: { kind: t.kind, ref: t.ref }, currency, balanceMinor: exactNumber(t.sum) })),
  };
}

function postingSignature(kind: string, ref: string, sellerId: string | null, amount: bigint): string {
  return `${kind}|${ref}|${sellerId ?? ''}|${amount}`;
}

/** A repeated operation must describe the same movement as the entry already posted under its key. */
function assertSameEntry(entry: LedgerEntry, draft: EntryDraft): void {
  const stored = entry.postings.map((p) => postingSignature(p.account.kind, p.account.ref, p.sellerId, BigInt(p.amountMinor))).sort();
  const wanted = draft.postings.map((p) => postingSignature(p.kind, p.ref, p.sellerId, p.amountMinor)).sort();
  const same =
    entry.kind === draft.kind &&
    entry.orderId === draft.orderId &&
    entry.sellerId === draft.sellerId &&
    entry.currency === draft.currency &&
    stored.length === wanted.length &&
    stored.every((s, i) => s === wanted[i]);
  if (!same) {
    throw new BusinessError(
      'IDEMPOTENCY_KEY_REUSED',
      `ledger entry ${draft.businessKey} already exists with different amounts`,
      { businessKey: draft.businessKey, entryId: entry.entryId },
    );
  }
}

function assertSameParcels(stored: readonly ParcelAmounts[], wanted: readonly ParcelAmounts[]): void {
  const signature = (p: ParcelAmounts): string =>
    [p.sellerId, p.position, p.currency, p.customerPaidMinor, p.platformSubsidyMinor, p.payoutMinor, p.commissionMinor, p.taxMinor].join('|');
  const same = stored.length === wanted.length && stored.every((p, i) => signature(p) === signature(wanted[i]!));
  if (!same) {
    const orderId = wanted[0]?.orderId ?? '';
    throw new BusinessError('IDEMPOTENCY_KEY_REUSED', `escrow of order ${orderId} already exists with a different split`, { orderId });
  }
}
