/**
 * SQL of the ledger: posting an entry (idempotently, by its business key) and reading entries,
 * parcels and balances back. The database enforces balance and immutability itself
 * (db/migrations/0021_ledger.sql); this module never updates or deletes a ledger row.
 */
import type { Pool, PoolClient } from 'pg';
import { inTransaction, toSafeInt } from '../../db/pool';
import type { EntryDraft, ParcelAmounts } from './postings';
import type { AccountBalance, AccountKind, BalanceFilter, EntryKind, LedgerEntry, Posting } from './types';


/**
 * Inserts the entry and its postings unless an entry with the same business key (or a settlement of
 * the same parcel) exists. Returns the new entry id, or undefined when nothing was inserted.
 * `alsoInsert` runs in the same transaction (escrow records its parcels there).
 */
export async function insertEntry(
  pool: Pool,
  draft: EntryDraft,
  alsoInsert?: (client: PoolClient, entryId: string) => Promise<void>,
): Promise<string | undefined> {
  return inTransaction(pool, async (client) => {
    // No conflict target on purpose: both the business key and the one-settlement-per-parcel index
    // turn a repeat or a contradicting settlement into "nothing inserted".
    const { rows } = await client.query<{ entry_id: string }>(
      `INSERT INTO ledger_entries (business_key, kind, order_id, seller_id, currency, memo)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT DO NOTHING
       RETURNING entry_id::text`,
      [draft.businessKey, draft.kind, draft.orderId, draft.sellerId, draft.currency, draft.memo],
    );
    const entryId = rows[0]?.entry_id;
    if (entryId === undefined) return undefined;
    if (draft.postings.length > 0) {
      await client.query(
        `INSERT INTO ledger_postings (entry_id, currency, account_kind, account_ref, seller_id, amount_minor)
         SELECT $1, $2, t.kind, t.ref, t.seller_id, t.amount
         FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[]) AS t(kind, ref, seller_id, amount)`,
        [
          entryId,
          draft.currency,
          draft.postings.map((p) => p.kind),
          draft.postings.map((p) => p.ref),
          draft.postings.map((p) => p.sellerId),
          draft.postings.map((p) => p.amountMinor.toString()),
        ],
      );
    }
    if (alsoInsert) await alsoInsert(client, entryId);
    return entryId;
  });
}

export async function insertParcels(client: PoolClient, entryId: string, parcels: readonly ParcelAmounts[]): Promise<void> {
  await client.query(
    `INSERT INTO ledger_parcels (order_id, seller_id, position, currency, escrow_entry_id, customer_paid_minor,
                                 platform_subsidy_minor, payout_minor, commission_minor, tax_minor)
     SELECT t.order_id, t.seller_id, t.position, t.currency, $1, t.paid, t.subsidy, t.payout, t.commission, t.tax
     FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[])
       AS t(order_id, seller_id, position, currency, paid, subsidy, payout, commission, tax)`,
    [
      entryId,
      parcels.map((p) => p.orderId),
      parcels.map((p) => p.sellerId),
      parcels.map((p) => p.position),
      parcels.map((p) => p.currency),
      parcels.map((p) => p.customerPaidMinor.toString()),
      parcels.map((p) => p.platformSubsidyMinor.toString()),
      parcels.map((p) => p.payoutMinor.toString()),
      parcels.map((p) => p.commissionMinor.toString()),
      parcels.map((p) => p.taxMinor.toString()),
    ],
  );
}

interface EntryRow {
  entry_id: string;
  business_key: string;
  kind: EntryKind;
  order_id: string | null;
  seller_id: string | null;
  currency: string;
  memo: string;
  created_at: Date;
  postings: { kind: AccountKind; ref: string; sellerId: string | null; amount: string }[];
}

const entrySelect = `
  SELECT e.entry_id::text, e.business_key, e.kind, e.order_id, e.seller_id, e.currency, e.memo, e.created_at,
         coalesce(json_agg(json_build_object('kind', p.account_kind, 'ref', p.account_ref, 'sellerId', p.seller_id,
                                             'amount', p.amount_minor::text) ORDER BY p.posting_id)
                  FILTER (WHERE p.posting_id IS NOT NULL), '[]') AS postings
  FROM ledger_entries e LEFT JOIN ledger_postings p ON p.entry_id = e.entry_id`;

function toEntry(row: EntryRow): LedgerEntry {
  const postings: Posting[] = row.postings.map((p) => ({
    account: { kind: p.kind, ref: p.ref },
    sellerId: p.sellerId,
    amountMinor: toSafeInt(p.amount),
  }));
  return {
    entryId: row.entry_id,
    businessKey: row.business_key,
    kind: row.kind,
    orderId: row.order_id,
    sellerId: row.seller_id,
    currency: row.currency,
    memo: row.memo,
    createdAt: row.created_at.toISOString(),
    postings,
  };
}

export async function entryByKey(pool: Pool, businessKey: string): Promise<LedgerEntry | undefined> {
  const { rows } = await pool.query<EntryRow>(`${entrySelect} WHERE e.business_key = $1 GROUP BY e.entry_id`, [businessKey]);
  return rows[0] ? toEntry(rows[0]) : undefined;
}

export async function entriesOfOrder(pool: Pool, orderId: string): Promise<LedgerEntry[]> {
  const { rows } = await pool.query<EntryRow>(`${entrySelect} WHERE e.order_id = $1 GROUP BY e.entry_id ORDER BY e.entry_id`, [orderId]);
  return rows.map(toEntry);
}

/** The kind of entry that settled a parcel (release or refund), if any. */
export async function settlementOf(pool: Pool, orderId: string, sellerId: string): Promise<LedgerEntry | undefined> {
  const { rows } = await pool.query<EntryRow>(
    `${entrySelect} WHERE e.order_id = $1 AND e.seller_id = $2 AND e.kind IN ('release', 'refund') GROUP BY e.entry_id`,
    [orderId, sellerId],
  );
  return rows[0] ? toEntry(rows[0]) : undefined;
}

interface ParcelRow {
  order_id: string;
  seller_id: string;
  position: number;
  currency: string;
  customer_paid_minor: string;
  platform_subsidy_minor: string;
  payout_minor: string;
  commission_minor: string;
  tax_minor: string;
}

function toParcel(row: ParcelRow): ParcelAmounts {
  return {
    orderId: row.order_id,
    sellerId: row.seller_id,
    position: row.position,
    currency: row.currency,
    customerPaidMinor: BigInt(row.customer_paid_minor),
    platformSubsidyMinor: BigInt(row.platform_subsidy_minor),
    payoutMinor: BigInt(row.payout_minor),
    commissionMinor: BigInt(row.commission_minor),
    taxMinor: BigInt(row.tax_minor),
  };
}

const parcelSelect = `SELECT order_id, seller_id, position, currency, customer_paid_minor, platform_subsidy_minor,
                             payout_minor, commission_minor, tax_minor
                      FROM ledger_parcels`;

export async function parcelsOfOrder(pool: Pool, orderId: string): Promise<ParcelAmounts[]> {
  const { rows } = await pool.query<ParcelRow>(`${parcelSelect} WHERE order_id = $1 ORDER BY position`, [orderId]);
  return rows.map(toParcel);
}

export async function parcelOf(pool: Pool, orderId: string, sellerId: string): Promise<ParcelAmounts | undefined> {
  const { rows } = await pool.query<ParcelRow>(`${parcelSelect} WHERE order_id = $1 AND seller_id = $2`, [orderId, sellerId]);
  return rows[0] ? toParcel(rows[0]) : undefined;
}

export async function accountBalances(pool: Pool, filter: BalanceFilter): Promise<AccountBalance[]> {
  const { rows } = await pool.query<{ account_kind: AccountKind; account_ref: string; currency: string; balance_minor: string }>(
    `SELECT account_kind, account_ref, currency, balance_minor::text
     FROM ledger_account_balances
     WHERE ($1::text IS NULL OR account_kind = $1) AND ($2::text IS NULL OR account_ref = $2) AND ($3::text IS NULL OR currency = $3)
     ORDER BY account_kind, account_ref, currency`,
    [filter.kind ?? null, filter.ref ?? null, filter.currency ?? null],
  );
  return rows.map((r) => ({ account: { kind: r.account_kind, ref: r.account_ref }, currency: r.currency, balanceMinor: toSafeInt(r.balance_minor) }));
}
