/**
 * Chooses the payment gateway from the environment:
 *
 *   PAYMENT_GATEWAY        simulator (default) | stripe
 *   PSP_URL                the simulator's base URL (default http://127.0.0.1:${PSP_PORT or 4242})
 *   PSP_TIMEOUT_MS         per-request timeout towards the simulator (default 5000)
 *   WEBHOOK_SECRET         verifies the simulator's Payment-Signature (lib/config.ts)
 *   STRIPE_SECRET_KEY      required for stripe
 *   STRIPE_WEBHOOK_SECRET  required for stripe
 *   STRIPE_API_BASE        optional: another server speaking Stripe's API (stripe-mock, http://127.0.0.1:12111)
 *
 * Stripe pays each seller to its connected account: the payments service reads it from the seller
 * catalogue (sellers.stripe_account_id, set by PUT /v1/admin/sellers/{sellerId}); `sellerAccountId`
 * is a fallback for sellers without one there. No account: the payout waits (PAYOUT_PENDING).
 */
import { loadConfig, localPorts } from '../../lib/config';
import { createSimulatorGateway, simulatorGatewayDefaults } from './simulator-gateway';
import { createStripeGateway, noConnectedAccount } from './stripe-gateway';
import type { PaymentGateway } from './types';

type Env = Record<string, string | undefined>;

function value(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

export interface GatewayFromEnvOptions {
  /** The connected account of a seller (Stripe Connect); required to pay sellers through Stripe. */
  sellerAccountId?: (sellerId: string) => string | null | undefined | Promise<string | null | undefined>;
}

export function createGatewayFromEnv(env: Env = process.env, options: GatewayFromEnvOptions = {}): PaymentGateway {
  const kind = value(env, 'PAYMENT_GATEWAY') ?? 'simulator';
  if (kind === 'stripe') {
    return createStripeGateway({
      secretKey: value(env, 'STRIPE_SECRET_KEY') ?? '',
      webhookSecret: value(env, 'STRIPE_WEBHOOK_SECRET') ?? '',
      ...(value(env, 'STRIPE_API_BASE') ? { apiBase: value(env, 'STRIPE_API_BASE') } : {}),
      sellerAccountId:
        options.sellerAccountId ??
        ((sellerId) => {
          throw noConnectedAccount(sellerId);
        }),
    });
  }
  if (kind !== 'simulator') throw new Error(`PAYMENT_GATEWAY must be "simulator" or "stripe", got "${kind}"`);
  const timeout = value(env, 'PSP_TIMEOUT_MS');
  const timeoutMs = timeout === undefined ? simulatorGatewayDefaults.timeoutMs : Number(timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new Error(`PSP_TIMEOUT_MS must be a positive integer, got "${timeout}"`);
  return createSimulatorGateway({
    baseUrl: value(env, 'PSP_URL') ?? `http://127.0.0.1:${value(env, 'PSP_PORT') ?? localPorts.psp}`,
    timeoutMs,
    webhookSecret: loadConfig(env).webhookSecret,
    ...(options.sellerAccountId ? { sellerDestination: options.sellerAccountId } : {}),
  });
}
