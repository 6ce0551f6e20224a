/**
 * POST /v1/webhooks/payments (api-contract.md, Payment webhooks). The signature is verified over
 * the raw request bytes, the event is recorded and de-duplicated by its id (services/payments,
 * in one transaction with its effect on the payment records), and then forwarded to the order's
 * checkout saga as the `paymentEvent` signal.
 *
 * The signal is sent for every verified delivery of a payment outcome the saga may be waiting for, a
 * repeated one too: if an earlier delivery was recorded but its signal failed (Temporal unavailable
 * -> 503, the PSP retries), the retry must still reach the saga. The saga ignores an event id it has
 * seen, so the effect happens once. Refund events, and the outcome of a charge that answered it at
 * once (the saga learned it from its charge activity), are recorded but not signalled: a signal
 * costs the workflow a task. An event for an unknown or finished saga is recorded and answered 200.
 *
 * POST /v1/webhooks/stripe takes Stripe's own events when PAYMENT_GATEWAY=stripe: the Stripe gateway
 * verifies them with the SDK (stripe.webhooks.constructEvent, STRIPE_WEBHOOK_SECRET) and maps them
 * to the same payment events, which then take exactly the path above (records, de-duplication by
 * Stripe's event id, signal). With another gateway it is 404.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import type { PaymentEvent as PspEvent } from '../../services/payments';
import { checkoutWorkflowId, paymentEventSignal, type PaymentEvent } from '../../workflows/contract';
import type { PaymentsPort } from '../deps';
import { noteIds } from '../observability';
import { route, type AnyRoute } from '../route';
import { NotFoundError } from '../../lib/errors';
import { paymentEventTypes } from '../../lib/vocabulary';
import { errorResponse as err } from './responses';

export const webhookAckSchema = z.looseObject({
  received: z.literal(true),
  eventId: z.string().nullable().describe('null for an event type this system ignores'),
  duplicate: z.boolean().describe('true when this event id was delivered before (its effect happened once)'),
});

/** The raw-body webhook payload, documented; the server verifies the signature before it parses. */
export const webhookBodySchema = z.looseObject({
  id: z.string(),
  type: z.enum(paymentEventTypes),
  created: z.int(),
  data: z.looseObject({ paymentId: z.string(), orderId: z.string(), amount: z.int().min(0), currency: z.string() }),
});

function toSignal(event: PspEvent): PaymentEvent {
  return { eventId: event.id, type: event.type, paymentId: event.data.paymentId, amount: event.data.amount, currency: event.data.currency };
}

/**
 * Forwards a verified payment event to the order's saga as the `paymentEvent` signal. True when the
 * saga got it; false when it is unknown or finished (nothing left to tell it).
 */
export async function forwardPaymentEvent(client: Client, event: PspEvent): Promise<boolean> {
  try {
    await client.workflow.getHandle(checkoutWorkflowId(event.data.orderId)).signal(paymentEventSignal, toSignal(event));
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Stripe's event envelope, documented; verified with the SDK (stripe.webhooks.constructEvent) before it is parsed. */
export const stripeWebhookBodySchema = z.looseObject({
  id: z.string().describe('evt_...: deliveries are de-duplicated by it'),
  object: z.literal('event'),
  type: z.string().describe('payment_intent.succeeded, payment_intent.payment_failed, charge.refunded, refund.created, refund.updated are used; others are acknowledged and ignored'),
  created: z.int(),
  data: z.looseObject({ object: z.looseObject({ id: z.string() }) }),
});

export function webhookRoutes(deps: { client: Client; payments: PaymentsPort }): AnyRoute[] {
  /** Verify, record once, forward to the saga when it may be waiting: the same path for every gateway. */
  async function receive(rawBody: Buffer | undefined, signature: string | undefined, res: Parameters<typeof noteIds>[0], log: { info: (o: object, m: string) => void }) {
    const outcome = await deps.payments.handleWebhook(rawBody ?? Buffer.alloc(0), signature);
    const event = outcome.event;
    if (!event) return { status: 200, body: { received: true as const, eventId: null, duplicate: false } };
    const orderId = event.data.orderId;
    noteIds(res, { orderId, workflowId: checkoutWorkflowId(orderId) });
    const delivered = outcome.forSaga ? await forwardPaymentEvent(deps.client, event) : false;
    log.info({ eventId: event.id, type: event.type, duplicate: !outcome.isNew, knownOrder: outcome.knownOrder, delivered }, 'payment event');
    return { status: 200, body: { received: true as const, eventId: event.id, duplicate: !outcome.isNew } };
  }

  /** What both webhook endpoints answer (the Stripe one also 404 while it is not the active gateway). */
  const webhookResponses = {
    200: { description: 'received (also for a repeated event id, an ignored event type, or an unknown order)', schema: webhookAckSchema },
    400: err('INVALID_SIGNATURE (missing, wrong or older than 300 s), or VALIDATION_FAILED'),
    413: err('PAYLOAD_TOO_LARGE'),
    503: err('SERVICE_UNAVAILABLE: the event was recorded but could not be forwarded yet; deliver it again'),
  };

  return [
    route({
      operationId: 'stripeWebhook',
      method: 'post',
      path: '/v1/webhooks/stripe',
      summary: 'Stripe events (PAYMENT_GATEWAY=stripe), signed with Stripe-Signature and verified with STRIPE_WEBHOOK_SECRET',
      tags: ['webhooks'],
      auth: 'signature',
      rawBody: true,
      body: stripeWebhookBodySchema,
      responses: { ...webhookResponses, 404: err('NOT_FOUND: the Stripe gateway is not the active one') },
      async handle({ req, rawBody, res, log }) {
        if (deps.payments.signatureHeader !== 'stripe-signature') throw new NotFoundError('webhook endpoint', 'stripe');
        return receive(rawBody, req.get('stripe-signature'), res, log);
      },
    }),
    route({
      operationId: 'paymentWebhook',
      method: 'post',
      path: '/v1/webhooks/payments',
      summary: 'Payment service provider events, signed with Payment-Signature: t=<unix s>,v1=<hex HMAC-SHA256(WEBHOOK_SECRET, "<t>.<raw body>")>',
      tags: ['webhooks'],
      auth: 'signature',
      rawBody: true,
      body: webhookBodySchema,
      responses: webhookResponses,
      async handle({ req, rawBody, res, log }) {
        return receive(rawBody, req.get(deps.payments.signatureHeader), res, log);
      },
    }),
  ];
}
