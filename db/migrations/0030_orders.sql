-- Orders and their per-seller parcels: the read model of the checkout saga.
--
-- The API inserts the order row when it accepts a checkout request; (buyer_id, idempotency_key) is
-- the checkout's idempotency record, so a repeated or concurrent request with the same key finds
-- the same order and never starts a second saga. The saga then freezes the price breakdown on the
-- row and moves its status; a terminal status (COMPLETED, FAILED) is never left.
CREATE TABLE orders (
  order_id          text PRIMARY KEY CHECK (order_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  buyer_id          text NOT NULL,
  idempotency_key   text,
  request_hash      text,
  status            text NOT NULL DEFAULT 'PROCESSING'
                    CHECK (status IN ('PROCESSING', 'AWAITING_PAYMENT', 'COMPLETED', 'FAILED')),
  currency          text CHECK (currency ~ '^[A-Z]{3}$'),
  grand_total_minor bigint CHECK (grand_total_minor >= 0),
  pricing           jsonb,
  failure           jsonb,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (buyer_id, idempotency_key),
  -- A failed order says why; no other order carries a failure.
  CHECK ((status = 'FAILED') = (failure IS NOT NULL)),
  -- A completed order has its frozen price.
  CHECK (status <> 'COMPLETED' OR pricing IS NOT NULL),
  CHECK ((pricing IS NULL) = (grand_total_minor IS NULL) AND (pricing IS NULL) = (currency IS NULL))
);

-- The buyer's order list, newest first, with keyset pagination.
CREATE INDEX orders_by_buyer ON orders (buyer_id, created_at DESC, order_id DESC);

CREATE TABLE order_parcels (
  order_id            text NOT NULL REFERENCES orders (order_id),
  seller_id           text NOT NULL,
  status              text NOT NULL DEFAULT 'HELD'
                      CHECK (status IN ('HELD', 'SHIPPED', 'DELIVERED', 'RELEASED', 'REFUNDED', 'CANCELLED')),
  customer_paid_minor bigint NOT NULL CHECK (customer_paid_minor >= 0),
  payout_minor        bigint NOT NULL CHECK (payout_minor >= 0),
  ship_by             timestamptz NOT NULL,
  auto_release_at     timestamptz,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, seller_id)
);
