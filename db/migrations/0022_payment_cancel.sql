-- A payment the checkout saga stops waiting for is cancelled at the payment service provider
-- (services/payments settleOrCancel): status 'canceled', final, nothing was taken. It is reached
-- from 'pending' or 'processing' only (the service moves statuses forward, never back), and, like
-- 'declined' and 'failed', it can never carry refunds (payments_refunds_only_after_success).
-- See docs/payments-and-ledger.md.
--
-- The new CHECK only widens the old one, so every existing row satisfies it. Both changes are one
-- ALTER TABLE statement: no moment without a status CHECK.
ALTER TABLE payments
  DROP CONSTRAINT payments_status_check,
  ADD CONSTRAINT payments_status_check CHECK (status IN ('pending', 'processing', 'succeeded', 'declined', 'failed', 'canceled'));
