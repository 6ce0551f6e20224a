-- Double-entry ledger (services/ledger). See docs/payments-and-ledger.md for the accounts, the
-- sign convention and the posting rules.
--
-- Sign convention: a posting's amount_minor is signed, DEBIT POSITIVE, CREDIT NEGATIVE. Every
-- entry's postings sum to zero, so the sum of all balances is zero too. Asset and expense accounts
-- (psp_clearing, platform_promotion_expense) normally show positive balances; liability and revenue
-- accounts (order_escrow, seller_payable, tax_payable, buyer_refunds_payable,
-- platform_commission_revenue) normally show negative ones.
--
-- The database itself guarantees:
--   * every entry balances (a DEFERRABLE INITIALLY DEFERRED constraint trigger, checked at commit);
--   * entries, postings and parcels are immutable (UPDATE, DELETE and TRUNCATE are rejected), and
--     postings can only be added in the transaction that created their entry;
--   * one entry per business key, and at most one settlement (release or refund) per parcel.

CREATE TABLE ledger_entries (
  entry_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- escrow:<orderId>, release:<orderId>:<sellerId>, refund:<orderId>:<sellerId>, ... (ids percent-encoded)
  business_key  text NOT NULL UNIQUE CHECK (length(business_key) BETWEEN 1 AND 1000),
  kind          text NOT NULL CHECK (kind IN ('escrow', 'release', 'refund', 'refund_paid', 'payout_paid', 'adjustment')),
  order_id      text,
  seller_id     text,
  currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  memo          text NOT NULL DEFAULT '' CHECK (length(memo) <= 500),
  -- The transaction that created the entry (set by trigger): postings may only be added by it.
  tx_id         xid8 NOT NULL DEFAULT pg_current_xact_id(),
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (entry_id, currency),
  CHECK (kind NOT IN ('release', 'refund', 'refund_paid', 'payout_paid') OR (order_id IS NOT NULL AND seller_id IS NOT NULL)),
  CHECK (kind <> 'escrow' OR order_id IS NOT NULL)
);
-- A parcel's escrow leaves either to the seller (release) or back to the buyer (refund), never both.
CREATE UNIQUE INDEX ledger_entries_one_settlement_per_parcel
  ON ledger_entries (order_id, seller_id) WHERE kind IN ('release', 'refund');
CREATE INDEX ledger_entries_order ON ledger_entries (order_id);

CREATE TABLE ledger_postings (
  posting_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  entry_id      bigint NOT NULL,
  -- Repeated from the entry (composite foreign key) so balances group by currency without a join
  -- and an entry can never mix currencies.
  currency      text NOT NULL,
  account_kind  text NOT NULL CHECK (account_kind IN (
                  'psp_clearing', 'order_escrow', 'seller_payable', 'platform_commission_revenue',
                  'platform_promotion_expense', 'tax_payable', 'buyer_refunds_payable')),
  -- The account's owner: the order id for order_escrow and buyer_refunds_payable, the seller id for
  -- seller_payable, '' for the platform-wide accounts.
  account_ref   text NOT NULL DEFAULT '',
  -- The seller parcel this posting belongs to (an analysis dimension), null when not parcel-specific.
  seller_id     text,
  amount_minor  bigint NOT NULL CHECK (amount_minor <> 0),
  FOREIGN KEY (entry_id, currency) REFERENCES ledger_entries (entry_id, currency),
  CHECK ((account_kind IN ('order_escrow', 'seller_payable', 'buyer_refunds_payable')) = (account_ref <> ''))
);
CREATE INDEX ledger_postings_entry ON ledger_postings (entry_id);
CREATE INDEX ledger_postings_account ON ledger_postings (account_kind, account_ref);

-- The per-seller split of an order's escrow, written with the escrow entry. Release and refund read
-- their amounts from here, so they pay out exactly what went in.
CREATE TABLE ledger_parcels (
  order_id                text NOT NULL,
  seller_id               text NOT NULL,
  -- Seller order of the price breakdown (first appearance in the cart), for stable statements.
  position                integer NOT NULL CHECK (position >= 0),
  currency                text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  escrow_entry_id         bigint NOT NULL REFERENCES ledger_entries (entry_id),
  customer_paid_minor     bigint NOT NULL CHECK (customer_paid_minor >= 0),
  -- Platform-funded merchandise discount + platform-funded shipping discount of this parcel.
  platform_subsidy_minor  bigint NOT NULL CHECK (platform_subsidy_minor >= 0),
  payout_minor            bigint NOT NULL CHECK (payout_minor >= 0),
  commission_minor        bigint NOT NULL CHECK (commission_minor >= 0),
  tax_minor               bigint NOT NULL CHECK (tax_minor >= 0),
  PRIMARY KEY (order_id, seller_id),
  CHECK (customer_paid_minor + platform_subsidy_minor = payout_minor + commission_minor + tax_minor)
);

-- Stamps the creating transaction on an entry (a client cannot choose it).
CREATE FUNCTION ledger_stamp_entry_tx() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.tx_id := pg_current_xact_id();
  RETURN NEW;
END $$;
CREATE TRIGGER ledger_entries_stamp_tx BEFORE INSERT ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_stamp_entry_tx();

-- Postings may only be added while their entry is being created: a committed entry is closed.
CREATE FUNCTION ledger_posting_entry_open() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  creator xid8;
BEGIN
  SELECT tx_id INTO creator FROM ledger_entries WHERE entry_id = NEW.entry_id;
  IF creator IS DISTINCT FROM pg_current_xact_id() THEN
    RAISE EXCEPTION 'ledger entry % is closed: postings can only be added in the transaction that created it', NEW.entry_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ledger_postings_entry_open BEFORE INSERT ON ledger_postings
  FOR EACH ROW EXECUTE FUNCTION ledger_posting_entry_open();

-- Every entry balances. Deferred to commit so the postings of an entry can be inserted one by one.
CREATE FUNCTION ledger_check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  total numeric;
BEGIN
  SELECT coalesce(sum(amount_minor), 0) INTO total FROM ledger_postings WHERE entry_id = NEW.entry_id;
  IF total <> 0 THEN
    RAISE EXCEPTION 'ledger entry % does not balance: its postings sum to % (debits must equal credits)', NEW.entry_id, total
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_postings_balanced AFTER INSERT ON ledger_postings
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_balanced();

-- The books are append-only: a correction is a new entry, never an edit.
CREATE FUNCTION ledger_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed (post a correcting entry instead)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER ledger_postings_immutable BEFORE UPDATE OR DELETE ON ledger_postings
  FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER ledger_postings_no_truncate BEFORE TRUNCATE ON ledger_postings
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER ledger_parcels_immutable BEFORE UPDATE OR DELETE ON ledger_parcels
  FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER ledger_parcels_no_truncate BEFORE TRUNCATE ON ledger_parcels
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change();

-- Balances are derived from postings, never stored.
CREATE VIEW ledger_account_balances AS
  SELECT account_kind, account_ref, currency, sum(amount_minor) AS balance_minor, count(*) AS postings
  FROM ledger_postings
  GROUP BY account_kind, account_ref, currency;
