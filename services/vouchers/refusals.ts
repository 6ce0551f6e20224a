/** The voucher refusals (api-contract.md): the codes the hold script answers, and their messages. */
import { BusinessError } from '../../lib/errors';
import type { HoldScriptStatus } from './redis-state';
import type { VoucherDefinition, VoucherRefusalCode } from './types';

export const refusalCodes: Record<Exclude<HoldScriptStatus, 'OK' | 'EXISTS' | 'MISSING'>, VoucherRefusalCode> = {
  NOT_FOUND: 'VOUCHER_NOT_FOUND',
  NOT_STARTED: 'VOUCHER_NOT_STARTED',
  EXPIRED: 'VOUCHER_EXPIRED',
  USER_LIMIT: 'VOUCHER_USER_LIMIT',
  EXHAUSTED: 'VOUCHER_EXHAUSTED',
};

const refusalMessages: Record<VoucherRefusalCode, string> = {
  VOUCHER_NOT_FOUND: 'does not exist',
  VOUCHER_NOT_STARTED: 'is not valid yet',
  VOUCHER_EXPIRED: 'has expired',
  VOUCHER_EXHAUSTED: 'has reached its usage limit',
  VOUCHER_USER_LIMIT: 'has reached its usage limit for this user',
};

export function refusal(code: VoucherRefusalCode, voucherCode: string, def?: VoucherDefinition): BusinessError {
  const details: Record<string, unknown> = { code: voucherCode };
  if (def && code === 'VOUCHER_NOT_STARTED') details.startsAt = def.startsAt;
  if (def && code === 'VOUCHER_EXPIRED') details.expiresAt = def.expiresAt;
  return new BusinessError(code, `voucher ${voucherCode} ${refusalMessages[code]}`, details);
}
