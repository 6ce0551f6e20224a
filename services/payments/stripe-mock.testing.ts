/**
 * Test support for the Stripe gateway against stripe-mock (Stripe's official mock server, which
 * validates every request against Stripe's OpenAPI): where it is (STRIPE_MOCK_URL, default
 * http://127.0.0.1:12111, started by `npm run stack -- up --for-tests`), a check that fails with
 * a clear message when it is not running, a gateway pointed at it, and an HTTP client that records
 * every request the SDK sends (stripe-mock is stateless: what we sent is what there is to check).
 */
import Stripe from 'stripe';
import { createStripeGateway, type StripeGatewayOptions } from './stripe-gateway';
import type { PaymentGateway } from './types';

export const stripeMockUrl = (): string => process.env.STRIPE_MOCK_URL?.trim() || 'http://127.0.0.1:12111';

/** Throws (never skips) when stripe-mock does not answer: CI must not pass without it. */
export async function requireStripeMock(): Promise<void> {
  const url = stripeMockUrl();
  try {
    const res = await fetch(`${url}/v1/balance`, { headers: { Authorization: 'Bearer sk_test_123' }, signal: AbortSignal.timeout(3000) });
    if (res.headers.get('stripe-mock-version') === null) throw new Error(`HTTP ${res.status} without a Stripe-Mock-Version header: not stripe-mock`);
  } catch (err) {
    throw new Error(
      `stripe-mock is not reachable at STRIPE_MOCK_URL=${url} (${(err as Error).message}). ` +
        'Start it with `npm run stack -- up --for-tests` (it listens on 127.0.0.1:12111), or point STRIPE_MOCK_URL at a running one.',
    );
  }
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  form: URLSearchParams;
  status: number;
  body: Record<string, unknown>;
}

/** The SDK's real Node HTTP client, recording each request and its JSON answer. */
export function recordingHttpClient(): { httpClient: Stripe.HttpClient; requests: RecordedRequest[] } {
  const inner = Stripe.createNodeHttpClient();
  const requests: RecordedRequest[] = [];
  const httpClient = Object.create(inner) as Stripe.HttpClient;
  httpClient.makeRequest = async (host, port, path, method, headers, requestData, protocol, timeout) => {
    const response = await inner.makeRequest(host, port, path, method, headers, requestData, protocol, timeout);
    const json = (await response.toJSON()) as Record<string, unknown>;
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    requests.push({ method, path, headers: lower, form: new URLSearchParams(typeof requestData === 'string' ? requestData : ''), status: response.getStatusCode(), body: json });
    // toJSON consumed the body: hand the SDK the same response with an answer it can read again.
    return Object.assign(Object.create(response) as Stripe.HttpClientResponse, { toJSON: () => Promise.resolve(json) });
  };
  return { httpClient, requests };
}

export const stripeTestSecrets = { secretKey: 'sk_test_123', webhookSecret: 'whsec_test_stripe_mock' } as const;

/** A Stripe gateway talking to stripe-mock through a recording client. */
export function stripeMockGateway(options: Partial<StripeGatewayOptions> = {}): { gateway: PaymentGateway; requests: RecordedRequest[] } {
  const { httpClient, requests } = recordingHttpClient();
  const gateway = createStripeGateway({
    ...stripeTestSecrets,
    sellerAccountId: () => null,
    apiBase: stripeMockUrl(),
    maxNetworkRetries: 0,
    httpClient,
    ...options,
  });
  return { gateway, requests };
}

/** A Stripe event signed the way Stripe signs it (stripe.webhooks.generateTestHeaderString). */
export function signedStripeEvent(type: string, object: Record<string, unknown>, id = `evt_${Math.random().toString(36).slice(2, 14)}`): { id: string; payload: string; signature: string } {
  const payload = JSON.stringify({ id, object: 'event', type, created: Math.floor(Date.now() / 1000), api_version: Stripe.API_VERSION, livemode: false, data: { object } });
  return { id, payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: stripeTestSecrets.webhookSecret }) };
}
