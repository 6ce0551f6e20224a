import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { AppError } from '../../lib/errors';
import { createGatewayFromEnv } from './gateway-config';
import { createStripeGateway } from './stripe-gateway';
import type { PaymentGateway } from './types';

const webhookSecret = 'whsec_test_stripe';

interface Captured {
  method: string;
  url: URL;
  headers: Headers;
  form: URLSearchParams;
}

/** A fetch stand-in: records each request and answers with the next canned response. */
function fakeStripe(responses: { status: number; body: unknown }[], sellerAccountId: (sellerId: string) => string | undefined = (sellerId) => `acct_${sellerId}`) {
  const requests: Captured[] = [];
  const fetchFn = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    requests.push({ method: init?.method ?? 'GET', url, headers: new Headers(init?.headers), form: new URLSearchParams(typeof init?.body === 'string' ? init.body : '') });
    const next = responses.shift() ?? { status: 500, body: { error: { type: 'api_error', message: 'no canned response' } } };
    return Promise.resolve(new Response(JSON.stringify(next.body), { status: next.status, headers: { 'Content-Type': 'application/json', 'Request-Id': 'req_test' } }));
  };
  const gateway = createStripeGateway({
    secretKey: 'sk_test_fake',
    webhookSecret,
    sellerAccountId,
    maxNetworkRetries: 0,
    httpClient: Stripe.createFetchHttpClient(fetchFn),
  });
  return { gateway, requests };
}

function intent(fields: Record<string, unknown>): Record<string, unknown> {
  return { id: 'pi_123', object: 'payment_intent', amount: 7722, currency: 'usd', status: 'succeeded', metadata: { orderId: 'o1' }, last_payment_error: null, ...fields };
}

function isCode(code: string) {
  return (err: unknown): boolean => err instanceof AppError && err.code === code;
}

describe('Stripe gateway (no network)', () => {
  it('creates a confirmed PaymentIntent with the idempotency key, order metadata and transfer group', async () => {
    const { gateway, requests } = fakeStripe([{ status: 200, body: intent({}) }]);
    const charge = await gateway.charge({ idempotencyKey: 'charge:o1', orderId: 'o1', amountMinor: 7722, currency: 'USD', token: 'pm_card_visa' });
    assert.deepEqual(charge, { paymentId: 'pi_123', status: 'succeeded', amountMinor: 7722, currency: 'USD', declineCode: null });
    const [req] = requests;
    assert.equal(req!.method, 'POST');
    assert.equal(req!.url.pathname, '/v1/payment_intents');
    assert.equal(req!.headers.get('idempotency-key'), 'charge:o1');
    assert.match(req!.headers.get('authorization') ?? '', /^Bearer sk_test_fake$/);
    assert.deepEqual(Object.fromEntries(req!.form), {
      amount: '7722',
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: 'true',
      'automatic_payment_methods[enabled]': 'true',
      'automatic_payment_methods[allow_redirects]': 'never',
      'metadata[orderId]': 'o1',
      transfer_group: 'o1',
    });
  });

  it('classifies processing, declines and failures', async () => {
    const { gateway } = fakeStripe([
      { status: 200, body: intent({ status: 'processing' }) },
      {
        status: 402,
        body: { error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'declined', payment_intent: intent({ id: 'pi_dec', status: 'requires_payment_method' }) } },
      },
      { status: 500, body: { error: { type: 'api_error', message: 'boom' } } },
      { status: 400, body: { error: { type: 'idempotency_error', message: 'Keys for idempotent requests can only be used with the same parameters' } } },
    ]);
    const req = { idempotencyKey: 'charge:o1', orderId: 'o1', amountMinor: 7722, currency: 'USD', token: 'pm_card_visa' };
    assert.equal((await gateway.charge(req)).status, 'processing');
    const declined = await gateway.charge(req);
    assert.deepEqual([declined.status, declined.paymentId, declined.declineCode], ['declined', 'pi_dec', 'insufficient_funds']);
    await assert.rejects(gateway.charge(req), (err: unknown) => err instanceof Error && !(err instanceof AppError) && /Stripe unavailable/.test(err.message));
    await assert.rejects(gateway.charge(req), isCode('IDEMPOTENCY_KEY_REUSED'));
  });

  it('refunds a parcel and pays a seller out through Connect, each with its own key', async () => {
    const { gateway, requests } = fakeStripe([
      { status: 200, body: { id: 're_1', object: 'refund', amount: 1980, currency: 'usd', status: 'succeeded', payment_intent: 'pi_123', metadata: {} } },
      { status: 200, body: { id: 'tr_1', object: 'transfer', amount: 1060, currency: 'usd', destination: 'acct_seller_x', transfer_group: 'o1' } },
      { status: 400, body: { error: { type: 'invalid_request_error', code: 'amount_too_large', message: 'too much' } } },
    ]);
    const refund = await gateway.refund({ idempotencyKey: 'refund:o1:seller_y', paymentId: 'pi_123', orderId: 'o1', sellerId: 'seller_y', amountMinor: 1980 });
    assert.deepEqual(refund, { refundId: 're_1', status: 'succeeded', amountMinor: 1980 });
    assert.equal(requests[0]!.url.pathname, '/v1/refunds');
    assert.equal(requests[0]!.headers.get('idempotency-key'), 'refund:o1:seller_y');
    assert.deepEqual(Object.fromEntries(requests[0]!.form), { payment_intent: 'pi_123', amount: '1980', 'metadata[orderId]': 'o1', 'metadata[sellerId]': 'seller_y' });

    const destination = await gateway.sellerDestination('seller_x');
    const transfer = await gateway.transfer({ idempotencyKey: 'payout:o1:seller_x', orderId: 'o1', sellerId: 'seller_x', destination, amountMinor: 1060, currency: 'USD' });
    assert.equal(transfer.transferId, 'tr_1');
    assert.equal(requests[1]!.url.pathname, '/v1/transfers');
    assert.equal(requests[1]!.headers.get('idempotency-key'), 'payout:o1:seller_x');
    assert.deepEqual(Object.fromEntries(requests[1]!.form), {
      amount: '1060',
      currency: 'usd',
      destination: 'acct_seller_x',
      transfer_group: 'o1',
      'metadata[orderId]': 'o1',
      'metadata[sellerId]': 'seller_x',
    });
    await assert.rejects(
      gateway.refund({ idempotencyKey: 'refund:o1:seller_z', paymentId: 'pi_123', orderId: 'o1', sellerId: 'seller_z', amountMinor: 99999 }),
      isCode('REFUND_EXCEEDS_CHARGE'),
    );
  });

  it('cancels a PaymentIntent with its key; a succeeded one is INVALID_STATE', async () => {
    const { gateway, requests } = fakeStripe([
      { status: 200, body: intent({ status: 'canceled', cancellation_reason: 'abandoned' }) },
      { status: 400, body: { error: { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message: 'You cannot cancel this PaymentIntent because it has a status of succeeded.' } } },
      { status: 500, body: { error: { type: 'api_error', message: 'boom' } } },
    ]);
    const req = { idempotencyKey: 'cancel:o1', paymentId: 'pi_123', orderId: 'o1' };
    assert.deepEqual(await gateway.cancel(req), { paymentId: 'pi_123', status: 'canceled', amountMinor: 7722, currency: 'USD', declineCode: null });
    assert.equal(requests[0]!.method, 'POST');
    assert.equal(requests[0]!.url.pathname, '/v1/payment_intents/pi_123/cancel');
    assert.equal(requests[0]!.headers.get('idempotency-key'), 'cancel:o1');
    assert.deepEqual(Object.fromEntries(requests[0]!.form), { cancellation_reason: 'abandoned' });
    await assert.rejects(gateway.cancel(req), isCode('INVALID_STATE'));
    await assert.rejects(gateway.cancel(req), (err: unknown) => err instanceof Error && !(err instanceof AppError));
  });

  it('reports a canceled PaymentIntent as canceled, not declined', async () => {
    const { gateway } = fakeStripe([{ status: 200, body: intent({ status: 'canceled' }) }]);
    assert.equal((await gateway.getCharge('pi_123')).status, 'canceled');
  });

  it('makes refused refunds REFUND_REFUSED and refused payouts PAYOUT_REFUSED; outages and a short balance stay transient', async () => {
    const invalid = (code: string, message: string) => ({ status: 400, body: { error: { type: 'invalid_request_error', code, message } } });
    const { gateway } = fakeStripe([
      invalid('charge_disputed', 'Charge ch_1 has been charged back; cannot issue a refund.'),
      { status: 503, body: { error: { type: 'api_error', message: 'unavailable' } } },
      invalid('resource_missing', 'No such destination: acct_gone'),
      invalid('balance_insufficient', 'Insufficient funds in Stripe account.'),
    ]);
    const transient = (err: unknown): boolean => err instanceof Error && !(err instanceof AppError);
    const refund = { idempotencyKey: 'refund:o1:s', paymentId: 'pi_123', orderId: 'o1', sellerId: 's', amountMinor: 100 };
    await assert.rejects(gateway.refund(refund), (err: unknown) => isCode('REFUND_REFUSED')(err) && (err as AppError).kind === 'refused' && (err as AppError).details.pspCode === 'charge_disputed');
    await assert.rejects(gateway.refund(refund), transient);
    const transfer = { idempotencyKey: 'payout:o1:s', orderId: 'o1', sellerId: 's', destination: 'acct_gone', amountMinor: 100, currency: 'USD' };
    await assert.rejects(gateway.transfer(transfer), isCode('PAYOUT_REFUSED'));
    await assert.rejects(gateway.transfer(transfer), transient);
  });

  it('refuses a payout to a seller without a (valid) connected account', async () => {
    const { gateway } = fakeStripe([], (sellerId) => (sellerId === 'bad' ? 'not-an-account' : undefined));
    await assert.rejects(gateway.sellerDestination('none'), isCode('PAYOUT_REFUSED'));
    await assert.rejects(gateway.sellerDestination('bad'), isCode('PAYOUT_REFUSED'));
    const fromEnv = createGatewayFromEnv({ PAYMENT_GATEWAY: 'stripe', STRIPE_SECRET_KEY: 'sk_test_fake', STRIPE_WEBHOOK_SECRET: webhookSecret });
    await assert.rejects(fromEnv.sellerDestination('x'), isCode('PAYOUT_REFUSED'), 'no sellerAccountId configured');
  });

  describe('webhooks (stripe.webhooks.constructEvent)', () => {
    let gateway: PaymentGateway;
    before(() => {
      gateway = fakeStripe([]).gateway;
    });

    function stripeEvent(type: string, object: Record<string, unknown>): string {
      return JSON.stringify({ id: `evt_${type}`, object: 'event', type, created: Math.floor(Date.now() / 1000), data: { object }, api_version: Stripe.API_VERSION });
    }
    const sign = (payload: string, secret = webhookSecret, timestamp?: number): string =>
      Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp === undefined ? {} : { timestamp }) });

    it('maps payment and refund events to the project event shape', () => {
      const paid = stripeEvent('payment_intent.succeeded', intent({}));
      assert.deepEqual(gateway.parseWebhook(paid, sign(paid)), {
        id: 'evt_payment_intent.succeeded',
        type: 'payment.succeeded',
        created: (JSON.parse(paid) as { created: number }).created,
        data: { paymentId: 'pi_123', orderId: 'o1', amount: 7722, currency: 'USD' },
      });
      const failed = stripeEvent('payment_intent.payment_failed', intent({ status: 'requires_payment_method' }));
      assert.equal(gateway.parseWebhook(failed, sign(failed))?.type, 'payment.failed');
      const refunded = stripeEvent('refund.updated', { id: 're_1', object: 'refund', amount: 1980, currency: 'usd', status: 'succeeded', payment_intent: 'pi_123', metadata: { orderId: 'o1', sellerId: 'seller_y' } });
      assert.deepEqual(gateway.parseWebhook(refunded, sign(refunded))?.data, { paymentId: 'pi_123', orderId: 'o1', amount: 1980, currency: 'USD', refundId: 're_1', sellerId: 'seller_y' });
      const canceled = stripeEvent('payment_intent.canceled', intent({ status: 'canceled' }));
      assert.equal(gateway.parseWebhook(canceled, sign(canceled)), undefined, 'the canceller already knows');
      const other = stripeEvent('customer.created', { id: 'cus_1', object: 'customer' });
      assert.equal(gateway.parseWebhook(other, sign(other)), undefined);
      const foreign = stripeEvent('payment_intent.succeeded', intent({ metadata: {} }));
      assert.equal(gateway.parseWebhook(foreign, sign(foreign)), undefined, 'a payment of another system');
    });

    it('rejects tampered, wrongly signed, stale and unsigned events', () => {
      const paid = stripeEvent('payment_intent.succeeded', intent({}));
      const header = sign(paid);
      assert.throws(() => gateway.parseWebhook(paid.replace('7722', '1'), header), isCode('INVALID_SIGNATURE'));
      assert.throws(() => gateway.parseWebhook(paid, sign(paid, 'whsec_other')), isCode('INVALID_SIGNATURE'));
      assert.throws(() => gateway.parseWebhook(paid, sign(paid, webhookSecret, Math.floor(Date.now() / 1000) - 301)), isCode('INVALID_SIGNATURE'));
      assert.throws(() => gateway.parseWebhook(paid, undefined), isCode('INVALID_SIGNATURE'));
      assert.equal(gateway.signatureHeader, 'stripe-signature');
    });
  });
});
