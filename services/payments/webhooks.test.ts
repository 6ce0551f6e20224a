import assert from 'node:assert/strict';
import { AppError, ValidationError } from '../../lib/errors';
import { createPspServer, type PspServer } from '../../simulators/psp/server';
import { startWebhookReceiver, tempDataDir, type WebhookReceiver } from '../../simulators/psp/testing';
import { testPool, uniqueId } from '../../test/support/env';
import { createPaymentsService, type PaymentsService } from './service';
import { createSimulatorGateway } from './simulator-gateway';
import type { PaymentEvent, PaymentGateway } from './types';
import { signPaymentPayload, verifyPaymentSignature } from './webhook-signature';

const secret = 'whsec_test_webhooks';
const nowSec = (): number => Math.floor(Date.now() / 1000);

function isInvalidSignature(err: unknown): boolean {
  return err instanceof AppError && err.code === 'INVALID_SIGNATURE' && err.kind === 'validation';
}

function eventFor(orderId: string, paymentId: string, fields: Partial<PaymentEvent> = {}): PaymentEvent {
  return { id: uniqueId('evt'), type: 'payment.succeeded', created: nowSec(), data: { paymentId, orderId, amount: 300, currency: 'USD' }, ...fields };
}

describe('payment webhook signatures', () => {
  const body = JSON.stringify(eventFor('o1', 'pi_1'));

  it('accepts a valid signature, and any matching v1 among several', () => {
    verifyPaymentSignature(body, signPaymentPayload(secret, nowSec(), body), secret);
    const t = nowSec();
    const valid = signPaymentPayload(secret, t, body).split(',')[1]!;
    verifyPaymentSignature(Buffer.from(body), `t=${t},v1=${'0'.repeat(64)},${valid}`, secret);
  });

  it('rejects a tampered body, a wrong secret, a stale or future timestamp, and malformed headers', () => {
    const header = signPaymentPayload(secret, nowSec(), body);
    assert.throws(() => verifyPaymentSignature(body.replace('300', '301'), header, secret), isInvalidSignature);
    assert.throws(() => verifyPaymentSignature(body, signPaymentPayload('whsec_wrong', nowSec(), body), secret), isInvalidSignature);
    assert.throws(() => verifyPaymentSignature(body, signPaymentPayload(secret, nowSec() - 301, body), secret), isInvalidSignature);
    assert.throws(() => verifyPaymentSignature(body, signPaymentPayload(secret, nowSec() + 301, body), secret), isInvalidSignature);
    verifyPaymentSignature(body, signPaymentPayload(secret, nowSec() - 299, body), secret);
    for (const bad of [undefined, '', 'garbage', `t=${nowSec()}`, 'v1=abc', `t=abc,v1=${'0'.repeat(64)}`, `t=${nowSec()},v1=zz`]) {
      assert.throws(() => verifyPaymentSignature(body, bad, secret), isInvalidSignature, String(bad));
    }
  });
});

describe('payment webhooks @integration', () => {
  let data: ReturnType<typeof tempDataDir>;
  let receiver: WebhookReceiver;
  let psp: PspServer;
  let gateway: PaymentGateway;
  let payments: PaymentsService;

  const deliver = (event: PaymentEvent | string, signWith = secret, timestamp = nowSec()) => {
    const raw = typeof event === 'string' ? event : JSON.stringify(event);
    return payments.handleWebhook(Buffer.from(raw), signPaymentPayload(signWith, timestamp, raw));
  };

  /** An order whose tok_async payment stays processing (the simulator settles it much later). */
  async function processingOrder(): Promise<{ orderId: string; paymentId: string }> {
    const orderId = uniqueId('ord');
    const result = await payments.charge(orderId, 300, 'USD', 'tok_async');
    return { orderId, paymentId: result.paymentId! };
  }

  beforeEach(async () => {
    data = tempDataDir();
    receiver = await startWebhookReceiver();
    psp = createPspServer({ dataDir: data.dir, webhookUrl: receiver.url, webhookSecret: secret, asyncDelayMs: 600_000, log: () => undefined });
    await psp.listen(0);
    gateway = createSimulatorGateway({ baseUrl: psp.url, timeoutMs: 2_000, webhookSecret: secret });
    payments = createPaymentsService({ pool: testPool(), gateway });
  });

  afterEach(async () => {
    await psp.close();
    await receiver.close();
    data.remove();
  });

  it('applies a valid event once, however often it is delivered', async () => {
    const { orderId, paymentId } = await processingOrder();
    const event = eventFor(orderId, paymentId);
    const first = await deliver(event);
    assert.deepEqual([first.isNew, first.applied, first.knownOrder], [true, true, true]);
    assert.equal((await payments.getPayment(orderId, { refresh: false }))?.status, 'succeeded');
    const replays = await Promise.all([deliver(event), deliver(event)]);
    assert.ok(replays.every((r) => !r.isNew && !r.applied), 'a replayed event id has no second effect');
    assert.equal(await payments.recordWebhookEvent(event), false);
  });

  it('changes nothing for a tampered body, a wrong secret or a stale timestamp', async () => {
    const { orderId, paymentId } = await processingOrder();
    const event = eventFor(orderId, paymentId);
    const raw = JSON.stringify(event);
    const header = signPaymentPayload(secret, nowSec(), raw);
    await assert.rejects(payments.handleWebhook(raw.replace(paymentId, 'pi_forged'), header), isInvalidSignature);
    await assert.rejects(deliver(event, 'whsec_wrong'), isInvalidSignature);
    await assert.rejects(deliver(event, secret, nowSec() - 400), isInvalidSignature);
    await assert.rejects(payments.handleWebhook(raw, undefined), isInvalidSignature);
    assert.equal((await payments.getPayment(orderId, { refresh: false }))?.status, 'processing');
    assert.equal(await payments.recordWebhookEvent(event), true, 'none of them was recorded');
  });

  it('keeps an event for an unknown order without effect', async () => {
    const orderId = uniqueId('ord-unknown');
    const outcome = await deliver(eventFor(orderId, 'pi_unknown'));
    assert.deepEqual([outcome.isNew, outcome.applied, outcome.knownOrder], [true, false, false]);
    assert.equal(await payments.getPayment(orderId), null);
  });

  it('does not let a payment move backwards or take another PSP payment id', async () => {
    const { orderId, paymentId } = await processingOrder();
    // (A *succeeded* event with another payment id would be a double charge: the auditor flags those,
    // so this shared test database only ever receives a failed one.)
    assert.equal((await deliver(eventFor(orderId, 'pi_other', { type: 'payment.failed' }))).applied, false, 'another payment id');
    assert.equal((await deliver(eventFor(orderId, paymentId, { data: { paymentId, orderId, amount: 299, currency: 'USD' } }))).applied, false, 'another amount');
    assert.equal((await deliver(eventFor(orderId, paymentId))).applied, true);
    assert.equal((await deliver(eventFor(orderId, paymentId, { type: 'payment.failed' }))).applied, false, 'succeeded is final');
    // An order whose charge is still pending (the PSP was unreachable) must not adopt another order's payment.
    const pendingOrder = uniqueId('ord');
    const unreachable: PaymentGateway = { ...gateway, charge: () => Promise.reject(new Error('PSP unreachable')) };
    await assert.rejects(createPaymentsService({ pool: testPool(), gateway: unreachable }).charge(pendingOrder, 300, 'USD', 'tok_visa'));
    const stolen = await deliver(eventFor(pendingOrder, paymentId, { type: 'payment.failed' }));
    assert.equal(stolen.applied, false, "another order's payment id");
    assert.equal((await payments.getPayment(pendingOrder))?.status, 'pending');
    assert.equal((await payments.getPayment(orderId, { refresh: false }))?.status, 'succeeded');
  });

  it('uses an outcome that arrived by webhook before the charge call returned', async () => {
    const orderId = uniqueId('ord');
    const paymentId = uniqueId('pi_race');
    const racing: PaymentGateway = {
      ...gateway,
      // The PSP answers "processing", but its success webhook overtakes the answer.
      async charge(req) {
        await deliver(eventFor(req.orderId, paymentId, { data: { paymentId, orderId: req.orderId, amount: req.amountMinor, currency: req.currency } }));
        return { paymentId, status: 'processing', amountMinor: req.amountMinor, currency: req.currency, declineCode: null };
      },
    };
    const result = await createPaymentsService({ pool: testPool(), gateway: racing }).charge(orderId, 300, 'USD', 'tok_async');
    assert.equal(result.status, 'succeeded');
  });

  it('lets no webhook change a payment cancelled by settleOrCancel', async () => {
    const { orderId, paymentId } = await processingOrder();
    assert.equal((await payments.settleOrCancel(orderId)).status, 'canceled');
    // The simulator announces the cancellation as payment.canceled: acknowledged, ignored, not recorded.
    const [hook] = await receiver.waitFor(1, (h) => h.event.type === 'payment.canceled' && h.event.data.orderId === orderId);
    const announced = await payments.handleWebhook(hook!.rawBody, String(hook!.headers['payment-signature']));
    assert.deepEqual([announced.event, announced.applied], [undefined, false]);
    const failed = await deliver(eventFor(orderId, paymentId, { type: 'payment.failed' }));
    assert.deepEqual([failed.isNew, failed.applied, failed.knownOrder], [true, false, true]);
    assert.equal((await payments.getPayment(orderId))?.status, 'canceled');
    assert.equal((await payments.settleOrCancel(orderId)).status, 'canceled');
  });

  it('rejects a signed body that is not a payment event, and ignores unknown types', async () => {
    await assert.rejects(deliver('{not json'), ValidationError);
    await assert.rejects(deliver(JSON.stringify({ id: 'evt_x', type: 'payment.succeeded', created: 1, data: {} })), ValidationError);
    const ignored = await deliver(JSON.stringify({ id: 'evt_y', type: 'payout.paid', created: 1, data: {} }));
    assert.equal(ignored.event, undefined);
  });

  it('accepts what the simulator really sends', async () => {
    const orderId = uniqueId('ord');
    await payments.charge(orderId, 500, 'USD', 'tok_visa');
    const [hook] = await receiver.waitFor(1, (h) => h.event.data.orderId === orderId);
    const outcome = await payments.handleWebhook(hook!.rawBody, String(hook!.headers[gateway.signatureHeader]));
    assert.deepEqual([outcome.event?.type, outcome.isNew, outcome.knownOrder], ['payment.succeeded', true, true]);
    assert.equal(outcome.forSaga, false, 'the charge answered succeeded at once: the saga knows, no signal needed');
    await payments.refund(orderId, 'seller_a', 200);
    const [refundHook] = await receiver.waitFor(1, (h) => h.event.type === 'refund.succeeded' && h.event.data.orderId === orderId);
    const refundOutcome = await payments.handleWebhook(refundHook!.rawBody, String(refundHook!.headers['payment-signature']));
    assert.deepEqual([refundOutcome.event?.data.sellerId, refundOutcome.isNew], ['seller_a', true]);
    assert.equal(refundOutcome.forSaga, false, 'refund events are never signalled');
  });

  it('marks the outcome of an asynchronous payment for the saga, a repeated delivery too', async () => {
    const { orderId, paymentId } = await processingOrder();
    const event = eventFor(orderId, paymentId);
    const first = await deliver(event);
    assert.deepEqual([first.applied, first.forSaga], [true, true]);
    const again = await deliver(event);
    assert.deepEqual([again.isNew, again.forSaga], [false, true], 'a retried delivery still reaches the saga (its first signal may have failed)');
  });
});
