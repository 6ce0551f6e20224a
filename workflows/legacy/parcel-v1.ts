/**
 * LEGACY, kept registered until its executions drain: the parcel escrow workflow of the first release (workflow type `parcelWorkflow`, id `parcel:<orderId>:<sellerId>`).
 * New orders run `orderWorkflow` (workflows/checkout.ts). Executions started on this code keep
 * replaying on it, so its command sequence must not change except behind `patched()`; delete it
 * once no execution of this type is open (`temporal workflow count --query "WorkflowType='...' AND
 * ExecutionStatus='Running'"` answers 0; parcels live up to ship-by + auto-release, ~10 days).
 *
 * Per-seller escrow: one child workflow per parcel (id `parcel:<orderId>:<sellerId>`), started by
 * the checkout saga once the order is confirmed.
 *
 * Why a child workflow per parcel rather than a state machine inside the checkout workflow: each
 * parcel has its own clock (ship-by, 7-day auto-release) and its own actors (the seller ships, the
 * buyer confirms), so separate workflows keep each history small and independent, give each parcel
 * an id the API addresses directly, and let the checkout workflow finish when the checkout does.
 *
 *   HELD --ship--> SHIPPED --deliver--> DELIVERED --confirm-receipt / 7 days--> RELEASED
 *    |               |                     |
 *    |               +------confirm-receipt+
 *    +--(ship-by passes)--> CANCELLED (refunded, restocked)
 *   HELD/SHIPPED/DELIVERED --refund--> REFUNDED (refunded, restocked)
 *
 * Actions arrive as Updates: a validator refuses an action that does not fit the state with
 * INVALID_STATE before anything is written to history; repeating an action that already happened
 * is a no-op that returns the current state. One action runs at a time (a workflow-local lock), and
 * the timers take the same lock, so a deadline and an action never interleave.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  log,
  patched,
  proxyActivities,
  proxySinks,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Activities } from '../../activities';
import { compensationActivity, databaseActivity } from '../activity-options';
import {
  confirmReceiptUpdate,
  deliverUpdate,
  invalidStateErrorType,
  type ParcelActionInput,
  type ParcelInput,
  type ParcelProblem,
  type ParcelState,
  parcelStateQuery,
  type ParcelStatus,
  refundUpdate,
  shipUpdate,
} from '../contract';
import { searchAttributes } from '../search-attributes';
import type { CheckoutSinks } from '../sinks';

/** Patches of the first release's parcel workflow (see `exclusively` and `moneyMove`). */
export const fifoLockPatch = 'parcel-fifo-lock';
export const moneyMoveProblemPatch = 'parcel-money-move-problems';
const { metrics } = proxySinks<CheckoutSinks>();

const db = proxyActivities<Activities>(databaseActivity);
/** Money moves must complete once decided: retried until they succeed, like compensations. */
const money = proxyActivities<Activities>(compensationActivity);

type Action = 'ship' | 'deliver' | 'confirmReceipt' | 'refund';

interface Rule {
  /** States the action may start from. */
  from: readonly ParcelStatus[];
  /** True when the action already happened (a repeat is then a no-op). */
  done: (state: ParcelState) => boolean;
}

const happened = (state: ParcelState, status: ParcelStatus): boolean => state.history.some((e) => e.status === status);

const rules: Record<Action, Rule> = {
  ship: { from: ['HELD'], done: (s) => happened(s, 'SHIPPED') },
  deliver: { from: ['SHIPPED'], done: (s) => happened(s, 'DELIVERED') },
  confirmReceipt: { from: ['SHIPPED', 'DELIVERED'], done: (s) => s.status === 'RELEASED' },
  // A cancelled parcel was refunded already: asking again changes nothing.
  refund: { from: ['HELD', 'SHIPPED', 'DELIVERED'], done: (s) => s.status === 'REFUNDED' || s.status === 'CANCELLED' },
};

const terminal: readonly ParcelStatus[] = ['RELEASED', 'REFUNDED', 'CANCELLED'];

function invalidState(action: Action, state: ParcelState): ApplicationFailure {
  return ApplicationFailure.create({
    type: invalidStateErrorType,
    message: `cannot ${action} a parcel that is ${state.status}`,
    nonRetryable: true,
    details: [{ action, status: state.status }],
  });
}

export async function parcelWorkflow(input: ParcelInput): Promise<ParcelState> {
  const shipByMs = Date.parse(input.orderedAt) + msToNumber(input.settings.shipBy);
  const state: ParcelState = {
    orderId: input.orderId,
    sellerId: input.sellerId,
    status: 'HELD',
    customerPaid: input.customerPaid,
    payout: input.payout,
    shipBy: new Date(shipByMs).toISOString(),
    history: [{ status: 'HELD', at: new Date().toISOString(), by: 'checkout' }],
  };
  if (input.settings.searchAttributes) upsertSearchAttributes([
    { key: searchAttributes.orderId, value: input.orderId },
    { key: searchAttributes.buyerId, value: input.buyerId },
    { key: searchAttributes.sellerIds, value: [input.sellerId] },
  ]);

  let busy = false;
  async function exclusively<T>(fn: () => Promise<T>): Promise<T> {
    await condition(() => !busy);
    // The first release let every waiter through when the lock came free in one activation (two
    // actions then ran at once); patched so that executions recorded before keep replaying.
    if (patched(fifoLockPatch)) while (busy) await condition(() => !busy);
    busy = true;
    try {
      return await fn();
    } finally {
      busy = false;
    }
  }

  /** Records a transition; `atMs` (workflow time) is when it was decided, before its activities ran. */
  async function moveTo(status: ParcelStatus, atMs: number, by: string, reason?: string, autoReleaseAt?: string): Promise<void> {
    await db.setParcelStatus({ orderId: input.orderId, sellerId: input.sellerId, status, ...(autoReleaseAt ? { autoReleaseAt } : {}) });
    state.status = status;
    if (autoReleaseAt) state.autoReleaseAt = autoReleaseAt;
    state.history.push({ status, at: new Date(atMs).toISOString(), by, ...(reason ? { reason } : {}) });
  }

  /**
   * A money move refused by its counterparty (the PSP refuses a refund, a payout has nowhere to go)
   * failed this workflow in the first release; patched, it is recorded as the parcel's problem for
   * an operator (row, metric, error log) and the parcel stays where it was, its deadlines stopped.
   */
  async function moneyMove(action: ParcelProblem['action'], move: () => Promise<unknown>): Promise<boolean> {
    if (!patched(moneyMoveProblemPatch)) {
      await move();
      return true;
    }
    try {
      await move();
      return true;
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : undefined;
      if (!(cause instanceof ApplicationFailure) || !cause.nonRetryable || !cause.type) throw err;
      const problem: ParcelProblem = { action, code: cause.type, message: cause.message, at: new Date().toISOString() };
      state.problem = problem;
      log.error('parcel money move refused; the parcel waits for an operator', { orderId: input.orderId, sellerId: input.sellerId, action, code: cause.type });
      metrics.parcelMoneyMoveRefused(action, cause.type);
      await db.setParcelStatus({ orderId: input.orderId, sellerId: input.sellerId, status: state.status, problem });
      return false;
    }
  }

  async function refundAndRestock(status: 'REFUNDED' | 'CANCELLED', by: string, reason: string): Promise<void> {
    const atMs = Date.now();
    if (!(await moneyMove('refund', () => money.refundParcel({ orderId: input.orderId, sellerId: input.sellerId, amountMinor: input.customerPaid })))) return;
    await money.restockParcel({ orderId: input.orderId, sellerId: input.sellerId });
    await moveTo(status, atMs, by, reason);
  }

  async function release(by: string, reason: string): Promise<void> {
    const atMs = Date.now();
    if (!(await moneyMove('release', () => money.releaseParcelFunds({ orderId: input.orderId, sellerId: input.sellerId, payoutMinor: input.payout, currency: input.currency })))) return;
    await moveTo('RELEASED', atMs, by, reason);
  }

  /** Delivery starts the auto-release clock: exactly `autoRelease` after the recorded delivery time. */
  async function deliver(a: ParcelActionInput): Promise<void> {
    const atMs = Date.now();
    await moveTo('DELIVERED', atMs, a.by, a.reason, new Date(atMs + msToNumber(input.settings.autoRelease)).toISOString());
  }

  const effects: Record<Action, (a: ParcelActionInput) => Promise<void>> = {
    ship: (a) => moveTo('SHIPPED', Date.now(), a.by, a.reason),
    deliver,
    confirmReceipt: (a) => release(a.by, a.reason ?? 'buyer confirmed receipt'),
    refund: (a) => refundAndRestock('REFUNDED', a.by, a.reason ?? 'refund requested'),
  };

  function validate(action: Action): void {
    const rule = rules[action];
    if (!rule.done(state) && !rule.from.includes(state.status)) throw invalidState(action, state);
  }

  /** Re-checks under the lock: the state may have moved between validation and execution. */
  function handle(action: Action) {
    return (a: ParcelActionInput): Promise<ParcelState> =>
      exclusively(async () => {
        const rule = rules[action];
        if (rule.done(state)) return state;
        if (!rule.from.includes(state.status)) throw invalidState(action, state);
        await effects[action](a);
        return state;
      });
  }

  setHandler(parcelStateQuery, () => state);
  setHandler(shipUpdate, handle('ship'), { validator: (_a: ParcelActionInput) => validate('ship') });
  setHandler(deliverUpdate, handle('deliver'), { validator: (_a: ParcelActionInput) => validate('deliver') });
  setHandler(confirmReceiptUpdate, handle('confirmReceipt'), { validator: (_a: ParcelActionInput) => validate('confirmReceipt') });
  setHandler(refundUpdate, handle('refund'), { validator: (_a: ParcelActionInput) => validate('refund') });

  while (!terminal.includes(state.status)) {
    const current = state.status;
    if (state.problem) {
      // Waiting for an operator after a refused money move: no deadline fires again.
      const problem = state.problem;
      await condition(() => state.status !== current || state.problem !== problem);
    } else if (current === 'HELD') {
      const moved = await condition(() => state.status !== 'HELD', untilMs(shipByMs));
      if (!moved) await exclusively(async () => (state.status === 'HELD' ? refundAndRestock('CANCELLED', 'system', 'not shipped by the ship-by deadline') : undefined));
    } else if (current === 'DELIVERED') {
      if (state.autoReleaseAt === undefined) throw new Error(`delivered parcel ${input.sellerId} of order ${input.orderId} has no auto-release time`);
      const releaseAtMs = Date.parse(state.autoReleaseAt);
      const moved = await condition(() => state.status !== 'DELIVERED', untilMs(releaseAtMs));
      if (!moved) await exclusively(async () => (state.status === 'DELIVERED' ? release('system', 'auto-released after delivery') : undefined));
    } else {
      await condition(() => state.status !== current);
    }
  }
  // Let an update that is still answering (a repeated action) finish before the workflow closes.
  await condition(allHandlersFinished);
  return state;
}

/** Time left until a deadline, at least 1 ms (a zero timeout would mean "no timeout"). */
function untilMs(deadlineMs: number): number {
  return Math.max(1, deadlineMs - Date.now());
}
