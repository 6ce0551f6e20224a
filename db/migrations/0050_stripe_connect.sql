-- Stripe Connect (issue 17): sellers carry a connected account, and a payout to a seller without
-- one waits, visible, until an administrator sets it. See docs/payments-and-ledger.md.

-- The seller's Stripe connected account (acct_...), the destination of its payouts. Null: none yet.
ALTER TABLE sellers ADD COLUMN stripe_account_id text CHECK (stripe_account_id ~ '^acct_[A-Za-z0-9]+$');

-- A payout now exists before it has a destination: status 'awaiting_account' (the seller had no
-- connected account when the parcel's funds were released), destination null. Setting the account
-- moves it to 'pending' with that destination, and the transfer (same idempotency key) to
-- 'succeeded'. A transfer the PSP refused or could not make keeps the row pending, its reason in
-- last_error, so it stays visible and is tried again with the same key.
ALTER TABLE payment_payouts
  ALTER COLUMN destination DROP NOT NULL,
  DROP CONSTRAINT payment_payouts_status_check,
  ADD CONSTRAINT payment_payouts_status_check CHECK (status IN ('awaiting_account', 'pending', 'succeeded')),
  ADD CONSTRAINT payment_payouts_destination_once_pending CHECK (status = 'awaiting_account' OR destination IS NOT NULL),
  ADD CONSTRAINT payment_payouts_transfer_when_paid CHECK (status <> 'succeeded' OR transfer_id IS NOT NULL),
  ADD COLUMN last_error text CHECK (length(last_error) <= 1000);

-- "Which payouts of this seller are still owed": read when its account is set and by the admin view.
CREATE INDEX payment_payouts_unpaid_by_seller ON payment_payouts (seller_id) WHERE status <> 'succeeded';
