/**
 * The API's own settings, from the environment on top of lib/config.ts (which every process
 * shares): CHECKOUT_WAIT_MS (default 2000), CHECKOUT_RATE_LIMIT (requests per user per
 * CHECKOUT_RATE_WINDOW_MS, default 30 per 60000), API_BODY_LIMIT_BYTES (default 65536),
 * API_QUERY_TIMEOUT_MS (default 1500), and the saga periods every checkout is started with:
 * PAYMENT_TIMEOUT_MS, SHIP_BY_MS, AUTO_RELEASE_MS (unset: the workflow's defaults of 15 minutes,
 * 3 days and 7 days).
 */
import { loadConfig } from '../lib/config';
import type { CheckoutSettings } from '../workflows/contract';
import { apiDefaults, type ApiConfig } from './deps';

type Env = Record<string, string | undefined>;

function positiveInt(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name} must be an integer from 1 to ${max}, got "${raw}"`);
  return value;
}

const yearMs = 366 * 24 * 3600 * 1000;

function checkoutSettingsFromEnv(env: Env): Partial<CheckoutSettings> {
  const settings: Partial<CheckoutSettings> = {};
  if (env.PAYMENT_TIMEOUT_MS) settings.paymentTimeout = positiveInt(env, 'PAYMENT_TIMEOUT_MS', 0, yearMs);
  if (env.SHIP_BY_MS) settings.shipBy = positiveInt(env, 'SHIP_BY_MS', 0, yearMs);
  if (env.AUTO_RELEASE_MS) settings.autoRelease = positiveInt(env, 'AUTO_RELEASE_MS', 0, yearMs);
  return settings;
}

export function apiConfigFromEnv(env: Env = process.env): ApiConfig {
  const base = loadConfig(env);
  return {
    jwtSecret: base.jwtSecret,
    taskQueue: base.taskQueue,
    checkoutWaitMs: positiveInt(env, 'CHECKOUT_WAIT_MS', apiDefaults.checkoutWaitMs, 60_000),
    checkoutRateLimit: {
      limit: positiveInt(env, 'CHECKOUT_RATE_LIMIT', apiDefaults.checkoutRateLimit.limit, 1_000_000),
      windowMs: positiveInt(env, 'CHECKOUT_RATE_WINDOW_MS', apiDefaults.checkoutRateLimit.windowMs, 86_400_000),
    },
    bodyLimitBytes: positiveInt(env, 'API_BODY_LIMIT_BYTES', apiDefaults.bodyLimitBytes, 10 * 1024 * 1024),
    queryTimeoutMs: positiveInt(env, 'API_QUERY_TIMEOUT_MS', apiDefaults.queryTimeoutMs, 60_000),
    checkoutSettings: checkoutSettingsFromEnv(env),
  };
}

/** The effective configuration: the environment's, overridden by what the caller gives. */
export function resolveApiConfig(given: Partial<ApiConfig> = {}, env: Env = process.env): ApiConfig {
  return { ...apiConfigFromEnv(env), ...given };
}
