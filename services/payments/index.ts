/**
 * Payments: one charge per order, refunds and payouts per seller parcel, verified webhooks, behind
 * a PaymentGateway (the PSP simulator or Stripe). See docs/payments-and-ledger.md.
 */
export { createPaymentsService, paymentKeys, paymentLimits, type PaymentsDeps, type PaymentsService } from './service';
export { createSimulatorGateway, simulatorGatewayDefaults, type SimulatorGatewayOptions } from './simulator-gateway';
export { createStripeGateway, stripeGatewayDefaults, stripeHostOptions, type StripeGatewayOptions } from './stripe-gateway';
export { createPayoutBooks, createPayoutMetrics, payoutPendingCode, type PayoutBooks, type PayoutMetrics } from './payouts';
export { createGatewayFromEnv, type GatewayFromEnvOptions } from './gateway-config';
export { signPaymentPayload, verifyPaymentSignature, parsePaymentEvent, webhookToleranceSec } from './webhook-signature';
export type * from './types';
