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
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import type { PaymentEvent as PspEvent } from '../../services/payments';
import { checkoutWorkflowId, paymentEventSignal, type PaymentEvent } from '../../workflows/contract';
import type { PaymentsPort } from '../deps';
import { noteIds } from '../observability';
import { route, type AnyRoute } from '../route';
import { errorResponseSchema } from '../schemas';

export const webhookAckSchema = z.looseObject({
  received: z.literal(true),
  eventId: z.string().nullable().describe('null for an event type this system ignores'),
  duplicate: z.boolean().describe('true when this event id was delivered before (its effect happened once)'),
});

/** The raw-body webhook payload, documented; the server verifies the signature before it parses. */
export const webhookBodySchema = z.looseObject({
  id: z.string(),
  type: z.enum(['payment.succeeded', 'payment.failed', 'refund.succeeded']),
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

export function webhookRoutes(deps: { client: Client; payments: PaymentsPort }): AnyRoute[] {
  return [
    route({
      operationId: 'paymentWebhook',
      method: 'post',
      path: '/v1/webhooks/payments',
      summary: 'Payment service provider events, signed with Payment-Signature: t=<unix s>,v1=<hex HMAC-SHA256(WEBHOOK_SECRET, "<t>.<raw body>")>',
      tags: ['webhooks'],
      auth: 'signature',
      rawBody: true,
      body: webhookBodySchema,
      responses: {
        200: { description: 'received (also for a repeated event id, an ignored event type, or an unknown order)', schema: webhookAckSchema },
        400: { description: 'INVALID_SIGNATURE (missing, wrong or older than 300 s), or VALIDATION_FAILED', schema: errorResponseSchema },
        413: { description: 'PAYLOAD_TOO_LARGE', schema: errorResponseSchema },
        503: { description: 'SERVICE_UNAVAILABLE: the event was recorded but could not be forwarded yet; deliver it again', schema: errorResponseSchema },
      },
      async handle({ req, rawBody, res, log }) {
        const outcome = await deps.payments.handleWebhook(rawBody ?? Buffer.alloc(0), req.get(deps.payments.signatureHeader));
        const event = outcome.event;
        if (!event) return { status: 200, body: { received: true, eventId: null, duplicate: false } };
        const orderId = event.data.orderId;
        noteIds(res, { orderId, workflowId: checkoutWorkflowId(orderId) });
        const delivered = outcome.forSaga ? await forwardPaymentEvent(deps.client, event) : false;
        log.info({ eventId: event.id, type: event.type, duplicate: !outcome.isNew, knownOrder: outcome.knownOrder, delivered }, 'payment event');
        return { status: 200, body: { received: true, eventId: event.id, duplicate: !outcome.isNew } };
      },
    }),
  ];
}
