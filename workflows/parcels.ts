/**
 * Per-seller escrow inside `orderWorkflow`: once the checkout completes, the same workflow holds
 * every parcel of the order, each with its own state machine, lock and deadlines.
 *
 *   HELD --ship--> SHIPPED --deliver--> DELIVERED --confirm-receipt / autoRelease--> RELEASED
 *    |               |                     |
 *    |               +------confirm-receipt+
 *    +--(ship-by passes)--> CANCELLED (refunded, restocked)
 *   HELD/SHIPPED/DELIVERED --refund--> REFUNDED (refunded, restocked)
 *
 * Why inside the order's workflow rather than one child workflow per parcel (the first release):
 * a child costs a workflow execution and its start a round trip through the server for every
 * seller of every order, which made up a third of a checkout's latency. A parcel keeps its id
 * (order, seller), actions, deadlines and escrow semantics; its actions are Updates on
 * `checkout:<orderId>` naming the seller.
 *
 * One action of a parcel runs at a time (a FIFO lock per parcel; the deadlines take it too); other
 * parcels are never blocked. A money move refused by its counterparty (the PSP refuses a refund, a
 * seller has nowhere to be paid) does not fail the workflow: the parcel records the problem (its
 * `problem` field, the database row, a metric, an error log line with the order) for an operator.
 */
import { ActivityFailure, ApplicationFailure, condition, log, proxyActivities, proxyLocalActivities, proxySinks } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import type { ParcelActivities } from '../activities/parcel';
import { localCompensationActivity, moneyMoveActivity, moneyMoveRetry } from './activity-options';
import {
  invalidStateErrorType,
  type CheckoutSettings,
  type ParcelAction,
  type ParcelActionInput,
  type ParcelProblem,
  type ParcelState,
  type ParcelStatus,
  type ParcelSummary,
} from './contract';
import { FifoLock } from './lock';
import type { CheckoutSinks } from './sinks';

/** Parcel bookkeeping (status rows, restock): local, retried until it succeeds. */
const books = proxyLocalActivities<ParcelActivities>(localCompensationActivity);
/** The ledger halves of money moves: local; a business refusal ends the attempt (see `moneyMove`). */
const ledger = proxyLocalActivities<ParcelActivities>({ ...localCompensationActivity, retry: { ...localCompensationActivity.retry, nonRetryableErrorTypes: moneyMoveRetry.nonRetryableErrorTypes ?? [] } });
/** The PSP halves: regular activities (a PSP call can be slow). */
const psp = proxyActivities<ParcelActivities>(moneyMoveActivity);
const { metrics } = proxySinks<CheckoutSinks>();

interface Rule {
  /** States the action may start from. */
  from: readonly ParcelStatus[];
  /** True when the action already happened (a repeat is then a no-op). */
  done: (state: ParcelState) => boolean;
}

const happened = (state: ParcelState, status: ParcelStatus): boolean => state.history.some((e) => e.status === status);

const rules: Record<ParcelAction, Rule> = {
  ship: { from: ['HELD'], done: (s) => happened(s, 'SHIPPED') },
  deliver: { from: ['SHIPPED'], done: (s) => happened(s, 'DELIVERED') },
  confirmReceipt: { from: ['SHIPPED', 'DELIVERED'], done: (s) => s.status === 'RELEASED' },
  // A cancelled parcel was refunded already: asking again changes nothing.
  refund: { from: ['HELD', 'SHIPPED', 'DELIVERED'], done: (s) => s.status === 'REFUNDED' || s.status === 'CANCELLED' },
};

const terminal: readonly ParcelStatus[] = ['RELEASED', 'REFUNDED', 'CANCELLED'];

export interface ParcelTerms {
  orderId: string;
  sellerId: string;
  currency: string;
  customerPaidMinor: number;
  payoutMinor: number;
  orderedAtMs: number;
  settings: CheckoutSettings;
}

function invalidState(action: ParcelAction, state: ParcelState): ApplicationFailure {
  return ApplicationFailure.create({
    type: invalidStateErrorType,
    message: `cannot ${action} a parcel that is ${state.status}`,
    nonRetryable: true,
    details: [{ action, status: state.status }],
  });
}

/**
 * The refusal of a money move's failure (a regular activity's comes wrapped in an ActivityFailure, a
 * local activity's as it is), or undefined for anything that is not a business refusal.
 */
function refusalCode(err: unknown): { code: string; message: string } | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.type && cause.nonRetryable) return { code: cause.type, message: cause.message };
  return undefined;
}

export class Parcel {
  readonly state: ParcelState;
  private readonly lock = new FifoLock();

  constructor(
    private readonly terms: ParcelTerms,
    /** The order's summary entry of this parcel, kept in step for the checkout state query. */
    private readonly summary: ParcelSummary,
  ) {
    this.state = {
      orderId: terms.orderId,
      sellerId: terms.sellerId,
      status: 'HELD',
      customerPaid: terms.customerPaidMinor,
      payout: terms.payoutMinor,
      shipBy: new Date(terms.orderedAtMs + msToNumber(terms.settings.shipBy)).toISOString(),
      history: [{ status: 'HELD', at: new Date().toISOString(), by: 'checkout' }],
    };
  }

  /** The Update validator: refuses an action that does not fit, before anything is written to history. */
  validate(action: ParcelAction): void {
    const rule = rules[action];
    if (!rule.done(this.state) && !rule.from.includes(this.state.status)) throw invalidState(action, this.state);
  }

  /** Runs one action under the parcel's lock, re-checking the state the lock may have moved. */
  act(action: ParcelAction, input: ParcelActionInput): Promise<ParcelState> {
    return this.lock.run(async () => {
      const rule = rules[action];
      if (rule.done(this.state)) return this.state;
      if (!rule.from.includes(this.state.status)) throw invalidState(action, this.state);
      await this.effects[action](input);
      return this.state;
    });
  }

  /** The parcel's clock: ship-by cancellation and auto-release, until the parcel is final. */
  async run(): Promise<void> {
    const shipByMs = Date.parse(this.state.shipBy);
    while (!terminal.includes(this.state.status)) {
      const current = this.state.status;
      const problem = this.state.problem;
      if (current === 'HELD' && !problem) {
        const moved = await condition(() => this.state.status !== 'HELD', untilMs(shipByMs));
        if (!moved) await this.lock.run(async () => (this.state.status === 'HELD' ? this.refundAndRestock('CANCELLED', 'system', 'not shipped by the ship-by deadline') : undefined));
      } else if (current === 'DELIVERED' && !problem) {
        const moved = await condition(() => this.state.status !== 'DELIVERED', untilMs(Date.parse(this.state.autoReleaseAt!)));
        if (!moved) await this.lock.run(async () => (this.state.status === 'DELIVERED' ? this.release('system', 'auto-released after delivery') : undefined));
      } else {
        // Waiting on an action, or on an operator after a refused money move: no deadline fires again.
        await condition(() => this.state.status !== current || this.state.problem !== problem);
      }
    }
  }

  private readonly effects: Record<ParcelAction, (a: ParcelActionInput) => Promise<void>> = {
    ship: (a) => this.moveTo('SHIPPED', Date.now(), a.by, a.reason),
    deliver: (a) => {
      // Delivery starts the auto-release clock: exactly `autoRelease` after the recorded delivery time.
      const atMs = Date.now();
      return this.moveTo('DELIVERED', atMs, a.by, a.reason, new Date(atMs + msToNumber(this.terms.settings.autoRelease)).toISOString());
    },
    confirmReceipt: (a) => this.release(a.by, a.reason ?? 'buyer confirmed receipt'),
    refund: (a) => this.refundAndRestock('REFUNDED', a.by, a.reason ?? 'refund requested'),
  };

  /** Records a transition; `atMs` (workflow time) is when it was decided, before its activities ran. */
  private async moveTo(status: ParcelStatus, atMs: number, by: string, reason?: string, autoReleaseAt?: string, problem?: ParcelProblem): Promise<void> {
    const { orderId, sellerId } = this.terms;
    await books.setParcelStatus({ orderId, sellerId, status, ...(autoReleaseAt ? { autoReleaseAt } : {}), ...(problem ? { problem } : {}) });
    this.state.status = status;
    this.summary.status = status;
    if (autoReleaseAt) this.state.autoReleaseAt = this.summary.autoReleaseAt = autoReleaseAt;
    if (problem) this.state.problem = this.summary.problem = problem;
    this.state.history.push({ status, at: new Date(atMs).toISOString(), by, ...(reason ? { reason } : {}) });
  }

  /**
   * Refund: the ledger half first (it refuses to refund a released parcel), then the PSP half, then
   * the stock. A refusal by the ledger leaves the parcel where it was, with the problem recorded; a
   * refusal by the PSP comes after the escrow went back to the buyer's account, so the parcel is
   * refunded in the books, restocked, and the unpaid refund is the problem.
   */
  private async refundAndRestock(status: 'REFUNDED' | 'CANCELLED', by: string, reason: string): Promise<void> {
    const atMs = Date.now();
    const { orderId, sellerId, customerPaidMinor } = this.terms;
    if (!(await this.moneyMove('refund', () => ledger.refundParcelLedger({ orderId, sellerId })))) return;
    const paid = await this.moneyMove('refund', () => psp.payParcelRefund({ orderId, sellerId, amountMinor: customerPaidMinor }), false);
    await books.restockParcel({ orderId, sellerId });
    await this.moveTo(status, atMs, by, reason, undefined, paid ? undefined : this.state.problem);
  }

  /** Release: escrow to the seller in the ledger, then the payout; a refused payout stays owed (the problem). */
  private async release(by: string, reason: string): Promise<void> {
    const atMs = Date.now();
    const { orderId, sellerId, payoutMinor } = this.terms;
    if (!(await this.moneyMove('release', () => ledger.releaseParcelLedger({ orderId, sellerId })))) return;
    const paid = await this.moneyMove('release', () => psp.payParcelPayout({ orderId, sellerId, payoutMinor }), false);
    await this.moveTo('RELEASED', atMs, by, reason, undefined, paid ? undefined : this.state.problem);
  }

  /**
   * Runs one money move. Transient faults are retried by the activity without limit; a business
   * refusal is recorded as the parcel's problem and answers false. `recordNow`: write the problem
   * to the parcel's row at once (when the status does not move with it).
   */
  private async moneyMove(action: ParcelProblem['action'], move: () => Promise<unknown>, recordNow = true): Promise<boolean> {
    try {
      await move();
      return true;
    } catch (err) {
      const refusal = refusalCode(err);
      if (!refusal) throw err;
      const { orderId, sellerId } = this.terms;
      const problem: ParcelProblem = { action, code: refusal.code, message: refusal.message, at: new Date().toISOString() };
      this.state.problem = this.summary.problem = problem;
      log.error('parcel money move refused; the parcel waits for an operator', { orderId, sellerId, action, code: refusal.code, message: refusal.message });
      metrics.parcelMoneyMoveRefused(action, refusal.code);
      if (recordNow) await books.setParcelStatus({ orderId, sellerId, status: this.state.status, problem });
      return false;
    }
  }
}

/** Time left until a deadline, at least 1 ms (a zero timeout would mean "no timeout"). */
function untilMs(deadlineMs: number): number {
  return Math.max(1, deadlineMs - Date.now());
}
