import assert from 'node:assert/strict';
import fc from 'fast-check';
import { price } from '../../pricing';
import { AppError, BusinessError, NotFoundError } from '../../lib/errors';
import { testPool, uniqueId } from '../../test/support/env';
import { createLedgerService, type LedgerService } from './service';
import { breakdownArbitrary, workedExampleInput } from './testing';
import type { EscrowBreakdown, LedgerEntry, OrderStatement, ParcelStatement } from './types';

/** Negation without -0 (assert's strict equality tells 0 and -0 apart). */
function neg(n: number): number {
  return 0 - n;
}

function isCode(code: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

function total(statement: OrderStatement, kind: string, ref = ''): number {
  return statement.totals.find((t) => t.account.kind === kind && t.account.ref === ref)?.balanceMinor ?? 0;
}

async function entryCount(businessKeyPrefix: string): Promise<number> {
  const { rows } = await testPool().query<{ n: string }>('SELECT count(*) AS n FROM ledger_entries WHERE business_key LIKE $1', [`${businessKeyPrefix}%`]);
  return Number(rows[0]!.n);
}

describe('ledger service @integration', () => {
  let ledger: LedgerService;
  before(() => {
    ledger = createLedgerService({ pool: testPool() });
  });

  it('escrows the worked example and returns escrow to zero once every parcel settles', async () => {
    const orderId = uniqueId('ord');
    const breakdown = price(workedExampleInput());
    const escrow = await ledger.createEscrow(orderId, breakdown);
    assert.equal(escrow.businessKey, `escrow:${orderId}`);
    let statement = await ledger.statement(orderId);
    assert.equal(statement.escrowBalanceMinor, -9602, '7722 charged + 1880 platform subsidy');
    assert.equal(total(statement, 'psp_clearing'), 7722);
    assert.deepEqual(
      statement.parcels.map((p) => [p.sellerId, p.state, p.escrowBalanceMinor]),
      [
        ['seller_x', 'held', -1172],
        ['seller_y', 'held', -2480],
        ['seller_z', 'held', -5950],
      ],
    );

    await ledger.releaseParcel(orderId, 'seller_x');
    await ledger.refundParcel(orderId, 'seller_y');
    await ledger.releaseParcel(orderId, 'seller_z');
    await ledger.recordRefundPaid(orderId, 'seller_y');
    await ledger.recordPayoutPaid(orderId, 'seller_x');

    statement = await ledger.statement(orderId);
    assert.equal(statement.escrowBalanceMinor, 0);
    assert.deepEqual(
      statement.parcels.map((p) => [p.sellerId, p.state, p.escrowBalanceMinor]),
      [
        ['seller_x', 'released', 0],
        ['seller_y', 'refunded', 0],
        ['seller_z', 'released', 0],
      ],
    );
    assert.equal(total(statement, 'seller_payable', 'seller_x'), 0, 'X was paid out');
    assert.equal(total(statement, 'seller_payable', 'seller_z'), -5250);
    assert.equal(total(statement, 'seller_payable', 'seller_y'), 0, 'Y was refunded, never paid');
    assert.equal(total(statement, 'platform_commission_revenue'), -290, 'commission of X (40) and Z (250)');
    assert.equal(total(statement, 'platform_promotion_expense'), 1380, 'subsidy of X (380) and Z (1000); Y reversed');
    assert.equal(total(statement, 'tax_payable'), -522, 'tax of X (72) and Z (450)');
    assert.equal(total(statement, 'buyer_refunds_payable', orderId), 0, 'the refund of Y (1980) was paid');
    assert.equal(total(statement, 'psp_clearing'), 7722 - 1980 - 1060);
    assert.equal(statement.entries.length, 6);
    for (const entry of statement.entries) assert.equal(entry.postings.reduce((s, p) => s + p.amountMinor, 0), 0, entry.businessKey);
  });

  it('posts once however often and however concurrently an operation is repeated', async () => {
    const orderId = uniqueId('ord');
    const breakdown = price(workedExampleInput());
    const escrows = await Promise.all(Array.from({ length: 8 }, () => ledger.createEscrow(orderId, breakdown)));
    assert.equal(new Set(escrows.map((e) => e.entryId)).size, 1);
    const releases = await Promise.all(Array.from({ length: 8 }, () => ledger.releaseParcel(orderId, 'seller_x')));
    assert.equal(new Set(releases.map((e) => e.entryId)).size, 1);
    assert.equal((await ledger.releaseParcel(orderId, 'seller_x')).entryId, releases[0]!.entryId);
    assert.equal(await entryCount(`escrow:${orderId}`), 1);
    assert.equal(await entryCount(`release:${orderId}:`), 1);
  });

  it('lets a parcel be either released or refunded, never both, even when both race', async () => {
    const orderId = uniqueId('ord');
    await ledger.createEscrow(orderId, price(workedExampleInput()));
    const results = await Promise.allSettled([
      ledger.releaseParcel(orderId, 'seller_x'),
      ledger.refundParcel(orderId, 'seller_x'),
      ledger.releaseParcel(orderId, 'seller_x'),
      ledger.refundParcel(orderId, 'seller_x'),
    ]);
    const won = results.filter((r): r is PromiseFulfilledResult<LedgerEntry> => r.status === 'fulfilled').map((r) => r.value);
    assert.equal(new Set(won.map((e) => e.entryId)).size, 1, 'one settlement entry');
    assert.equal(won.length, 2, 'both calls of the winning kind return it');
    for (const r of results) if (r.status === 'rejected') isCode('INVALID_STATE')(r.reason);
    const statement = await ledger.statement(orderId);
    assert.equal(statement.parcels[0]!.escrowBalanceMinor, 0);
    const loser = won[0]!.kind === 'release' ? ledger.refundParcel(orderId, 'seller_x') : ledger.releaseParcel(orderId, 'seller_x');
    await assert.rejects(loser, isCode('INVALID_STATE'));
  });

  it('refuses operations on unknown parcels and out-of-order follow-ups', async () => {
    const orderId = uniqueId('ord');
    await assert.rejects(ledger.releaseParcel(orderId, 'seller_x'), NotFoundError);
    await assert.rejects(ledger.statement(orderId), NotFoundError);
    await ledger.createEscrow(orderId, price(workedExampleInput()));
    await assert.rejects(ledger.refundParcel(orderId, 'nobody'), NotFoundError);
    await assert.rejects(ledger.recordRefundPaid(orderId, 'seller_x'), isCode('INVALID_STATE'));
    await assert.rejects(ledger.recordPayoutPaid(orderId, 'seller_x'), isCode('INVALID_STATE'));
  });

  it('refuses an escrow repeated with a different split', async () => {
    const orderId = uniqueId('ord');
    const breakdown = price(workedExampleInput());
    await ledger.createEscrow(orderId, breakdown);
    const x = breakdown.sellers.seller_x!;
    const shifted = { ...breakdown, sellers: { ...breakdown.sellers, seller_x: { ...x, payout: x.payout - 1, commission: x.commission + 1 } } };
    await assert.rejects(ledger.createEscrow(orderId, shifted), (err: unknown) => err instanceof BusinessError && err.code === 'IDEMPOTENCY_KEY_REUSED');
  });

  it('lets the database itself reject unbalanced, edited or reopened entries', async () => {
    const client = await testPool().connect();
    const key = uniqueId('test-adjustment');
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ entry_id: string }>(
        `INSERT INTO ledger_entries (business_key, kind, currency) VALUES ($1, 'adjustment', 'USD') RETURNING entry_id::text`,
        [key],
      );
      await client.query(`INSERT INTO ledger_postings (entry_id, currency, account_kind, amount_minor) VALUES ($1, 'USD', 'psp_clearing', 100)`, [rows[0]!.entry_id]);
      await assert.rejects(client.query('COMMIT'), /does not balance/);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
    assert.equal(await entryCount(key), 0, 'nothing of the unbalanced entry was kept');

    const orderId = uniqueId('ord');
    const escrow = await ledger.createEscrow(orderId, price(workedExampleInput()));
    await assert.rejects(testPool().query(`UPDATE ledger_postings SET amount_minor = amount_minor + 1 WHERE entry_id = $1`, [escrow.entryId]), /append-only/);
    await assert.rejects(testPool().query(`DELETE FROM ledger_entries WHERE entry_id = $1`, [escrow.entryId]), /append-only/);
    await assert.rejects(testPool().query(`UPDATE ledger_parcels SET payout_minor = 0 WHERE order_id = $1`, [orderId]), /append-only/);
    await assert.rejects(
      testPool().query(`INSERT INTO ledger_postings (entry_id, currency, account_kind, amount_minor) VALUES ($1, 'USD', 'psp_clearing', 0)`, [escrow.entryId]),
      /check constraint|closed/,
    );
    await assert.rejects(
      testPool().query(`INSERT INTO ledger_postings (entry_id, currency, account_kind, amount_minor) VALUES ($1, 'USD', 'psp_clearing', 5)`, [escrow.entryId]),
      /is closed/,
    );
  });

  describe('random sequences of escrow, release and refund', () => {
    type Op = { readonly kind: 'release' | 'refund' | 'escrow'; readonly seller: number; readonly racedWith?: 'release' | 'refund' };
    const opArbitrary: fc.Arbitrary<Op> = fc.record(
      {
        kind: fc.constantFrom('release' as const, 'refund' as const, 'escrow' as const),
        seller: fc.nat({ max: 9 }),
        racedWith: fc.constantFrom('release' as const, 'refund' as const),
      },
      { requiredKeys: ['kind', 'seller'] },
    );

    function run(orderId: string, breakdown: EscrowBreakdown, sellerId: string, kind: Op['kind']): Promise<LedgerEntry> {
      if (kind === 'escrow') return ledger.createEscrow(orderId, breakdown);
      return kind === 'release' ? ledger.releaseParcel(orderId, sellerId) : ledger.refundParcel(orderId, sellerId);
    }

    it('keep every invariant', async () => {
      await fc.assert(
        fc.asyncProperty(breakdownArbitrary, fc.array(opArbitrary, { maxLength: 8 }), async (breakdown, ops) => {
          const orderId = uniqueId('prop');
          const sellers = Object.keys(breakdown.sellers);
          await ledger.createEscrow(orderId, breakdown);
          const settled = new Map<string, 'released' | 'refunded'>();
          for (const op of ops) {
            const sellerId = sellers[op.seller % sellers.length]!;
            const kinds = op.racedWith ? [op.kind, op.racedWith] : [op.kind];
            const results = await Promise.allSettled(kinds.map((k) => run(orderId, breakdown, sellerId, k)));
            for (const r of results) if (r.status === 'rejected') isCode('INVALID_STATE')(r.reason);
            const state = (await ledger.statement(orderId)).parcels.find((p) => p.sellerId === sellerId)!.state;
            const before = settled.get(sellerId);
            if (before) assert.equal(state, before, 'a settled parcel never changes');
            else if (state !== 'held') settled.set(sellerId, state);
          }
          const statement = await ledger.statement(orderId);
          let heldEscrow = 0;
          for (const parcel of statement.parcels) {
            assert.equal(parcel.state, settled.get(parcel.sellerId) ?? 'held');
            assert.equal(parcel.escrowBalanceMinor, parcel.state === 'held' ? neg(parcel.escrowMinor) : 0);
            if (parcel.state === 'held') heldEscrow += parcel.escrowMinor;
          }
          assert.equal(statement.escrowBalanceMinor, neg(heldEscrow), 'escrow holds exactly the unsettled parcels');
          const released = statement.parcels.filter((p) => p.state === 'released');
          const refunded = statement.parcels.filter((p) => p.state === 'refunded');
          const sum = (ps: readonly ParcelStatement[], f: (p: ParcelStatement) => number): number => ps.reduce((s, p) => s + f(p), 0);
          assert.equal(total(statement, 'platform_commission_revenue'), neg(sum(released, (p) => p.commissionMinor)));
          assert.equal(total(statement, 'tax_payable'), neg(sum(released, (p) => p.taxMinor)));
          assert.equal(total(statement, 'buyer_refunds_payable', orderId), neg(sum(refunded, (p) => p.customerPaidMinor)));
          assert.equal(
            total(statement, 'platform_promotion_expense'),
            sum(statement.parcels, (p) => p.platformSubsidyMinor) - sum(refunded, (p) => p.platformSubsidyMinor),
          );
          for (const p of statement.parcels) {
            assert.equal(total(statement, 'seller_payable', p.sellerId), p.state === 'released' ? neg(p.payoutMinor) : 0);
          }
          for (const entry of statement.entries) assert.equal(entry.postings.reduce((s, p) => s + p.amountMinor, 0), 0);
          assert.equal(statement.totals.reduce((s, t) => s + t.balanceMinor, 0), 0, "the order's postings sum to zero");
        }),
        { numRuns: 40 },
      );
    });
  });
});
