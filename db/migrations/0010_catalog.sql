-- Catalog: sellers, products, seller promotions, category campaigns and the pricing
-- configuration (services/catalog). Every amount is BIGINT minor units no larger than 2^53 - 1
-- (pricing-spec.md §1), every rate integer basis points 0..10000. The services validate input
-- before writing; these constraints are the last line of defence against a buggy caller.

CREATE TABLE sellers (
  seller_id           text PRIMARY KEY CHECK (seller_id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$'),
  name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  shipping_fee_minor  bigint NOT NULL CHECK (shipping_fee_minor BETWEEN 0 AND 9007199254740991),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE products (
  sku               text PRIMARY KEY CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$'),
  seller_id         text NOT NULL REFERENCES sellers (seller_id),
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  category          text NOT NULL CHECK (length(category) BETWEEN 1 AND 64),
  unit_price_minor  bigint NOT NULL CHECK (unit_price_minor BETWEEN 0 AND 9007199254740991),
  currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_seller_idx ON products (seller_id);

-- Automatic seller-funded promotions (pricing-spec.md step 1). `position` is assigned once, at
-- the first insert, and fixes the promotion's place in the engine's input order (ties go to the
-- earlier promotion), so re-saving a promotion never reorders the others.
CREATE TABLE seller_promotions (
  promotion_id    text PRIMARY KEY CHECK (promotion_id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$'),
  position        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  seller_id       text NOT NULL REFERENCES sellers (seller_id),
  skus            text[] CHECK (skus IS NULL OR cardinality(skus) <= 1000),
  discount_type   text NOT NULL CHECK (discount_type IN ('percent', 'fixed_per_unit')),
  rate_bps        integer CHECK (rate_bps BETWEEN 0 AND 10000),
  amount_minor    bigint CHECK (amount_minor BETWEEN 0 AND 9007199254740991),
  active          boolean NOT NULL DEFAULT true,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (
    (discount_type = 'percent' AND rate_bps IS NOT NULL AND amount_minor IS NULL)
    OR (discount_type = 'fixed_per_unit' AND amount_minor IS NOT NULL AND rate_bps IS NULL)
  )
);
CREATE INDEX seller_promotions_seller_idx ON seller_promotions (seller_id, position) WHERE active;

-- Automatic category campaigns (pricing-spec.md step 2); null category / seller = no filter.
CREATE TABLE category_campaigns (
  campaign_id         text PRIMARY KEY CHECK (campaign_id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$'),
  position            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  category            text CHECK (length(category) BETWEEN 1 AND 64),
  seller_id           text REFERENCES sellers (seller_id),
  discount_type       text NOT NULL CHECK (discount_type IN ('percent', 'fixed')),
  rate_bps            integer CHECK (rate_bps BETWEEN 0 AND 10000),
  max_discount_minor  bigint CHECK (max_discount_minor BETWEEN 0 AND 9007199254740991),
  amount_minor        bigint CHECK (amount_minor BETWEEN 0 AND 9007199254740991),
  min_spend_minor     bigint NOT NULL DEFAULT 0 CHECK (min_spend_minor BETWEEN 0 AND 9007199254740991),
  funded_by           text NOT NULL CHECK (funded_by IN ('seller', 'platform')),
  active              boolean NOT NULL DEFAULT true,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CHECK (
    (discount_type = 'percent' AND rate_bps IS NOT NULL AND amount_minor IS NULL)
    OR (discount_type = 'fixed' AND amount_minor IS NOT NULL AND rate_bps IS NULL AND max_discount_minor IS NULL)
  )
);
CREATE INDEX category_campaigns_active_idx ON category_campaigns (position) WHERE active;

-- The platform's tax and commission rates: exactly one row (the boolean key can only be true).
CREATE TABLE pricing_config (
  singleton               boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  default_tax_rate_bps    integer NOT NULL CHECK (default_tax_rate_bps BETWEEN 0 AND 10000),
  tax_rates_bps           jsonb NOT NULL CHECK (jsonb_typeof(tax_rates_bps) = 'object'),
  default_commission_bps  integer NOT NULL CHECK (default_commission_bps BETWEEN 0 AND 10000),
  commission_rates_bps    jsonb NOT NULL CHECK (jsonb_typeof(commission_rates_bps) = 'object'),
  updated_at              timestamptz NOT NULL DEFAULT now()
);
INSERT INTO pricing_config (default_tax_rate_bps, tax_rates_bps, default_commission_bps, commission_rates_bps)
VALUES (0, '{}', 0, '{}');
