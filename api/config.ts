/**
 * The API's own settings, from the environment on top of lib/config.ts (which every process
 * shares): CHECKOUT_WAIT_MS (default 2000), CHECKOUT_RATE_LIMIT (requests per user per
 * CHECKOUT_RATE_WINDOW_MS, default 30 per 60000), API_BODY_LIMIT_BYTES (default 65536),
 * API_QUERY_TIMEOUT_MS (default 1500), CHECKOUT_RATE_LIMIT_PREFIX (Redis key prefix of the shared
 * checkout limit, default `rl:checkout:`), METRICS_PORT (serve /metrics on that port only; unset:
 * on the API port), and the saga periods every checkout is started with:
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

function rateLimitPrefix(env: Env): string {
  const raw = env.CHECKOUT_RATE_LIMIT_PREFIX?.trim();
  if (!raw) return apiDefaults.checkoutRateLimit.prefix;
  if (!/^[\x21-\x7e]{1,64}$/.test(raw)) throw new Error(`CHECKOUT_RATE_LIMIT_PREFIX must be 1-64 printable ASCII characters without spaces, got "${raw}"`);
  return raw;
}

/** METRICS_PORT: a port of its own for /metrics (not the API's PORT); unset: /metrics on the API port. */
function metricsPortFromEnv(env: Env, apiPort: number): { metricsPort?: number } {
  if (!env.METRICS_PORT?.trim()) return {};
  const metricsPort = positiveInt(env, 'METRICS_PORT', 0, 65535);
  if (metricsPort === apiPort) throw new Error(`METRICS_PORT must differ from PORT (${apiPort}); leave it unset to serve /metrics on the API port`);
  return { metricsPort };
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
      prefix: rateLimitPrefix(env),
    },
    ...metricsPortFromEnv(env, base.port),
    bodyLimitBytes: positiveInt(env, 'API_BODY_LIMIT_BYTES', apiDefaults.bodyLimitBytes, 10 * 1024 * 1024),
    queryTimeoutMs: positiveInt(env, 'API_QUERY_TIMEOUT_MS', apiDefaults.queryTimeoutMs, 60_000),
    checkoutSettings: checkoutSettingsFromEnv(env),
  };
}

/** The effective configuration: the environment's, overridden by what the caller gives. */
export function resolveApiConfig(given: Partial<ApiConfig> = {}, env: Env = process.env): ApiConfig {
  return { ...apiConfigFromEnv(env), ...given };
}
