/**
 * The simulator's configuration from environment variables (documented in
 * docs/payments-and-ledger.md, "PSP simulator"). Every derived default follows the variables it
 * derives from: the webhook URL follows the API's PORT, the data folder follows STACK_DATA_DIR.
 */
import path from 'node:path';
import { loadConfig, localPorts, projectRoot } from '../../lib/config';
import type { PspServerOptions } from './server';

type Env = Record<string, string | undefined>;

export interface PspProcessConfig {
  port: number;
  host: string;
  options: PspServerOptions;
}

function value(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function int(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  const parsed = Number(raw);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new Error(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return parsed;
}

/** A probability: a decimal fraction 0..1 (e.g. 0.05 for 5 %). Not money, so a float is fine. */
function rate(env: Env, name: string): number | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  const parsed = Number(raw);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) throw new Error(`${name} must be a number between 0 and 1, got "${raw}"`);
  return parsed;
}

/** A switch: 1/true/yes or 0/false/no (case-insensitive). */
function flag(env: Env, name: string): boolean | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new Error(`${name} must be 1 or 0 (true/false), got "${raw}"`);
}

const dayMs = 24 * 60 * 60 * 1000;

/** The default data folder: `.data/psp` of the stack (STACK_DATA_DIR moves the whole stack's data). */
export function defaultPspDataDir(env: Env = process.env): string {
  return value(env, 'PSP_DATA_DIR') ?? path.join(value(env, 'STACK_DATA_DIR') ?? path.join(projectRoot, '.data'), 'psp');
}

export function loadPspConfig(env: Env = process.env): PspProcessConfig {
  const app = loadConfig(env);
  return {
    port: int(env, 'PSP_PORT', 1, 65535) ?? localPorts.psp,
    host: value(env, 'PSP_HOST') ?? '127.0.0.1',
    options: {
      dataDir: defaultPspDataDir(env),
      webhookUrl: value(env, 'PSP_WEBHOOK_URL') ?? `http://127.0.0.1:${app.port}/v1/webhooks/payments`,
      webhookSecret: app.webhookSecret,
      latencyMs: int(env, 'PSP_LATENCY_MS', 0, 600_000),
      latencyJitterMs: int(env, 'PSP_LATENCY_JITTER_MS', 0, 600_000),
      faultRate: rate(env, 'PSP_FAULT_RATE'),
      faultAfterCommitRate: rate(env, 'PSP_FAULT_AFTER_COMMIT_RATE'),
      asyncDelayMs: int(env, 'PSP_ASYNC_DELAY_MS', 0, dayMs),
      timeoutDelayMs: int(env, 'PSP_TIMEOUT_DELAY_MS', 0, dayMs),
      webhookRetryBaseMs: int(env, 'PSP_WEBHOOK_RETRY_BASE_MS', 1, dayMs),
      webhookRetryMaxMs: int(env, 'PSP_WEBHOOK_RETRY_MAX_MS', 1, dayMs),
      webhookGiveUpAfterMs: int(env, 'PSP_WEBHOOK_GIVE_UP_AFTER_MS', 1, 30 * dayMs),
      webhookDuplicateRate: rate(env, 'PSP_WEBHOOK_DUPLICATE_RATE'),
      webhookReorderRate: rate(env, 'PSP_WEBHOOK_REORDER_RATE'),
      webhookReorderDelayMs: int(env, 'PSP_WEBHOOK_REORDER_DELAY_MS', 0, dayMs),
      refuseRefunds: flag(env, 'PSP_REFUSE_REFUNDS'),
      refusePayouts: flag(env, 'PSP_REFUSE_PAYOUTS'),
    },
  };
}
