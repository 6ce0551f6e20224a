/** The double-entry ledger: escrow per order, release or refund per seller parcel. See docs/payments-and-ledger.md. */
export { createLedgerService, type LedgerDeps, type LedgerService } from './service';
export { ledgerKeys, ledgerLimits } from './postings';
export * from './types';
