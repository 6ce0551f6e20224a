import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { loadPspConfig } from './config';
import { createPspServer, type PspServer, type PspServerOptions } from './server';
import { call, startWebhookReceiver, tempDataDir, type WebhookReceiver } from './testing';

const secret = 'whsec_test_simulator';

interface Intent {
  id: string;
  status: string;
  amount: number;
  amount_refunded: number;
  currency: string;
  canceled_at: number | null;
  cancellation_reason: string | null;
}

interface ApiError {
  error: { type: string; code: string; message: string; payment_intent?: Intent };
}

const errorCode = (res: { body: unknown }): string | undefined => (res.body as ApiError).error?.code;

describe('PSP simulator', () => {
  let receiver: WebhookReceiver;
  let data: ReturnType<typeof tempDataDir>;
  const servers: PspServer[] = [];

  async function start(options: Partial<PspServerOptions> = {}): Promise<PspServer> {
    const psp = createPspServer({
      dataDir: data.dir,
      webhookUrl: receiver.url,
      webhookSecret: secret,
      asyncDelayMs: 100,
      timeoutDelayMs: 1_000,
      webhookRetryBaseMs: 20,
      log: () => undefined,
      ...options,
    });
    servers.push(psp);
    await psp.listen(0);
    return psp;
  }

  const charge = (psp: PspServer, key: string, body: Record<string, unknown>, timeoutMs?: number) =>
    call<Intent>(psp.url, 'POST', '/v1/payment_intents', { idempotencyKey: key, body, timeoutMs });

  beforeEach(async () => {
    data = tempDataDir();
    receiver = await startWebhookReceiver();
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await receiver.close();
    data.remove();
  });

  describe('idempotency keys', () => {
    it('replays the same result for the same key and parameters, in any key order', async () => {
      const psp = await start();
      const first = await charge(psp, 'k1', { amount: 500, currency: 'USD', payment_method: 'tok_visa', metadata: { orderId: 'o1' } });
      const again = await charge(psp, 'k1', { metadata: { orderId: 'o1' }, payment_method: 'tok_visa', currency: 'USD', amount: 500 });
      assert.equal(first.status, 200);
      assert.deepEqual(again.body, first.body);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      const list = await call<{ data: Intent[] }>(psp.url, 'GET', '/v1/payment_intents?order_id=o1');
      assert.equal(list.body.data.length, 1, 'charged once');
    });

    it('answers 409 for the same key with different parameters or on another endpoint', async () => {
      const psp = await start();
      await charge(psp, 'k1', { amount: 500, currency: 'USD', payment_method: 'tok_visa', metadata: { orderId: 'o1' } });
      const changed = await charge(psp, 'k1', { amount: 501, currency: 'USD', payment_method: 'tok_visa', metadata: { orderId: 'o1' } });
      assert.equal(changed.status, 409);
      assert.equal((changed.body as unknown as { error: { type: string } }).error.type, 'idempotency_error');
      const elsewhere = await call(psp.url, 'POST', '/v1/refunds', { idempotencyKey: 'k1', body: { payment_intent: 'pi_x' } });
      assert.equal(elsewhere.status, 409);
    });

    it('requires a key, and stores nothing for a request refused by validation', async () => {
      const psp = await start();
      const missing = await call(psp.url, 'POST', '/v1/payment_intents', { body: { amount: 1, currency: 'USD', payment_method: 'tok_visa' } });
      assert.equal(missing.status, 400);
      const invalid = await charge(psp, 'k2', { amount: 1.5, currency: 'USD', payment_method: 'tok_visa' });
      assert.equal(invalid.status, 400);
      const fixed = await charge(psp, 'k2', { amount: 2, currency: 'USD', payment_method: 'tok_visa' });
      assert.equal(fixed.status, 200, 'the key was not burnt by the invalid request');
      const unknownToken = await charge(psp, 'k3', { amount: 2, currency: 'USD', payment_method: 'tok_nope' });
      assert.equal(unknownToken.status, 400);
    });

    it('keeps keys for 24 hours', async () => {
      let now = Date.now();
      const psp = await start({ clock: () => now });
      const first = await charge(psp, 'k1', { amount: 500, currency: 'USD', payment_method: 'tok_visa' });
      now += 23 * 3600_000;
      assert.equal((await charge(psp, 'k1', { amount: 500, currency: 'USD', payment_method: 'tok_visa' })).body.id, first.body.id);
      now += 2 * 3600_000;
      assert.notEqual((await charge(psp, 'k1', { amount: 500, currency: 'USD', payment_method: 'tok_visa' })).body.id, first.body.id);
    });
  });

  describe('test tokens', () => {
    it('tok_visa succeeds at once and announces it', async () => {
      const psp = await start();
      const res = await charge(psp, 'k', { amount: 700, currency: 'eur', payment_method: 'tok_visa', metadata: { orderId: 'o-visa' } });
      assert.equal(res.body.status, 'succeeded');
      assert.equal(res.body.currency, 'EUR');
      const [hook] = await receiver.waitFor(1);
      assert.deepEqual(hook!.event.data, { paymentId: res.body.id, orderId: 'o-visa', amount: 700, currency: 'EUR' });
      assert.equal(hook!.event.type, 'payment.succeeded');
    });

    it('tok_chargeDeclined is declined (402, replayed as such)', async () => {
      const psp = await start();
      const body = { amount: 700, currency: 'USD', payment_method: 'tok_chargeDeclined', metadata: { orderId: 'o-dec' } };
      const res = await charge(psp, 'k', body);
      assert.equal(res.status, 402);
      assert.equal((res.body as unknown as { error: { code: string } }).error.code, 'card_declined');
      assert.equal((await charge(psp, 'k', body)).status, 402);
      const [hook] = await receiver.waitFor(1);
      assert.equal(hook!.event.type, 'payment.failed');
    });

    it('tok_async is processing, then succeeds by webhook; tok_asyncFail fails by webhook', async () => {
      const psp = await start();
      const ok = await charge(psp, 'k1', { amount: 100, currency: 'USD', payment_method: 'tok_async', metadata: { orderId: 'o-a' } });
      const ko = await charge(psp, 'k2', { amount: 100, currency: 'USD', payment_method: 'tok_asyncFail', metadata: { orderId: 'o-b' } });
      assert.equal(ok.body.status, 'processing');
      assert.equal(ko.body.status, 'processing');
      const hooks = await receiver.waitFor(2);
      assert.deepEqual(hooks.map((h) => `${String(h.event.data.orderId)}:${h.event.type}`).sort(), ['o-a:payment.succeeded', 'o-b:payment.failed']);
      assert.equal((await call<Intent>(psp.url, 'GET', `/v1/payment_intents/${ok.body.id}`)).body.status, 'succeeded');
      assert.equal((await call<Intent>(psp.url, 'GET', `/v1/payment_intents/${ko.body.id}`)).body.status, 'requires_payment_method');
    });

    it('tok_timeout charges but never answers the first call; the same key then finds the charge', async () => {
      const psp = await start({ timeoutDelayMs: 5_000 });
      const body = { amount: 900, currency: 'USD', payment_method: 'tok_timeout', metadata: { orderId: 'o-t' } };
      await assert.rejects(charge(psp, 'charge:o-t', body, 300), /abort|timeout/i);
      const retry = await charge(psp, 'charge:o-t', body);
      assert.equal(retry.body.status, 'succeeded');
      const list = await call<{ data: Intent[] }>(psp.url, 'GET', '/v1/payment_intents?order_id=o-t');
      assert.deepEqual(list.body.data.map((i) => i.id), [retry.body.id]);
    });
  });

  describe('refunds', () => {
    it('allows partial refunds up to the captured amount, idempotently', async () => {
      const psp = await start();
      const pi = await charge(psp, 'c', { amount: 1000, currency: 'USD', payment_method: 'tok_visa', metadata: { orderId: 'o-r' } });
      const refund = (key: string, amount: number) => call(psp.url, 'POST', '/v1/refunds', { idempotencyKey: key, body: { payment_intent: pi.body.id, amount } });
      assert.equal((await refund('r1', 400)).status, 200);
      assert.equal((await refund('r1', 400)).headers.get('idempotent-replayed'), 'true');
      assert.equal((await refund('r2', 600)).status, 200);
      const over = await refund('r3', 1);
      assert.equal(over.status, 400);
      assert.equal((over.body as { error: { code: string } }).error.code, 'amount_too_large');
      assert.equal((await call<Intent>(psp.url, 'GET', `/v1/payment_intents/${pi.body.id}`)).body.amount_refunded, 1000);
      const hooks = await receiver.waitFor(2, (h) => h.event.type === 'refund.succeeded');
      assert.deepEqual(hooks.map((h) => h.event.data.amount).sort(), [400, 600]);
    });

    it('refuses to refund a payment that has not succeeded', async () => {
      const psp = await start({ asyncDelayMs: 60_000 });
      const pi = await charge(psp, 'c', { amount: 1000, currency: 'USD', payment_method: 'tok_async' });
      const res = await call(psp.url, 'POST', '/v1/refunds', { idempotencyKey: 'r', body: { payment_intent: pi.body.id, amount: 1 } });
      assert.equal(res.status, 400);
      const missing = await call(psp.url, 'POST', '/v1/refunds', { idempotencyKey: 'r2', body: { payment_intent: 'pi_missing', amount: 1 } });
      assert.equal(missing.status, 404);
    });
  });

  describe('cancel', () => {
    const cancel = (psp: PspServer, id: string, key?: string, body: Record<string, unknown> = { cancellation_reason: 'abandoned' }) =>
      call<Intent>(psp.url, 'POST', `/v1/payment_intents/${id}/cancel`, { body, ...(key === undefined ? {} : { idempotencyKey: key }) });
    const intentOf = async (psp: PspServer, id: string) => (await call<Intent>(psp.url, 'GET', `/v1/payment_intents/${id}`)).body;

    it('cancels a processing payment for good: its scheduled success never happens', async () => {
      const psp = await start({ asyncDelayMs: 150 });
      const pi = await charge(psp, 'c', { amount: 100, currency: 'USD', payment_method: 'tok_async', metadata: { orderId: 'o-c' } });
      const res = await cancel(psp, pi.body.id, 'cancel:o-c');
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'canceled');
      assert.equal(res.body.cancellation_reason, 'abandoned');
      assert.ok(typeof res.body.canceled_at === 'number');
      const [hook] = await receiver.waitFor(1, (h) => h.event.type === 'payment.canceled');
      assert.deepEqual(hook!.event.data, { paymentId: pi.body.id, orderId: 'o-c', amount: 100, currency: 'USD' });
      await sleep(400);
      assert.equal((await intentOf(psp, pi.body.id)).status, 'canceled', 'still canceled after the settlement time');
      assert.deepEqual(receiver.received.map((h) => h.event.type), ['payment.canceled'], 'no payment.succeeded');
      const refund = await call(psp.url, 'POST', '/v1/refunds', { idempotencyKey: 'r', body: { payment_intent: pi.body.id } });
      assert.equal(errorCode(refund), 'payment_intent_unexpected_state');
    });

    it('is idempotent: a canceled payment cancels again to the same answer, with or without the key', async () => {
      const psp = await start({ asyncDelayMs: 60_000 });
      const pi = await charge(psp, 'c', { amount: 100, currency: 'USD', payment_method: 'tok_asyncFail', metadata: { orderId: 'o-i' } });
      const first = await cancel(psp, pi.body.id, 'k');
      const replay = await cancel(psp, pi.body.id, 'k');
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(replay.body, first.body);
      const keyless = await cancel(psp, pi.body.id, undefined, {});
      assert.equal(keyless.status, 200);
      assert.equal(keyless.body.status, 'canceled');
      assert.equal(keyless.body.canceled_at, first.body.canceled_at);
      await sleep(100);
      assert.equal(receiver.received.filter((h) => h.event.type === 'payment.canceled').length, 1, 'announced once');
    });

    it('refuses to cancel a succeeded payment, and stores nothing under the key', async () => {
      const psp = await start();
      const pi = await charge(psp, 'c', { amount: 100, currency: 'USD', payment_method: 'tok_visa', metadata: { orderId: 'o-s' } });
      const res = await cancel(psp, pi.body.id, 'k');
      assert.equal(res.status, 400);
      assert.equal(errorCode(res), 'payment_intent_unexpected_state');
      assert.equal((res.body as unknown as ApiError).error.payment_intent?.status, 'succeeded');
      assert.equal(res.headers.get('idempotent-replayed'), null);
      assert.equal((await intentOf(psp, pi.body.id)).status, 'succeeded');
    });

    it('loses the race against a settlement that already happened', async () => {
      const psp = await start({ asyncDelayMs: 50 });
      const pi = await charge(psp, 'c', { amount: 100, currency: 'USD', payment_method: 'tok_async', metadata: { orderId: 'o-r' } });
      await receiver.waitFor(1, (h) => h.event.type === 'payment.succeeded');
      assert.equal(errorCode(await cancel(psp, pi.body.id, 'k')), 'payment_intent_unexpected_state');
      assert.equal((await intentOf(psp, pi.body.id)).status, 'succeeded');
    });

    it('cancels a declined payment, refuses a bad reason, another payment under the same key and an unknown id', async () => {
      const psp = await start({ asyncDelayMs: 60_000 });
      const declined = await charge(psp, 'c1', { amount: 100, currency: 'USD', payment_method: 'tok_chargeDeclined' });
      const declinedId = (declined.body as unknown as ApiError).error.payment_intent!.id;
      assert.equal((await cancel(psp, declinedId, 'k1')).body.status, 'canceled');
      const other = await charge(psp, 'c2', { amount: 100, currency: 'USD', payment_method: 'tok_async' });
      assert.equal((await cancel(psp, other.body.id, 'k2', { cancellation_reason: 'bored' })).status, 400);
      assert.equal((await cancel(psp, other.body.id, 'k1')).status, 409, 'the key of another cancel');
      assert.equal((await cancel(psp, 'pi_missing', 'k3')).status, 404);
      assert.equal((await intentOf(psp, other.body.id)).status, 'processing', 'none of these cancelled it');
    });

    it('keeps a cancellation across a restart: the settlement is not rescheduled', async () => {
      let psp = await start({ asyncDelayMs: 300 });
      const pi = await charge(psp, 'c', { amount: 100, currency: 'USD', payment_method: 'tok_async', metadata: { orderId: 'o-p' } });
      await cancel(psp, pi.body.id, 'k');
      await psp.close();
      psp = await start({ asyncDelayMs: 300 });
      await sleep(500);
      assert.equal((await intentOf(psp, pi.body.id)).status, 'canceled');
      assert.equal(receiver.received.filter((h) => h.event.type === 'payment.succeeded').length, 0);
      assert.equal((await cancel(psp, pi.body.id, 'k')).headers.get('idempotent-replayed'), 'true', 'the key survives too');
    });
  });

  describe('refusals for tests', () => {
    const refund = (psp: PspServer, paymentIntent: string, key: string, amount = 100) =>
      call(psp.url, 'POST', '/v1/refunds', { idempotencyKey: key, body: { payment_intent: paymentIntent, amount } });
    const transfer = (psp: PspServer, key: string) =>
      call(psp.url, 'POST', '/v1/transfers', { idempotencyKey: key, body: { amount: 100, currency: 'USD', destination: 'acct_sim_x' } });

    it('tok_refundFail charges, but its refunds are refused (charge_disputed), without burning the key', async () => {
      const psp = await start();
      const pi = await charge(psp, 'c', { amount: 500, currency: 'USD', payment_method: 'tok_refundFail', metadata: { orderId: 'o-d' } });
      assert.equal(pi.body.status, 'succeeded');
      const refused = await refund(psp, pi.body.id, 'r');
      assert.equal(refused.status, 400);
      assert.equal(errorCode(refused), 'charge_disputed');
      assert.equal((await refund(psp, pi.body.id, 'r')).headers.get('idempotent-replayed'), null);
      assert.equal((await call<Intent>(psp.url, 'GET', `/v1/payment_intents/${pi.body.id}`)).body.amount_refunded, 0);
    });

    it('refuseRefunds / refusePayouts: from the constructor, switched at runtime by POST /v1/test/settings', async () => {
      const psp = await start({ refuseRefunds: true, faultRate: 1 });
      assert.deepEqual((await call(psp.url, 'GET', '/v1/test/settings')).body, { refuseRefunds: true, refusePayouts: false });
      // The test control is not subject to injected faults, unlike the API itself.
      assert.deepEqual((await call(psp.url, 'POST', '/v1/test/settings', { body: { refusePayouts: true } })).body, { refuseRefunds: true, refusePayouts: true });
      assert.equal((await transfer(psp, 't0')).status, 503, 'while the API itself is faulty');
      await psp.close();

      const live = await start({ refuseRefunds: true });
      const pi = await charge(live, 'c', { amount: 500, currency: 'USD', payment_method: 'tok_visa', metadata: { orderId: 'o-x' } });
      const refused = await refund(live, pi.body.id, 'r');
      assert.equal(refused.status, 402);
      assert.equal(errorCode(refused), 'refund_failed');
      assert.equal(errorCode(await transfer(live, 't')), undefined, 'payouts still allowed');

      const settings = await call(live.url, 'POST', '/v1/test/settings', { body: { refuseRefunds: false, refusePayouts: true } });
      assert.deepEqual(settings.body, { refuseRefunds: false, refusePayouts: true });
      assert.equal((await refund(live, pi.body.id, 'r')).status, 200, 'the same key goes through once refunds are allowed');
      const payout = await transfer(live, 't2');
      assert.equal(payout.status, 400);
      assert.equal(errorCode(payout), 'account_invalid');
      assert.deepEqual(live.updateTestSettings({ refusePayouts: false }), { refuseRefunds: false, refusePayouts: false });
      assert.equal((await transfer(live, 't2')).status, 200);
      assert.equal((await call(live.url, 'POST', '/v1/test/settings', { body: { refuseEverything: true } })).status, 400);
    });

    it('reads PSP_REFUSE_REFUNDS and PSP_REFUSE_PAYOUTS', () => {
      const env = { PSP_REFUSE_REFUNDS: 'true', PSP_REFUSE_PAYOUTS: '0' };
      assert.deepEqual([loadPspConfig(env).options.refuseRefunds, loadPspConfig(env).options.refusePayouts], [true, false]);
      assert.equal(loadPspConfig({}).options.refuseRefunds, undefined);
      assert.throws(() => loadPspConfig({ PSP_REFUSE_REFUNDS: 'maybe' }), /PSP_REFUSE_REFUNDS/);
    });
  });

  describe('persistence', () => {
    it('keeps payments, refunds and idempotency keys across a restart', async () => {
      let psp = await start();
      const body = { amount: 1000, currency: 'USD', payment_method: 'tok_visa', metadata: { orderId: 'o-p' } };
      const pi = await charge(psp, 'c', body);
      await call(psp.url, 'POST', '/v1/refunds', { idempotencyKey: 'r1', body: { payment_intent: pi.body.id, amount: 700 } });
      await psp.close();
      // A crash in the middle of a journal write leaves a torn last line; it must not stop a restart.
      appendFileSync(path.join(data.dir, 'journal.jsonl'), '{"t":"intent","v":{"id":');
      psp = await start();
      assert.equal((await charge(psp, 'c', body)).body.id, pi.body.id, 'the same key still finds the charge');
      assert.equal((await call<Intent>(psp.url, 'GET', `/v1/payment_intents/${pi.body.id}`)).body.amount_refunded, 700);
      const over = await call(psp.url, 'POST', '/v1/refunds', { idempotencyKey: 'r2', body: { payment_intent: pi.body.id, amount: 301 } });
      assert.equal(over.status, 400, 'the refund cap survives the restart');
      await psp.close();
      psp = await start();
      assert.equal((await call<Intent>(psp.url, 'GET', `/v1/payment_intents/${pi.body.id}`)).body.amount_refunded, 700, 'and a second one');
    });

    it('finishes an asynchronous payment that was processing when it stopped', async () => {
      let psp = await start({ asyncDelayMs: 300 });
      const pi = await charge(psp, 'c', { amount: 100, currency: 'USD', payment_method: 'tok_async', metadata: { orderId: 'o-s' } });
      await psp.close();
      psp = await start({ asyncDelayMs: 300 });
      const [hook] = await receiver.waitFor(1, (h) => h.event.type === 'payment.succeeded');
      assert.equal(hook!.event.data.paymentId, pi.body.id);
    });
  });

  describe('webhooks', () => {
    it('signs each delivery with the Payment-Signature scheme', async () => {
      const psp = await start();
      await charge(psp, 'k', { amount: 100, currency: 'USD', payment_method: 'tok_visa', metadata: { orderId: 'o' } });
      const [hook] = await receiver.waitFor(1);
      const header = String(hook!.headers['payment-signature']);
      const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
      assert.ok(match, header);
      const expected = createHmac('sha256', secret).update(`${match[1]}.${hook!.rawBody}`).digest('hex');
      assert.equal(match[2], expected);
      assert.ok(Math.abs(Number(match[1]) - Date.now() / 1000) < 60);
    });

    it('retries a delivery with backoff until it is acknowledged', async () => {
      const psp = await start();
      receiver.respondWith((_hook, index) => (index < 3 ? 500 : 204));
      await charge(psp, 'k', { amount: 100, currency: 'USD', payment_method: 'tok_visa', metadata: { orderId: 'o' } });
      const hooks = await receiver.waitFor(4);
      assert.equal(new Set(hooks.map((h) => h.event.id)).size, 1, 'the same event each time');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(receiver.received.length, 4, 'no delivery after the acknowledgement');
    });

    it('keeps retrying across a restart while the receiver is down', async () => {
      receiver.respondWith(() => 503);
      let psp = await start();
      await charge(psp, 'k', { amount: 100, currency: 'USD', payment_method: 'tok_visa', metadata: { orderId: 'o' } });
      await receiver.waitFor(2);
      await psp.close();
      receiver.respondWith(() => 200);
      const before = receiver.received.length;
      psp = await start();
      await receiver.waitFor(before + 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(receiver.received.length, before + 1, 'delivered once more, then acknowledged');
    });

    it('can duplicate and reorder deliveries', async () => {
      const psp = await start({ webhookDuplicateRate: 1, webhookReorderRate: 0.5, webhookReorderDelayMs: 300, random: sequence([0, 0, 0, 0, 0.9, 0.9]) });
      await charge(psp, 'k1', { amount: 100, currency: 'USD', payment_method: 'tok_visa', metadata: { orderId: 'first' } });
      await charge(psp, 'k2', { amount: 100, currency: 'USD', payment_method: 'tok_visa', metadata: { orderId: 'second' } });
      const hooks = await receiver.waitFor(4);
      assert.equal(hooks[0]!.event.data.orderId, 'second', 'the held-back first event was overtaken');
      assert.equal(new Set(hooks.map((h) => h.event.id)).size, 2, 'each event delivered twice under one id');
    });
  });

  describe('fault injection', () => {
    it('a 503 before the effect changes nothing', async () => {
      const faulty = await start({ faultRate: 1 });
      const res = await charge(faulty, 'k', { amount: 100, currency: 'USD', payment_method: 'tok_visa', metadata: { orderId: 'o-f' } });
      assert.equal(res.status, 503);
      await faulty.close();
      const psp = await start();
      assert.equal((await call<{ data: unknown[] }>(psp.url, 'GET', '/v1/payment_intents?order_id=o-f')).body.data.length, 0);
    });

    it('a 500 after the effect is healed by retrying the same key', async () => {
      const psp = await start({ faultAfterCommitRate: 1 });
      const body = { amount: 100, currency: 'USD', payment_method: 'tok_visa', metadata: { orderId: 'o-g' } };
      assert.equal((await charge(psp, 'k', body)).status, 500);
      const retry = await charge(psp, 'k', body);
      assert.equal(retry.status, 200);
      assert.equal((await call<{ data: unknown[] }>(psp.url, 'GET', '/v1/payment_intents?order_id=o-g')).body.data.length, 1);
    });
  });
});

/** A deterministic `random`: returns the given values in turn, then 0.99 forever. */
function sequence(values: number[]): () => number {
  let index = 0;
  return () => values[index++] ?? 0.99;
}
