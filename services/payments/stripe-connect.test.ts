/**
 * The Stripe gateway against stripe-mock (requests validated by Stripe's own OpenAPI), the Stripe
 * webhook signature path with events signed like Stripe signs them, and the audit check that
 * transfers plus what the platform retains equal the charge. The end-to-end journey with
 * PAYMENT_GATEWAY=stripe is in stripe-journey.test.ts.
 */
import assert from 'node:assert/strict';
import { AppError } from '../../lib/errors';
import { paymentChecks } from '../../scripts/audit/checks';
import { runAudit } from '../../scripts/audit/run';
import { testPool, uniqueId } from '../../test/support/env';
import { createGatewayFromEnv } from './gateway-config';
import { paymentKeys } from './service';
import { requireStripeMock, signedStripeEvent, stripeMockGateway, stripeMockUrl, stripeTestSecrets } from './stripe-mock.testing';

const isCode = (code: string) => (err: unknown): boolean => err instanceof AppError && err.code === code;

describe('Stripe gateway against stripe-mock @integration', () => {
  before(requireStripeMock);

  it('charges the grand total as one PaymentIntent: transfer_group = order, key charge:<orderId>', async () => {
    const { gateway, requests } = stripeMockGateway();
    const orderId = uniqueId('ord');
    const charge = await gateway.charge({ idempotencyKey: paymentKeys.charge(orderId), orderId, amountMinor: 7722, currency: 'USD', token: 'pm_card_visa' });
    assert.match(charge.paymentId, /^pi_/);
    assert.equal(charge.amountMinor, 7722);
    assert.equal(charge.currency, 'USD');
    // stripe-mock answers a fixture (requires_payment_method, no payment error): undecided, so the
    // outcome is to come by webhook.
    assert.equal(charge.status, 'processing');
    const [req] = requests;
    assert.equal(requests.length, 1);
    assert.equal(req!.status, 200, JSON.stringify(req!.body));
    assert.deepEqual([req!.method, req!.path], ['POST', '/v1/payment_intents']);
    assert.equal(req!.headers['idempotency-key'], `charge:${orderId}`);
    assert.equal(req!.form.get('transfer_group'), orderId);
    assert.equal(req!.form.get('amount'), '7722');
    assert.equal(req!.form.get('currency'), 'usd');
    assert.equal(req!.form.get('metadata[orderId]'), orderId);
    assert.equal(req!.form.get('confirm'), 'true');
  });

  it('pays a parcel out as a Transfer to the seller account (key payout:<orderId>:<sellerId>) and refunds a parcel (key refund:<orderId>:<sellerId>)', async () => {
    const { gateway, requests } = stripeMockGateway();
    const orderId = uniqueId('ord');
    const transfer = await gateway.transfer({ idempotencyKey: paymentKeys.payout(orderId, 'seller_x'), orderId, sellerId: 'seller_x', destination: 'acct_1SellerX', amountMinor: 1060, currency: 'USD' });
    assert.match(transfer.transferId, /^tr_/);
    const refund = await gateway.refund({ idempotencyKey: paymentKeys.refund(orderId, 'seller_y'), paymentId: 'pi_123', orderId, sellerId: 'seller_y', amountMinor: 1980 });
    assert.match(refund.refundId, /^re_/);
    assert.equal(refund.status, 'succeeded');
    const [t, r] = requests;
    assert.deepEqual([t!.status, t!.path, t!.headers['idempotency-key']], [200, '/v1/transfers', `payout:${orderId}:seller_x`]);
    assert.deepEqual(Object.fromEntries(t!.form), {
      amount: '1060',
      currency: 'usd',
      destination: 'acct_1SellerX',
      transfer_group: orderId,
      'metadata[orderId]': orderId,
      'metadata[sellerId]': 'seller_x',
    });
    assert.deepEqual([r!.status, r!.path, r!.headers['idempotency-key']], [200, '/v1/refunds', `refund:${orderId}:seller_y`]);
    assert.deepEqual(Object.fromEntries(r!.form), { payment_intent: 'pi_123', amount: '1980', 'metadata[orderId]': orderId, 'metadata[sellerId]': 'seller_y' });
  });

  it('retrieves and cancels a PaymentIntent; a request Stripe would reject is a refusal, not a retry', async () => {
    const { gateway, requests } = stripeMockGateway();
    const charge = await gateway.getCharge('pi_123');
    assert.equal(charge.paymentId, 'pi_123');
    await gateway.cancel({ idempotencyKey: 'cancel:o1', paymentId: 'pi_123', orderId: 'o1' });
    assert.deepEqual(requests.map((r) => [r.method, r.path, r.status]), [
      ['GET', '/v1/payment_intents/pi_123', 200],
      ['POST', '/v1/payment_intents/pi_123/cancel', 200],
    ]);
    assert.equal(requests[1]!.form.get('cancellation_reason'), 'abandoned');
    // stripe-mock validates against Stripe's OpenAPI: a fractional amount is an invalid request
    // (the payments service never sends one; here it proves the requests above were checked).
    await assert.rejects(
      gateway.transfer({ idempotencyKey: 'payout:o1:s', orderId: 'o1', sellerId: 's', destination: 'acct_1', amountMinor: 1.5, currency: 'USD' }),
      isCode('PAYOUT_REFUSED'),
    );
    assert.equal(requests[2]!.status, 400);
  });

  it('PAYMENT_GATEWAY=stripe with STRIPE_API_BASE talks to that server', async () => {
    const gateway = createGatewayFromEnv({ PAYMENT_GATEWAY: 'stripe', ...{ STRIPE_SECRET_KEY: stripeTestSecrets.secretKey, STRIPE_WEBHOOK_SECRET: stripeTestSecrets.webhookSecret }, STRIPE_API_BASE: stripeMockUrl() });
    assert.equal(gateway.name, 'stripe');
    assert.match((await gateway.getCharge('pi_abc')).paymentId, /^pi_abc$/);
    assert.throws(() => createGatewayFromEnv({ PAYMENT_GATEWAY: 'stripe', STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_WEBHOOK_SECRET: 'whsec_x', STRIPE_API_BASE: 'ftp://x' }), /http\(s\) URL/);
  });

  describe('webhooks signed like Stripe signs them', () => {
    const { gateway } = stripeMockGateway();

    it('maps charge.refunded to a cumulative refund event of the payment', () => {
      const charge = { id: 'ch_1', object: 'charge', amount: 7722, amount_refunded: 1980, currency: 'usd', payment_intent: 'pi_9', metadata: {} };
      const { payload, signature, id } = signedStripeEvent('charge.refunded', charge);
      assert.deepEqual(gateway.parseWebhook(payload, signature), {
        id,
        type: 'refund.succeeded',
        created: (JSON.parse(payload) as { created: number }).created,
        data: { paymentId: 'pi_9', orderId: '', amount: 1980, currency: 'USD', cumulative: true },
      });
    });

    it('refuses a tampered body and a signature made with another secret', () => {
      const { payload, signature } = signedStripeEvent('payment_intent.succeeded', { id: 'pi_1', object: 'payment_intent', amount: 10, currency: 'usd', metadata: { orderId: 'o1' } });
      assert.throws(() => gateway.parseWebhook(payload.replace('"amount":10', '"amount":99'), signature), isCode('INVALID_SIGNATURE'));
      const other = stripeMockGateway({ webhookSecret: 'whsec_someone_else' }).gateway;
      assert.throws(() => other.parseWebhook(payload, signature), isCode('INVALID_SIGNATURE'));
    });
  });
});

describe('audit: transfers plus platform retained equal the charge @integration', () => {
  /** One Stripe order planted with the database guards off (then rolled back): one parcel released, its payout transferred. */
  async function auditWithTransfer(transferMinor: number): Promise<Record<string, unknown>[]> {
    const client = await testPool().connect();
    const orderId = uniqueId('audit-tr');
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL session_replication_role = replica');
      await client.query(
        `INSERT INTO payments (order_id, gateway, idempotency_key, payment_id, amount_minor, currency, status) VALUES ($1, 'stripe', $2, $3, 1000, 'USD', 'succeeded')`,
        [orderId, `charge:${orderId}`, `pi_${orderId}`],
      );
      const escrow = await client.query<{ entry_id: string }>(`INSERT INTO ledger_entries (business_key, kind, order_id, currency) VALUES ($1, 'escrow', $2, 'USD') RETURNING entry_id::text`, [
        `escrow:${orderId}`,
        orderId,
      ]);
      await client.query(
        `INSERT INTO ledger_parcels (order_id, seller_id, position, currency, escrow_entry_id, customer_paid_minor, platform_subsidy_minor, payout_minor, commission_minor, tax_minor)
         VALUES ($1, 's1', 0, 'USD', $2, 1000, 20, 880, 50, 90)`,
        [orderId, escrow.rows[0]!.entry_id],
      );
      await client.query(`INSERT INTO ledger_entries (business_key, kind, order_id, seller_id, currency) VALUES ($1, 'release', $2, 's1', 'USD')`, [`release:${orderId}:s1`, orderId]);
      await client.query(
        `INSERT INTO payment_payouts (order_id, seller_id, idempotency_key, amount_minor, currency, destination, transfer_id, status)
         VALUES ($1, 's1', $2, $3, 'USD', 'acct_1', $4, 'succeeded')`,
        [orderId, `payout:${orderId}:s1`, transferMinor, `tr_${orderId}`],
      );
      const check = paymentChecks.filter((c) => c.name === 'transfers_plus_retained_equal_charge');
      assert.equal(check.length, 1);
      const report = await runAudit(client, check, { inCallerTransaction: true, sampleMax: 1000 });
      return report.checks[0]!.sample.filter((row) => row.order_id === orderId);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  }

  it('holds when the transfer is the parcel payout: 880 transferred + 120 retained (50 + 90 - 20) = 1000 charged', async () => {
    assert.deepEqual(await auditWithTransfer(880), []);
  });

  it('catches a broken transfer total', async () => {
    const violations = await auditWithTransfer(900);
    assert.equal(violations.length, 1);
    const { order_id: _order, ...sums } = violations[0]!;
    assert.deepEqual(sums, { charged_minor: '1000', transferred_minor: '900', retained_minor: '120', refunded_minor: '0' });
  });
});
