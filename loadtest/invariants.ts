/**
 * What must hold after every scenario, checked against the database once the run's orders have
 * settled: the whole audit of scripts/audit (ledger balanced, at most one successful charge per
 * order, completed orders escrowed, failed orders fully undone, ...), run programmatically, plus
 * the run's own: no sku of the run oversold (sold = committed reservation units <= the stock it
 * had; nothing left merely reserved), every voucher of the run within its total and per-user limits,
 * every order of the run settled, and whatever the scenario adds (flash sale: sold = stock).
 */
import type { Pool } from 'pg';
import { allChecks } from '../scripts/audit/checks';
import { runAudit } from '../scripts/audit/run';

export interface Invariant {
  name: string;
  ok: boolean;
  detail: string;
}

export interface StockAtStart {
  available: number;
  sold: number;
}

/** A sku's available and sold units now (summed over its buckets). */
export async function stockNow(pool: Pool, sku: string): Promise<StockAtStart & { reserved: number }> {
  const { rows } = await pool.query<{ available: string; sold: string; reserved: string }>(
    `SELECT coalesce(sum(on_hand - reserved), 0)::text AS available, coalesce(sum(sold), 0)::text AS sold, coalesce(sum(reserved), 0)::text AS reserved
     FROM inventory_buckets WHERE sku = $1`,
    [sku],
  );
  return { available: Number(rows[0]?.available ?? 0), sold: Number(rows[0]?.sold ?? 0), reserved: Number(rows[0]?.reserved ?? 0) };
}

export interface InvariantScope {
  /** Skus of the run, with their available and sold units at its start. */
  skus: Record<string, StockAtStart>;
  vouchers: { code: string; totalLimit: number | null; perUserLimit: number | null }[];
  /** The run's buyers share this prefix. */
  buyerPrefix: string;
}

export async function auditInvariants(pool: Pool): Promise<Invariant[]> {
  const report = await runAudit(pool, allChecks, { sampleMax: 3 });
  return report.checks.map((check) => ({
    name: `audit: ${check.name}`,
    ok: check.status === 'ok',
    detail: check.status === 'ok' ? check.description : `${check.status}: ${check.violations} violation(s) ${check.error ?? JSON.stringify(check.sample).slice(0, 300)}`,
  }));
}

export async function stockInvariants(pool: Pool, skus: InvariantScope['skus']): Promise<Invariant[]> {
  const out: Invariant[] = [];
  for (const [sku, atStart] of Object.entries(skus)) {
    const { rows } = await pool.query<{ on_hand: string; reserved: string; sold: string; committed: string }>(
      `SELECT (SELECT coalesce(sum(on_hand), 0) FROM inventory_buckets WHERE sku = $1)::text AS on_hand,
              (SELECT coalesce(sum(reserved), 0) FROM inventory_buckets WHERE sku = $1)::text AS reserved,
              (SELECT coalesce(sum(sold), 0) FROM inventory_buckets WHERE sku = $1)::text AS sold,
              (SELECT coalesce(sum(quantity), 0) FROM inventory_reservations WHERE sku = $1 AND status = 'committed')::text AS committed`,
      [sku],
    );
    const row = rows[0]!;
    const [onHand, reserved, sold, committed] = [row.on_hand, row.reserved, row.sold, row.committed].map(Number) as [number, number, number, number];
    out.push({ name: `stock ${sku}: sold = committed units`, ok: sold === committed, detail: `sold ${sold}, committed reservation units ${committed}` });
    out.push({ name: `stock ${sku}: nothing left reserved`, ok: reserved === 0, detail: `reserved ${reserved}, on hand ${onHand}` });
    const soldInRun = sold - atStart.sold;
    out.push({ name: `stock ${sku}: 0 oversold`, ok: onHand >= 0 && soldInRun <= atStart.available, detail: `${soldInRun} sold in the run of ${atStart.available} available at its start; on hand ${onHand}` });
  }
  return out;
}

export async function voucherInvariants(pool: Pool, vouchers: InvariantScope['vouchers']): Promise<Invariant[]> {
  const out: Invariant[] = [];
  for (const voucher of vouchers) {
    const { rows } = await pool.query<{ live: string; max_per_user: string | null }>(
      `SELECT count(*)::text AS live, (SELECT max(n)::text FROM (SELECT count(*) AS n FROM voucher_usages WHERE code = $1 AND status IN ('held', 'consumed') GROUP BY user_id) u) AS max_per_user
       FROM voucher_usages WHERE code = $1 AND status IN ('held', 'consumed')`,
      [voucher.code],
    );
    const live = Number(rows[0]?.live ?? 0);
    const maxPerUser = Number(rows[0]?.max_per_user ?? 0);
    if (voucher.totalLimit !== null) out.push({ name: `voucher ${voucher.code}: total limit`, ok: live <= voucher.totalLimit, detail: `${live} uses of at most ${voucher.totalLimit}` });
    if (voucher.perUserLimit !== null) out.push({ name: `voucher ${voucher.code}: per-user limit`, ok: maxPerUser <= voucher.perUserLimit, detail: `at most ${maxPerUser} per user, limit ${voucher.perUserLimit}` });
    const { rows: completed } = await pool.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM voucher_usages u JOIN orders o ON o.order_id = u.order_id WHERE u.code = $1 AND o.status = 'COMPLETED' AND u.status <> 'consumed'`,
      [voucher.code],
    );
    out.push({ name: `voucher ${voucher.code}: completed orders consumed their use`, ok: Number(completed[0]?.n ?? 0) === 0, detail: `${completed[0]?.n ?? 0} completed order(s) whose use is not consumed` });
  }
  return out;
}

/** The run's orders still in flight (not COMPLETED or FAILED). */
export async function unsettledOrders(pool: Pool, buyerPrefix: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM orders WHERE buyer_id LIKE $1 AND status NOT IN ('COMPLETED', 'FAILED')`,
    [`${buyerPrefix.replace(/[%_\\]/g, (c) => `\\${c}`)}%`],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Waits (bounded) until every order of the run has settled; returns how long it took, or undefined. */
export async function waitSettled(pool: Pool, buyerPrefix: string, timeoutMs: number, onWait?: (left: number) => void): Promise<number | undefined> {
  const started = Date.now();
  let lastReport = 0;
  for (;;) {
    const left = await unsettledOrders(pool, buyerPrefix).catch(() => -1);
    if (left === 0) return Date.now() - started;
    if (Date.now() - started > timeoutMs) return undefined;
    if (onWait && Date.now() - lastReport > 5000) {
      onWait(left);
      lastReport = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function checkInvariants(pool: Pool, scope: InvariantScope): Promise<Invariant[]> {
  const left = await unsettledOrders(pool, scope.buyerPrefix);
  return [
    { name: 'every order of the run settled', ok: left === 0, detail: `${left} order(s) still in flight` },
    ...(await stockInvariants(pool, scope.skus)),
    ...(await voucherInvariants(pool, scope.vouchers)),
    ...(await auditInvariants(pool)),
  ];
}
