-- Payments (services/payments): what we asked the payment service provider (PSP) to do, keyed by
-- business ids so that a retried activity can never charge, refund or pay out twice.
-- See docs/payments-and-ledger.md.

-- One row per order: the primary key is the "at most one charge per order" rule. The row is written
-- before the PSP is called (status 'pending'), so a crash between the call and its answer leaves a
-- row whose idempotency key lets the next attempt find the charge instead of making a second one.
CREATE TABLE payments (
  order_id         text PRIMARY KEY CHECK (length(order_id) BETWEEN 1 AND 200),
  gateway          text NOT NULL CHECK (gateway IN ('simulator', 'stripe', 'none')),
  idempotency_key  text NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  -- The PSP's id (pi_...), known once the PSP has answered.
  payment_id       text UNIQUE,
  amount_minor     bigint NOT NULL CHECK (amount_minor >= 0),
  currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  status           text NOT NULL CHECK (status IN ('pending', 'processing', 'succeeded', 'declined', 'failed')),
  decline_code     text,
  -- Sum of the refunds asked for (pending or done). The CHECKs make "never refund more than was
  -- charged" a property of the database, whatever the code does.
  refunded_minor   bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT payments_refunds_within_charge CHECK (refunded_minor <= amount_minor),
  CONSTRAINT payments_refunds_only_after_success CHECK (refunded_minor = 0 OR status = 'succeeded')
);

-- One refund per seller parcel (the parcel is the unit of refund in api-contract.md).
CREATE TABLE payment_refunds (
  order_id         text NOT NULL REFERENCES payments (order_id),
  seller_id        text NOT NULL CHECK (length(seller_id) BETWEEN 1 AND 200),
  idempotency_key  text NOT NULL UNIQUE,
  amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
  refund_id        text UNIQUE,
  status           text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, seller_id)
);

-- One payout (Connect transfer) per seller parcel.
CREATE TABLE payment_payouts (
  order_id         text NOT NULL REFERENCES payments (order_id),
  seller_id        text NOT NULL CHECK (length(seller_id) BETWEEN 1 AND 200),
  idempotency_key  text NOT NULL UNIQUE,
  amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
  currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  destination      text NOT NULL,
  transfer_id      text UNIQUE,
  status           text NOT NULL CHECK (status IN ('pending', 'succeeded')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, seller_id)
);

-- Verified webhook events, de-duplicated by the PSP's event id: the same event delivered twice has
-- its effect once. Rows are kept for audit (and for the "one successful charge per order" check,
-- which looks at what the PSP told us rather than at what we believe).
CREATE TABLE payment_webhook_events (
  event_id         text PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 255),
  type             text NOT NULL CHECK (type IN ('payment.succeeded', 'payment.failed', 'refund.succeeded')),
  order_id         text NOT NULL,
  payment_id       text NOT NULL,
  amount_minor     bigint NOT NULL CHECK (amount_minor >= 0),
  currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  event_created_at timestamptz NOT NULL,
  received_at      timestamptz NOT NULL DEFAULT now(),
  payload          jsonb NOT NULL
);
CREATE INDEX payment_webhook_events_order ON payment_webhook_events (order_id);
