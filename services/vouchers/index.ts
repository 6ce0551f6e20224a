/** Voucher service: definitions, holds and redemptions under total and per-user limits. See docs/services.md. */
export {
  createVoucherService,
  refusal as voucherRefusal,
  toPricingVoucher,
  type HoldStatus,
  type VoucherDefinition,
  type VoucherDeps,
  type VoucherHold,
  type VoucherRefusalCode,
  type VoucherScope,
  type VoucherService,
  type VoucherType,
  type VoucherUsage,
  type VoucherView,
} from './service';
export type { VoucherInputBody } from './schemas';
export { partitionVouchers, windowRefusalAt, type VoucherWindowIssue, type VoucherWindowRefusal } from './window';
export { voucherHoldMsFromEnv } from './hold-config';
