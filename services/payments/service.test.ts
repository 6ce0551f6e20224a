import assert from 'node:assert/strict';
import { AppError, ValidationError } from '../../lib/errors';
import { createPspServer, type PspServer, type PspServerOptions } from '../../simulators/psp/server';
import { call, startWebhookReceiver, tempDataDir, type WebhookReceiver } from '../../simulators/psp/testing';
import { testPool, uniqueId } from '../../test/support/env';
import { createPaymentsService, type PaymentsService } from './service';
import { createSimulatorGateway, type SimulatorGatewayOptions } from './simulator-gateway';
import type { PaymentGateway } from './types';

const webhookSecret = 'whsec_test_payments';

function isCode(code: string, kind?: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof AppError, `expected an AppError ${code}, got ${String(err)}`);
    assert.equal(err.code, code);
    if (kind) assert.equal(err.kind, kind);
    return true;
  };
}

const isTransient = (err: unknown): boolean => err instanceof Error && !(err instanceof AppError);

describe('payments service with the PSP simulator @integration', () => {
  let data: ReturnType<typeof tempDataDir>;
  let receiver: WebhookReceiver;
  let psp: PspServer;

  async function startPsp(options: Partial<PspServerOptions> = {}): Promise<void> {
    psp = createPspServer({ dataDir: data.dir, webhookUrl: receiver.url, webhookSecret, asyncDelayMs: 150, timeoutDelayMs: 3_000, log: () => undefined, ...options });
    await psp.listen(0);
  }

  function simulatorGateway(options: Partial<SimulatorGatewayOptions> = {}): PaymentGateway {
    return createSimulatorGateway({ baseUrl: psp.url, timeoutMs: 500, webhookSecret, retryDelayMs: 10, ...options });
  }

  function service(options: Partial<SimulatorGatewayOptions> = {}): PaymentsService {
    return createPaymentsService({ pool: testPool(), gateway: simulatorGateway(options) });
  }

  /** The simulator gateway, counting its cancel calls. */
  function countingCancels(gateway: PaymentGateway): { gateway: PaymentGateway; cancels: () => number } {
    let cancels = 0;
    return {
      gateway: {
        ...gateway,
        cancel: (req) => {
          cancels += 1;
          return gateway.cancel(req);
        },
      },
      cancels: () => cancels,
    };
  }

  const pspStatusOf = async (paymentId: string): Promise<string> => (await call<{ status: string }>(psp.url, 'GET', `/v1/payment_intents/${paymentId}`)).body.status;

  async function pspChargesOf(orderId: string): Promise<{ id: string; status: string }[]> {
    return (await call<{ data: { id: string; status: string }[] }>(psp.url, 'GET', `/v1/payment_intents?order_id=${encodeURIComponent(orderId)}`)).body.data;
  }

  beforeEach(async () => {
    data = tempDataDir();
    receiver = await startWebhookReceiver();
    await startPsp();
  });

  afterEach(async () => {
    await psp.close();
    await receiver.close();
    data.remove();
  });

  describe('charge', () => {
    it('charges tok_visa once however often it is called', async () => {
      const payments = service();
      const orderId = uniqueId('ord');
      const first = await payments.charge(orderId, 7722, 'USD', 'tok_visa');
      assert.equal(first.status, 'succeeded');
      const again = await Promise.all([1, 2, 3].map(() => payments.charge(orderId, 7722, 'USD', 'tok_visa')));
      assert.ok(again.every((r) => r.paymentId === first.paymentId));
      assert.equal((await pspChargesOf(orderId)).length, 1);
      const record = await payments.getPayment(orderId);
      assert.equal(record?.status, 'succeeded');
      assert.equal(record?.idempotencyKey, `charge:${orderId}`);
    });

    it('turns tok_chargeDeclined into a non-retryable PAYMENT_DECLINED, also on repeat', async () => {
      const payments = service();
      const orderId = uniqueId('ord');
      await assert.rejects(payments.charge(orderId, 500, 'USD', 'tok_chargeDeclined'), isCode('PAYMENT_DECLINED', 'refused'));
      await assert.rejects(payments.charge(orderId, 500, 'USD', 'tok_chargeDeclined'), isCode('PAYMENT_DECLINED'));
      assert.equal((await pspChargesOf(orderId)).length, 1);
      assert.equal((await payments.getPayment(orderId))?.status, 'declined');
      await assert.rejects(payments.charge(uniqueId('ord'), 500, 'USD', 'tok_unknown'), isCode('PAYMENT_DECLINED'));
    });

    it('charges tok_timeout exactly once: the retry with the same key finds the charge', async () => {
      const orderId = uniqueId('ord');
      const result = await service().charge(orderId, 900, 'USD', 'tok_timeout');
      assert.equal(result.status, 'succeeded');
      const charges = await pspChargesOf(orderId);
      assert.deepEqual(charges.map((c) => c.id), [result.paymentId]);
    });

    it('survives a tok_timeout that exhausts its own attempts: the next call (a Temporal retry) finds the charge', async () => {
      const payments = service({ attemptsMax: 1 });
      const orderId = uniqueId('ord');
      await assert.rejects(payments.charge(orderId, 900, 'USD', 'tok_timeout'), isTransient);
      assert.equal((await payments.getPayment(orderId))?.status, 'pending');
      const result = await payments.charge(orderId, 900, 'USD', 'tok_timeout');
      assert.equal(result.status, 'succeeded');
      assert.equal((await pspChargesOf(orderId)).length, 1);
    });

    it('reports tok_async as processing, then succeeded once the PSP settles it', async () => {
      const payments = service();
      const orderId = uniqueId('ord');
      assert.equal((await payments.charge(orderId, 300, 'USD', 'tok_async')).status, 'processing');
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal((await payments.getPayment(orderId, { refresh: false }))?.status, 'processing', 'nothing told us yet');
      assert.equal((await payments.getPayment(orderId))?.status, 'succeeded', 'refreshed from the PSP');
      assert.equal((await payments.charge(orderId, 300, 'USD', 'tok_async')).status, 'succeeded');
    });

    it('reports tok_asyncFail as processing, then PAYMENT_DECLINED after the failure webhook', async () => {
      const payments = service();
      const orderId = uniqueId('ord');
      assert.equal((await payments.charge(orderId, 300, 'USD', 'tok_asyncFail')).status, 'processing');
      const [hook] = await receiver.waitFor(1, (h) => h.event.data.orderId === orderId);
      const outcome = await payments.handleWebhook(hook!.rawBody, String(hook!.headers['payment-signature']));
      assert.deepEqual([outcome.event?.type, outcome.isNew, outcome.applied], ['payment.failed', true, true]);
      await assert.rejects(payments.charge(orderId, 300, 'USD', 'tok_asyncFail'), isCode('PAYMENT_DECLINED'));
    });

    it('treats a PSP outage as transient and charges once when it is back', async () => {
      await psp.close();
      await startPsp({ faultRate: 1 });
      const orderId = uniqueId('ord');
      await assert.rejects(service().charge(orderId, 400, 'USD', 'tok_visa'), isTransient);
      await psp.close();
      await startPsp({ faultAfterCommitRate: 1 });
      await assert.rejects(service({ attemptsMax: 1 }).charge(orderId, 400, 'USD', 'tok_visa'), isTransient);
      await psp.close();
      await startPsp();
      assert.equal((await service().charge(orderId, 400, 'USD', 'tok_visa')).status, 'succeeded');
      assert.equal((await pspChargesOf(orderId)).length, 1);
    });

    it('refuses the same order with another amount, and bad input', async () => {
      const payments = service();
      const orderId = uniqueId('ord');
      await payments.charge(orderId, 100, 'USD', 'tok_visa');
      await assert.rejects(payments.charge(orderId, 101, 'USD', 'tok_visa'), isCode('IDEMPOTENCY_KEY_REUSED', 'conflict'));
      await assert.rejects(payments.charge(orderId, 1.5, 'USD', 'tok_visa'), ValidationError);
      await assert.rejects(payments.charge('', 100, 'USD', 'tok_visa'), ValidationError);
      await assert.rejects(payments.charge(uniqueId('ord'), 100, 'usd', 'tok_visa'), ValidationError);
    });

    it('settles a zero total without the PSP', async () => {
      const payments = service();
      const orderId = uniqueId('ord');
      const result = await payments.charge(orderId, 0, 'USD', 'tok_chargeDeclined');
      assert.deepEqual([result.status, result.paymentId], ['succeeded', null]);
      assert.equal((await pspChargesOf(orderId)).length, 0);
    });
  });

  describe('settleOrCancel', () => {
    it('cancels a payment still processing at the PSP, once, and answers the same on repeat', async () => {
      await psp.close();
      await startPsp({ asyncDelayMs: 60_000 });
      const { gateway, cancels } = countingCancels(simulatorGateway());
      const payments = createPaymentsService({ pool: testPool(), gateway });
      const orderId = uniqueId('ord');
      const charged = await payments.charge(orderId, 300, 'USD', 'tok_async');
      assert.deepEqual(await payments.settleOrCancel(orderId), { orderId, paymentId: charged.paymentId, status: 'canceled' });
      assert.equal(await pspStatusOf(charged.paymentId!), 'canceled');
      const again = await Promise.all([payments.settleOrCancel(orderId), payments.settleOrCancel(orderId)]);
      assert.ok(again.every((r) => r.status === 'canceled'));
      assert.equal(cancels(), 1, 'one cancel at the PSP');
      const record = await payments.getPayment(orderId, { refresh: true });
      assert.deepEqual([record?.status, record?.refundedMinor], ['canceled', 0]);
      await assert.rejects(payments.charge(orderId, 300, 'USD', 'tok_async'), isCode('PAYMENT_TIMEOUT', 'refused'));
      await assert.rejects(payments.refund(orderId, 'seller_a', 100), isCode('INVALID_STATE', 'conflict'));
      await assert.rejects(payments.payout(orderId, 'seller_a', 100), isCode('INVALID_STATE'));
    });

    it('answers succeeded for a payment that succeeded without its webhook reaching us', async () => {
      const payments = service();
      const orderId = uniqueId('ord');
      const charged = await payments.charge(orderId, 300, 'USD', 'tok_async');
      await receiver.waitFor(1, (h) => h.event.data.orderId === orderId && h.event.type === 'payment.succeeded');
      assert.equal((await payments.getPayment(orderId, { refresh: false }))?.status, 'processing', 'the webhook was not handled');
      assert.deepEqual(await payments.settleOrCancel(orderId), { orderId, paymentId: charged.paymentId, status: 'succeeded' });
      assert.equal((await payments.getPayment(orderId, { refresh: false }))?.status, 'succeeded');
      assert.equal(await pspStatusOf(charged.paymentId!), 'succeeded');
    });

    it('answers succeeded when the cancel loses the race against the success', async () => {
      const real = simulatorGateway();
      let stale = true;
      // Our refresh still sees "processing"; by the time the cancel arrives the PSP has settled it.
      const racing: PaymentGateway = {
        ...real,
        async getCharge(paymentId) {
          const charge = await real.getCharge(paymentId);
          if (!stale) return charge;
          stale = false;
          return { ...charge, status: 'processing' };
        },
      };
      const payments = createPaymentsService({ pool: testPool(), gateway: racing });
      const orderId = uniqueId('ord');
      await payments.charge(orderId, 300, 'USD', 'tok_async');
      await receiver.waitFor(1, (h) => h.event.data.orderId === orderId && h.event.type === 'payment.succeeded');
      assert.equal((await payments.settleOrCancel(orderId)).status, 'succeeded');
      assert.equal((await payments.getPayment(orderId, { refresh: false }))?.status, 'succeeded');
      assert.equal((await payments.settleOrCancel(orderId)).status, 'succeeded', 'and again');
    });

    it('answers failed for a declined or failed payment, none without one, succeeded for a paid or zero total', async () => {
      const payments = service();
      const declined = uniqueId('ord');
      await assert.rejects(payments.charge(declined, 300, 'USD', 'tok_chargeDeclined'));
      assert.equal((await payments.settleOrCancel(declined)).status, 'failed');
      const failed = uniqueId('ord');
      await payments.charge(failed, 300, 'USD', 'tok_asyncFail');
      await receiver.waitFor(1, (h) => h.event.data.orderId === failed);
      assert.equal((await payments.settleOrCancel(failed)).status, 'failed');
      assert.equal((await payments.getPayment(failed, { refresh: false }))?.status, 'failed');
      const none = uniqueId('ord');
      assert.deepEqual(await payments.settleOrCancel(none), { orderId: none, paymentId: null, status: 'none' });
      const paid = uniqueId('ord');
      await payments.charge(paid, 300, 'USD', 'tok_visa');
      assert.equal((await payments.settleOrCancel(paid)).status, 'succeeded');
      const free = uniqueId('ord');
      await payments.charge(free, 0, 'USD', 'tok_visa');
      assert.deepEqual(await payments.settleOrCancel(free), { orderId: free, paymentId: null, status: 'succeeded' });
      await assert.rejects(payments.settleOrCancel(''), ValidationError);
    });

    it('is retryable while the PSP is unreachable, and cancels once it is back', async () => {
      await psp.close();
      await startPsp({ asyncDelayMs: 60_000 });
      const orderId = uniqueId('ord');
      const charged = await service().charge(orderId, 300, 'USD', 'tok_async');
      await psp.close();
      await startPsp({ asyncDelayMs: 60_000, faultRate: 1 });
      await assert.rejects(service().settleOrCancel(orderId), isTransient);
      assert.equal((await service().getPayment(orderId, { refresh: false }))?.status, 'processing');
      await psp.close();
      await startPsp({ asyncDelayMs: 60_000, faultAfterCommitRate: 1 });
      await assert.rejects(service({ attemptsMax: 1 }).settleOrCancel(orderId), isTransient, 'cancelled at the PSP, answer lost');
      assert.equal(await pspStatusOf(charged.paymentId!), 'canceled');
      await psp.close();
      await startPsp({ asyncDelayMs: 60_000 });
      assert.equal((await service().settleOrCancel(orderId)).status, 'canceled', 'the retry finds the cancellation');
    });

    it('is retryable (not an answer) while the charge call itself has not completed', async () => {
      const orderId = uniqueId('ord');
      const unreachable: PaymentGateway = { ...simulatorGateway(), charge: () => Promise.reject(new Error('PSP unreachable')) };
      const payments = createPaymentsService({ pool: testPool(), gateway: unreachable });
      await assert.rejects(payments.charge(orderId, 300, 'USD', 'tok_visa'), isTransient);
      await assert.rejects(payments.settleOrCancel(orderId), (err: unknown) => isTransient(err) && /pending/.test((err as Error).message));
    });
  });

  describe('refund and payout', () => {
    it('refunds parcels idempotently and never more than the charge', async () => {
      const payments = service();
      const orderId = uniqueId('ord');
      await payments.charge(orderId, 1000, 'USD', 'tok_visa');
      const first = await payments.refund(orderId, 'seller_a', 600);
      assert.equal(first.status, 'succeeded');
      assert.equal((await payments.refund(orderId, 'seller_a', 600)).refundId, first.refundId);
      await assert.rejects(payments.refund(orderId, 'seller_a', 500), isCode('IDEMPOTENCY_KEY_REUSED'));
      await assert.rejects(payments.refund(orderId, 'seller_b', 401), isCode('REFUND_EXCEEDS_CHARGE', 'refused'));
      assert.equal((await payments.refund(orderId, 'seller_b', 400)).status, 'succeeded');
      assert.equal((await payments.getPayment(orderId))?.refundedMinor, 1000);
      const refunds = await call<{ data: { amount: number }[] }>(psp.url, 'GET', `/v1/refunds?payment_intent=${(await payments.getPayment(orderId))!.paymentId}`);
      assert.deepEqual(refunds.body.data.map((r) => r.amount).sort(), [400, 600]);
      assert.equal((await payments.refund(orderId, 'seller_c', 0)).status, 'succeeded', 'a zero refund is a no-op');
    });

    it('lets concurrent refunds of different parcels add up to the charge at most', async () => {
      const payments = service();
      const orderId = uniqueId('ord');
      await payments.charge(orderId, 1000, 'USD', 'tok_visa');
      const results = await Promise.allSettled(['s1', 's2', 's3', 's4', 's5'].map((s) => payments.refund(orderId, s, 300)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
      for (const r of results) if (r.status === 'rejected') isCode('REFUND_EXCEEDS_CHARGE')(r.reason);
      assert.equal((await payments.getPayment(orderId))?.refundedMinor, 900);
    });

    it('refuses to refund an order without a successful charge', async () => {
      const payments = service();
      await assert.rejects(payments.refund(uniqueId('ord'), 's1', 100), isCode('NOT_FOUND'));
      const orderId = uniqueId('ord');
      await assert.rejects(payments.charge(orderId, 500, 'USD', 'tok_chargeDeclined'));
      await assert.rejects(payments.refund(orderId, 's1', 100), isCode('INVALID_STATE', 'conflict'));
    });

    it('surfaces a refused refund as non-retryable REFUND_REFUSED and keeps it reserved for a later retry', async () => {
      const payments = service();
      const disputed = uniqueId('ord');
      await payments.charge(disputed, 1000, 'USD', 'tok_refundFail');
      const refused = (err: unknown, pspCode: string): boolean => isCode('REFUND_REFUSED', 'refused')(err) && (err as AppError).details.pspCode === pspCode;
      await assert.rejects(payments.refund(disputed, 'seller_a', 400), (err) => refused(err, 'charge_disputed'));
      await assert.rejects(payments.refund(disputed, 'seller_a', 400), (err) => refused(err, 'charge_disputed'));
      assert.equal((await payments.getPayment(disputed))?.refundedMinor, 400, 'still owed to the buyer');

      const orderId = uniqueId('ord');
      await payments.charge(orderId, 1000, 'USD', 'tok_visa');
      psp.updateTestSettings({ refuseRefunds: true });
      await assert.rejects(payments.refund(orderId, 'seller_a', 400), (err) => refused(err, 'refund_failed'));
      await call(psp.url, 'POST', '/v1/test/settings', { body: { refuseRefunds: false } });
      const retried = await payments.refund(orderId, 'seller_a', 400);
      assert.equal(retried.status, 'succeeded', 'the same key goes through once the PSP accepts');
      assert.equal((await payments.getPayment(orderId))?.refundedMinor, 400);
    });

    it('keeps a refund that failed for a transient reason retryable', async () => {
      const orderId = uniqueId('ord');
      await service().charge(orderId, 1000, 'USD', 'tok_visa');
      await psp.close();
      await startPsp({ faultRate: 1 });
      await assert.rejects(service().refund(orderId, 'seller_a', 300), isTransient);
      await psp.close();
      await startPsp();
      assert.equal((await service().refund(orderId, 'seller_a', 300)).status, 'succeeded');
    });

    it('gives the reservation back when the PSP reports a refund failed', async () => {
      const real = simulatorGateway();
      const failing: PaymentGateway = { ...real, refund: (req) => Promise.resolve({ refundId: uniqueId('re_failed'), status: 'failed', amountMinor: req.amountMinor }) };
      const payments = createPaymentsService({ pool: testPool(), gateway: failing });
      const orderId = uniqueId('ord');
      await payments.charge(orderId, 1000, 'USD', 'tok_visa');
      await assert.rejects(payments.refund(orderId, 'seller_a', 400), isCode('REFUND_REFUSED'));
      assert.equal((await payments.getPayment(orderId))?.refundedMinor, 0);
      await assert.rejects(payments.refund(orderId, 'seller_a', 400), isCode('REFUND_REFUSED'), 'final for that refund');
      assert.equal((await service().refund(orderId, 'seller_b', 1000)).status, 'succeeded', 'the amount can be refunded otherwise');
    });

    it('surfaces a refused payout as non-retryable PAYOUT_REFUSED, retryable later with the same key; no account is PAYOUT_PENDING', async () => {
      const payments = service();
      const orderId = uniqueId('ord');
      await payments.charge(orderId, 1000, 'USD', 'tok_visa');
      psp.updateTestSettings({ refusePayouts: true });
      await assert.rejects(payments.payout(orderId, 'seller_a', 800), isCode('PAYOUT_REFUSED', 'refused'));
      psp.updateTestSettings({ refusePayouts: false });
      assert.match((await payments.payout(orderId, 'seller_a', 800)).transferId ?? '', /^tr_/);
      // A seller without an account: not a refusal but a payout that waits (awaiting_account) for one.
      const noAccount = service({ sellerDestination: () => undefined });
      await assert.rejects(noAccount.payout(orderId, 'seller_b', 100), isCode('PAYOUT_PENDING', 'refused'));
      assert.deepEqual((await noAccount.unpaidPayouts('seller_b')).filter((p) => p.orderId === orderId).map((p) => [p.status, p.destination, p.amountMinor]), [['awaiting_account', null, 100]]);
    });

    it('pays a parcel out once', async () => {
      const payments = service();
      const orderId = uniqueId('ord');
      await payments.charge(orderId, 1000, 'USD', 'tok_visa');
      const first = await payments.payout(orderId, 'seller_a', 800);
      assert.match(first.transferId ?? '', /^tr_/);
      assert.equal((await payments.payout(orderId, 'seller_a', 800)).transferId, first.transferId);
      await assert.rejects(payments.payout(orderId, 'seller_a', 801), isCode('IDEMPOTENCY_KEY_REUSED'));
    });
  });
});
