-- Vouchers (services/vouchers): definitions and usages. Postgres is the source of truth for
-- usage limits; Redis only turns requests away early (see docs/services.md, "Vouchers").
--
-- Limits are enforced by unique indexes over "slots": a usage that counts against the limits
-- (status held or consumed) occupies one of the voucher's slots 1..total_limit and one of its
-- user's slots 1..per_user_limit. Two live usages can never share a slot (partial unique indexes),
-- and a usage is only inserted when its slot numbers are within the voucher's limits (a conditional
-- INSERT ... SELECT against the voucher row). So at most total_limit usages are live, and at most
-- per_user_limit per user, whatever the concurrency and whatever Redis believes. Slot numbers are
-- handed out by Redis; a stale Redis can only make an insert fail, never exceed a limit.

CREATE TABLE vouchers (
  code                text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_-]{1,64}$'),
  scope               text NOT NULL CHECK (scope IN ('seller', 'platform', 'shipping')),
  discount_type       text NOT NULL CHECK (discount_type IN ('percent', 'fixed', 'free_shipping')),
  rate_bps            integer CHECK (rate_bps BETWEEN 0 AND 10000),
  amount_minor        bigint CHECK (amount_minor BETWEEN 0 AND 9007199254740991),
  max_discount_minor  bigint CHECK (max_discount_minor BETWEEN 0 AND 9007199254740991),
  min_spend_minor     bigint NOT NULL DEFAULT 0 CHECK (min_spend_minor BETWEEN 0 AND 9007199254740991),
  seller_id           text REFERENCES sellers (seller_id),
  category            text CHECK (length(category) BETWEEN 1 AND 64),
  starts_at           timestamptz,
  expires_at          timestamptz,
  total_limit         bigint CHECK (total_limit BETWEEN 0 AND 1000000000),
  per_user_limit      integer CHECK (per_user_limit BETWEEN 0 AND 100),
  -- Bumped by every upsert: Redis caches carry it, so a stale cache never replaces a newer one.
  version             bigint NOT NULL DEFAULT 1,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CHECK (starts_at IS NULL OR expires_at IS NULL OR starts_at < expires_at),
  CHECK ((scope = 'seller') = (seller_id IS NOT NULL)),
  CHECK (scope <> 'shipping' OR category IS NULL),
  CHECK (discount_type <> 'free_shipping' OR scope = 'shipping'),
  CHECK (NOT (discount_type = 'percent' AND scope = 'shipping')),
  CHECK (
    (discount_type = 'percent' AND rate_bps IS NOT NULL AND amount_minor IS NULL)
    OR (discount_type = 'fixed' AND amount_minor IS NOT NULL AND rate_bps IS NULL AND max_discount_minor IS NULL)
    OR (discount_type = 'free_shipping' AND amount_minor IS NULL AND rate_bps IS NULL)
  )
);

-- One row per (code, order): the idempotency key of a hold. No foreign key to vouchers on purpose:
-- an FK check would share-lock the (hot) voucher row on every insert; the conditional insert
-- already requires the voucher to exist.
CREATE TABLE voucher_usages (
  code             text NOT NULL,
  order_id         text NOT NULL CHECK (length(order_id) BETWEEN 1 AND 128),
  user_id          text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 128),
  slot_no          bigint NOT NULL CHECK (slot_no >= 1),
  user_slot_no     integer CHECK (user_slot_no >= 1),
  status           text NOT NULL CHECK (status IN ('held', 'consumed', 'released', 'expired')),
  held_at          timestamptz NOT NULL,
  hold_expires_at  timestamptz NOT NULL,
  consumed_at      timestamptz,
  ended_at         timestamptz,
  PRIMARY KEY (code, order_id),
  CHECK (hold_expires_at > held_at),
  CHECK ((status = 'consumed') = (consumed_at IS NOT NULL)),
  CHECK ((status IN ('released', 'expired')) = (ended_at IS NOT NULL))
);
CREATE UNIQUE INDEX voucher_usages_live_slot_uq
  ON voucher_usages (code, slot_no) WHERE status IN ('held', 'consumed');
CREATE UNIQUE INDEX voucher_usages_live_user_slot_uq
  ON voucher_usages (code, user_id, user_slot_no) WHERE status IN ('held', 'consumed') AND user_slot_no IS NOT NULL;
CREATE INDEX voucher_usages_order_idx ON voucher_usages (order_id);
CREATE INDEX voucher_usages_hold_expiry_idx ON voucher_usages (hold_expires_at) WHERE status = 'held';

-- Orders whose voucher holds were released (compensated): a late duplicate of a hold call for
-- such an order is refused instead of taking a slot again.
CREATE TABLE voucher_order_releases (
  order_id     text PRIMARY KEY CHECK (length(order_id) BETWEEN 1 AND 128),
  released_at  timestamptz NOT NULL
);
