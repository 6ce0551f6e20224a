/**
 * The payment service provider simulator: a small Stripe-like HTTP API (payment intents and their
 * cancellation, refunds, Connect-style transfers) with idempotency keys, signed webhooks, the test
 * tokens of api-contract.md and switches that make it refuse refunds or payouts. Built by a factory
 * so tests run it in-process:
 *
 *   const psp = createPspServer({ dataDir, webhookUrl, webhookSecret });
 *   const port = await psp.listen(0);
 *   ...
 *   await psp.close();
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { openStore, type PspStore } from './store';
import { cancellationReasons, type IntentStatus, type PaymentIntent, type PspTestSettings, type Refund, type Transfer, type WebhookEvent, type WebhookEventType } from './types';
import { createWebhookDispatcher, type WebhookDispatcher } from './webhooks';

export interface PspServerOptions {
  /** Where the state is persisted (snapshot + journal). */
  dataDir: string;
  /** Where webhooks are POSTed. */
  webhookUrl: string;
  /** HMAC secret of the Payment-Signature header (WEBHOOK_SECRET). */
  webhookSecret: string;
  /** Added to every API request (before it takes effect), plus up to latencyJitterMs at random. */
  latencyMs?: number;
  latencyJitterMs?: number;
  /** Probability (0..1) of a 503 before the request has any effect. */
  faultRate?: number;
  /** Probability (0..1) of a 500 after the request took effect (the idempotency key still records it). */
  faultAfterCommitRate?: number;
  /** How long tok_async / tok_asyncFail stay `processing`. */
  asyncDelayMs?: number;
  /** How long the first response of a tok_timeout charge is held before the connection is dropped. */
  timeoutDelayMs?: number;
  /** Idempotency keys are remembered at least this long (default 24 h). */
  idempotencyTtlMs?: number;
  webhookRetryBaseMs?: number;
  webhookRetryMaxMs?: number;
  webhookGiveUpAfterMs?: number;
  webhookRequestTimeoutMs?: number;
  /** Probability (0..1) that an event is delivered twice. */
  webhookDuplicateRate?: number;
  /** Probability (0..1) that an event is held back reorderDelayMs, so later events overtake it. */
  webhookReorderRate?: number;
  webhookReorderDelayMs?: number;
  /** Refuse every refund (402 refund_failed); changeable at runtime, see PspServer.updateTestSettings. */
  refuseRefunds?: boolean;
  /** Refuse every transfer (400 account_invalid); changeable at runtime. */
  refusePayouts?: boolean;
  /** Injectable for tests: the clock of idempotency-key expiry, and the source of every random choice. */
  clock?: () => number;
  random?: () => number;
  log?: (line: string) => void;
}

export interface PspServer {
  readonly app: Express;
  /** Starts listening (port 0 = any free port) and resolves with the port. */
  listen(port?: number, host?: string): Promise<number>;
  /** Stops listening, drops open connections, stops webhook delivery and closes the journal. */
  close(): Promise<void>;
  /** The base URL once listening, e.g. http://127.0.0.1:4242. */
  readonly url: string;
  /** Changes the refusal switches (what POST /v1/test/settings does) and returns them all. */
  updateTestSettings(patch: Partial<PspTestSettings>): PspTestSettings;
}

export const pspDefaults = {
  latencyMs: 0,
  latencyJitterMs: 0,
  faultRate: 0,
  faultAfterCommitRate: 0,
  asyncDelayMs: 2_000,
  timeoutDelayMs: 30_000,
  idempotencyTtlMs: 24 * 60 * 60 * 1000,
  webhookRetryBaseMs: 500,
  webhookRetryMaxMs: 60_000,
  webhookGiveUpAfterMs: 3 * 24 * 60 * 60 * 1000,
  webhookRequestTimeoutMs: 10_000,
  webhookDuplicateRate: 0,
  webhookReorderRate: 0,
  webhookReorderDelayMs: 2_000,
  refuseRefunds: false,
  refusePayouts: false,
} as const;

/** What each test token does (api-contract.md, "Payment tokens of the built-in payment simulator"). */
const tokenBehaviours = {
  tok_visa: 'succeed',
  tok_chargeDeclined: 'decline',
  tok_async: 'async_succeed',
  tok_asyncFail: 'async_fail',
  tok_timeout: 'succeed_but_time_out',
  // The charge succeeds; every refund of it is refused, as for a disputed charge.
  tok_refundFail: 'succeed',
} as const;
/** Tokens whose charges cannot be refunded (400 charge_disputed). */
const refundRefusingTokens: ReadonlySet<string> = new Set(['tok_refundFail']);
type TokenBehaviour = (typeof tokenBehaviours)[keyof typeof tokenBehaviours];

const amountMax = Number.MAX_SAFE_INTEGER;
const metadataSchema = z.record(z.string().max(40), z.string().max(500)).optional();
const currencySchema = z.string().regex(/^[A-Za-z]{3}$/, 'must be a three-letter ISO 4217 code');

const createIntentSchema = z.object({
  amount: z.number().int().min(1).max(amountMax),
  currency: currencySchema,
  payment_method: z.string().min(1).max(255),
  metadata: metadataSchema,
  transfer_group: z.string().min(1).max(255).optional(),
});
const createRefundSchema = z.object({
  payment_intent: z.string().min(1).max(255),
  amount: z.number().int().min(1).max(amountMax).optional(),
  metadata: metadataSchema,
});
const cancelIntentSchema = z.object({ cancellation_reason: z.enum(cancellationReasons).optional() }).strict();
const testSettingsSchema = z.object({ refuseRefunds: z.boolean().optional(), refusePayouts: z.boolean().optional() }).strict();
const createTransferSchema = z.object({
  amount: z.number().int().min(1).max(amountMax),
  currency: currencySchema,
  destination: z.string().min(1).max(255),
  transfer_group: z.string().min(1).max(255).optional(),
  metadata: metadataSchema,
});

/** An API answer: status and body; `store` = remember it under the Idempotency-Key. */
interface Outcome {
  status: number;
  body: unknown;
  store: boolean;
  /** Hold the response and drop the connection instead of answering (tok_timeout). */
  dropResponse?: boolean;
}

function apiError(status: number, type: string, code: string, message: string, extra: Record<string, unknown> = {}): Outcome {
  return { status, body: { error: { type, code, message, ...extra } }, store: false };
}

/** An intent as the API shows it: without the simulator's own scheduling fields. */
function publicIntent(intent: PaymentIntent): Omit<PaymentIntent, 'settle_at_ms' | 'settle_to'> {
  const { settle_at_ms: _at, settle_to: _to, ...visible } = intent;
  return { ...visible, canceled_at: intent.canceled_at ?? null, cancellation_reason: intent.cancellation_reason ?? null };
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

/** JSON with sorted keys, so that equal parameters give equal fingerprints whatever their order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function fingerprintOf(req: Request): string {
  return createHash('sha256').update(`${req.method} ${req.path} ${canonicalJson(req.body)}`).digest('hex');
}


export function createPspServer(options: PspServerOptions): PspServer {
  const settings = { ...pspDefaults, ...definedOnly(options) };
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const log = options.log ?? ((line: string) => console.log(`[psp] ${line}`));
  const testSettings: PspTestSettings = { refuseRefunds: settings.refuseRefunds, refusePayouts: settings.refusePayouts };
  const store: PspStore = openStore({ dataDir: options.dataDir, idempotencyTtlMs: settings.idempotencyTtlMs, clock });
  const dispatcher: WebhookDispatcher = createWebhookDispatcher({
    store,
    url: options.webhookUrl,
    secret: options.webhookSecret,
    random,
    log,
    retryBaseMs: settings.webhookRetryBaseMs,
    retryMaxMs: settings.webhookRetryMaxMs,
    giveUpAfterMs: settings.webhookGiveUpAfterMs,
    requestTimeoutMs: settings.webhookRequestTimeoutMs,
    duplicateRate: settings.webhookDuplicateRate,
    reorderRate: settings.webhookReorderRate,
    reorderDelayMs: settings.webhookReorderDelayMs,
    concurrencyMax: 8,
  });
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  function later(ms: number, work: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) work();
    }, Math.max(0, ms));
    timers.add(timer);
  }

  function emit(type: WebhookEventType, intent: PaymentIntent, amount: number, extra: Partial<WebhookEvent['data']> = {}): void {
    const event: WebhookEvent = {
      id: newId('evt'),
      type,
      created: Math.floor(Date.now() / 1000),
      data: { paymentId: intent.id, orderId: intent.metadata.orderId ?? '', amount, currency: intent.currency, ...extra },
    };
    dispatcher.enqueue(event);
  }

  /**
   * Settles an asynchronous payment (tok_async, tok_asyncFail) and announces it by webhook. A
   * payment cancelled meanwhile is no longer `processing`, so its settlement does nothing: the
   * cancel wins, and a cancelled payment never succeeds.
   */
  function settle(intentId: string): void {
    const intent = store.intents.get(intentId);
    if (!intent || intent.status !== 'processing' || intent.settle_to === null) return;
    if (intent.settle_to === 'succeeded') {
      intent.status = 'succeeded';
    } else {
      intent.status = 'requires_payment_method';
      intent.last_payment_error = { code: 'payment_failed', message: 'The payment failed after processing.' };
    }
    const outcome = intent.settle_to;
    intent.settle_at_ms = null;
    intent.settle_to = null;
    store.saveIntent(intent);
    emit(outcome === 'succeeded' ? 'payment.succeeded' : 'payment.failed', intent, intent.amount);
  }

  function scheduleSettlement(intent: PaymentIntent): void {
    if (intent.settle_at_ms !== null) later(intent.settle_at_ms - Date.now(), () => settle(intent.id));
  }

  function createIntent(body: z.infer<typeof createIntentSchema>, behaviour: TokenBehaviour): Outcome {
    const isAsync = behaviour === 'async_succeed' || behaviour === 'async_fail';
    const status: IntentStatus = behaviour === 'decline' ? 'requires_payment_method' : isAsync ? 'processing' : 'succeeded';
    const intent: PaymentIntent = {
      id: newId('pi'),
      object: 'payment_intent',
      amount: body.amount,
      currency: body.currency.toUpperCase(),
      status,
      payment_method: body.payment_method,
      metadata: body.metadata ?? {},
      transfer_group: body.transfer_group ?? null,
      amount_refunded: 0,
      created: Math.floor(Date.now() / 1000),
      last_payment_error: behaviour === 'decline' ? { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' } : null,
      settle_at_ms: isAsync ? Date.now() + settings.asyncDelayMs : null,
      settle_to: behaviour === 'async_succeed' ? 'succeeded' : behaviour === 'async_fail' ? 'failed' : null,
    };
    store.saveIntent(intent);
    scheduleSettlement(intent);
    if (behaviour === 'decline') {
      emit('payment.failed', intent, intent.amount);
      const outcome = apiError(402, 'card_error', 'card_declined', 'Your card was declined.', { decline_code: 'generic_decline', payment_intent: publicIntent(intent) });
      return { ...outcome, store: true };
    }
    if (status === 'succeeded') emit('payment.succeeded', intent, intent.amount);
    return { status: 200, body: publicIntent(intent), store: true, dropResponse: behaviour === 'succeed_but_time_out' };
  }

  /**
   * Stripe's cancel: a payment that has not succeeded (processing, or failed back to
   * requires_payment_method) becomes `canceled`, for good; cancelling it again answers the same; a
   * succeeded payment cannot be cancelled (400 payment_intent_unexpected_state, the intent attached,
   * nothing stored under the key). Synchronous, like settle(): whichever of the two runs first wins.
   */
  function cancelIntent(intentId: string, body: z.infer<typeof cancelIntentSchema>): Outcome {
    const intent = store.intents.get(intentId);
    if (!intent) return apiError(404, 'invalid_request_error', 'resource_missing', `No such payment_intent: '${intentId}'`);
    if (intent.status === 'canceled') return { status: 200, body: publicIntent(intent), store: true };
    if (intent.status === 'succeeded') {
      return apiError(
        400,
        'invalid_request_error',
        'payment_intent_unexpected_state',
        `You cannot cancel this PaymentIntent because it has a status of ${intent.status}. Only a PaymentIntent that has not succeeded can be canceled.`,
        { payment_intent: publicIntent(intent) },
      );
    }
    intent.status = 'canceled';
    intent.canceled_at = Math.floor(Date.now() / 1000);
    intent.cancellation_reason = body.cancellation_reason ?? null;
    intent.settle_at_ms = null;
    intent.settle_to = null;
    store.saveIntent(intent);
    emit('payment.canceled', intent, intent.amount);
    return { status: 200, body: publicIntent(intent), store: true };
  }

  function createRefund(body: z.infer<typeof createRefundSchema>): Outcome {
    const intent = store.intents.get(body.payment_intent);
    if (!intent) return apiError(404, 'invalid_request_error', 'resource_missing', `No such payment_intent: '${body.payment_intent}'`, { param: 'payment_intent' });
    if (intent.status !== 'succeeded') {
      return apiError(400, 'invalid_request_error', 'payment_intent_unexpected_state', `PaymentIntent ${intent.id} has status ${intent.status}; only a succeeded payment can be refunded.`);
    }
    // Refusals have no effect, so they are not stored under the key: once the cause is gone (the
    // switch turned off), a retry with the same key goes through.
    if (refundRefusingTokens.has(intent.payment_method)) {
      return apiError(400, 'invalid_request_error', 'charge_disputed', `Charge of PaymentIntent ${intent.id} has been disputed; it cannot be refunded.`);
    }
    if (testSettings.refuseRefunds) {
      return apiError(402, 'invalid_request_error', 'refund_failed', `The refund of PaymentIntent ${intent.id} was refused (simulator setting refuseRefunds).`);
    }
    const refundable = intent.amount - intent.amount_refunded;
    const amount = body.amount ?? refundable;
    if (amount < 1 || amount > refundable) {
      return apiError(400, 'invalid_request_error', 'amount_too_large', `Refund amount (${amount}) is greater than the unrefunded amount (${refundable}).`, { param: 'amount' });
    }
    const refund: Refund = {
      id: newId('re'),
      object: 'refund',
      amount,
      currency: intent.currency,
      payment_intent: intent.id,
      status: 'succeeded',
      metadata: body.metadata ?? {},
      created: Math.floor(Date.now() / 1000),
    };
    intent.amount_refunded += amount;
    store.saveIntent(intent);
    store.saveRefund(refund);
    emit('refund.succeeded', intent, amount, { refundId: refund.id, ...(refund.metadata.sellerId ? { sellerId: refund.metadata.sellerId } : {}) });
    return { status: 200, body: refund, store: true };
  }

  function createTransfer(body: z.infer<typeof createTransferSchema>): Outcome {
    if (testSettings.refusePayouts) {
      return apiError(400, 'invalid_request_error', 'account_invalid', `The destination account ${body.destination} cannot receive transfers (simulator setting refusePayouts).`, { param: 'destination' });
    }
    const transfer: Transfer = {
      id: newId('tr'),
      object: 'transfer',
      amount: body.amount,
      currency: body.currency.toUpperCase(),
      destination: body.destination,
      transfer_group: body.transfer_group ?? null,
      metadata: body.metadata ?? {},
      created: Math.floor(Date.now() / 1000),
    };
    store.saveTransfer(transfer);
    return { status: 200, body: transfer, store: true };
  }

  /**
   * Stripe's idempotency rules: a key is required; a repeat with the same parameters replays the
   * stored answer (header Idempotent-Replayed: true); the same key with other parameters (or on
   * another endpoint) is a 409. Only answers of requests that took effect are stored, so a request
   * refused by validation may be retried with the same key once fixed. `keyOptional`: an endpoint
   * that is idempotent by nature (cancel) also takes requests without a key, and stores nothing.
   */
  function idempotent<T>(schema: z.ZodType<T>, execute: (body: T, req: Request) => Outcome, { keyOptional = false } = {}): RequestHandler {
    return (req, res) => {
      const key = req.get('Idempotency-Key');
      if (key === undefined && keyOptional) {
        const parsed = schema.safeParse(req.body ?? {});
        send(res, parsed.success ? execute(parsed.data, req) : invalidParameters(parsed.error));
        return;
      }
      if (!key || key.length > 255) {
        send(res, apiError(400, 'invalid_request_error', 'idempotency_key_required', 'An Idempotency-Key header of 1-255 characters is required.'));
        return;
      }
      const fingerprint = fingerprintOf(req);
      const prior = store.idempotencyRecord(key);
      if (prior) {
        if (prior.fingerprint !== fingerprint) {
          send(res, apiError(409, 'idempotency_error', 'idempotency_key_in_use', `Keys for idempotent requests can only be used with the same parameters they were first used with (key ${key}).`));
          return;
        }
        res.setHeader('Idempotent-Replayed', 'true');
        res.status(prior.statusCode).json(prior.body);
        return;
      }
      const parsed = schema.safeParse(req.body ?? {});
      if (!parsed.success) {
        send(res, invalidParameters(parsed.error));
        return;
      }
      const outcome = execute(parsed.data, req);
      if (outcome.store) store.saveIdempotency({ key, fingerprint, statusCode: outcome.status, body: outcome.body, createdAtMs: clock() });
      if (outcome.dropResponse) {
        // The charge went through, but this answer never arrives: the client times out and must
        // find the charge again through its idempotency key.
        log(`holding the response to ${key} for ${settings.timeoutDelayMs} ms, then dropping it (tok_timeout)`);
        later(settings.timeoutDelayMs, () => res.socket?.destroy());
        return;
      }
      if (outcome.store && settings.faultAfterCommitRate > 0 && random() < settings.faultAfterCommitRate) {
        send(res, apiError(500, 'api_error', 'injected_fault', 'Injected fault after the request took effect.'));
        return;
      }
      send(res, outcome);
    };
  }

  const injectFaults: RequestHandler = async (_req, res, next) => {
    const delay = settings.latencyMs + (settings.latencyJitterMs > 0 ? Math.floor(random() * (settings.latencyJitterMs + 1)) : 0);
    if (delay > 0) await sleep(delay);
    if (settings.faultRate > 0 && random() < settings.faultRate) {
      send(res, apiError(503, 'api_error', 'injected_fault', 'Injected fault: service unavailable, nothing was done.'));
      return;
    }
    next();
  };

  function updateTestSettings(patch: Partial<PspTestSettings>): PspTestSettings {
    for (const [name, value] of Object.entries(patch) as [keyof PspTestSettings, boolean | undefined][]) {
      if (value !== undefined && testSettings[name] !== value) {
        testSettings[name] = value;
        log(`test setting ${name} = ${String(value)}`);
      }
    }
    return { ...testSettings };
  }

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', payments: store.intents.size });
  });
  // Test control: mounted before the fault injection, so a test can always reach it.
  app.get('/v1/test/settings', (_req, res) => {
    res.json({ ...testSettings });
  });
  app.post('/v1/test/settings', express.json({ limit: '4kb' }), (req, res) => {
    const parsed = testSettingsSchema.safeParse(req.body ?? {});
    if (!parsed.success) send(res, invalidParameters(parsed.error));
    else res.json(updateTestSettings(parsed.data));
  });
  app.use('/v1', injectFaults, express.json({ limit: '64kb' }));
  app.post('/v1/payment_intents', idempotent(createIntentSchema, (body) => {
    const behaviour = tokenBehaviours[body.payment_method as keyof typeof tokenBehaviours] as TokenBehaviour | undefined;
    if (!behaviour) {
      return apiError(400, 'invalid_request_error', 'resource_missing', `No such PaymentMethod: '${body.payment_method}'`, { param: 'payment_method' });
    }
    return createIntent(body, behaviour);
  }));
  app.get('/v1/payment_intents', (req, res) => {
    const orderId = typeof req.query.order_id === 'string' ? req.query.order_id : undefined;
    const data = [...store.intents.values()].filter((i) => orderId === undefined || i.metadata.orderId === orderId).map(publicIntent);
    res.json({ object: 'list', data });
  });
  app.get('/v1/payment_intents/:id', (req, res) => {
    const intent = store.intents.get(req.params.id ?? '');
    if (!intent) send(res, apiError(404, 'invalid_request_error', 'resource_missing', `No such payment_intent: '${req.params.id}'`));
    else res.json(publicIntent(intent));
  });
  app.post('/v1/payment_intents/:id/cancel', idempotent(cancelIntentSchema, (body, req) => cancelIntent(String(req.params.id), body), { keyOptional: true }));
  app.post('/v1/refunds', idempotent(createRefundSchema, createRefund));
  app.get('/v1/refunds', (req, res) => {
    const intentId = typeof req.query.payment_intent === 'string' ? req.query.payment_intent : undefined;
    res.json({ object: 'list', data: [...store.refunds.values()].filter((r) => intentId === undefined || r.payment_intent === intentId) });
  });
  app.post('/v1/transfers', idempotent(createTransferSchema, createTransfer));
  app.use((req, res) => send(res, apiError(404, 'invalid_request_error', 'unknown_route', `Unrecognized request URL (${req.method}: ${req.path}).`)));
  const onError: ErrorRequestHandler = (err: { type?: string; status?: number; message?: string }, _req, res, _next) => {
    if (err.type === 'entity.parse.failed') send(res, apiError(400, 'invalid_request_error', 'parameter_invalid', 'The request body is not valid JSON.'));
    else if (typeof err.status === 'number' && err.status < 500) send(res, apiError(err.status, 'invalid_request_error', 'invalid_request', err.message ?? 'invalid request'));
    else {
      log(`internal error: ${String(err.message)}`);
      send(res, apiError(500, 'api_error', 'internal', 'Internal error.'));
    }
  };
  app.use(onError);

  for (const intent of store.intents.values()) scheduleSettlement(intent);
  dispatcher.start();

  let server: Server | undefined;
  const sockets = new Set<Socket>();
  let url = '';

  return {
    app,
    get url() {
      return url;
    },
    updateTestSettings,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise<number>((resolve, reject) => {
        const s = app.listen(port, host);
        server = s;
        s.on('connection', (socket) => {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
        });
        s.once('error', reject);
        s.once('listening', () => {
          const address = s.address();
          const actual = typeof address === 'object' && address ? address.port : port;
          url = `http://${host}:${actual}`;
          resolve(actual);
        });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await dispatcher.close();
      if (server) {
        const s = server;
        const stopped = new Promise<void>((resolve) => s.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await stopped;
      }
      store.close();
    },
  };
}

function send(res: Response, outcome: Outcome): void {
  res.status(outcome.status).json(outcome.body);
}

function invalidParameters(error: z.ZodError): Outcome {
  const issue = error.issues[0];
  return apiError(400, 'invalid_request_error', 'parameter_invalid', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`, { param: issue?.path.join('.') });
}

/** Drops undefined fields so they do not override the defaults. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
