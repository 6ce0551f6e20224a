-- The seller's parcel list (GET /v1/seller/parcels): newest first, optionally by status, with
-- keyset pagination over (created_at, order_id). A parcel now records when it was created (the
-- order was paid and its escrow opened); parcels that predate this column take their order's
-- creation time.
ALTER TABLE order_parcels ADD COLUMN created_at timestamptz;

UPDATE order_parcels p SET created_at = o.created_at FROM orders o WHERE o.order_id = p.order_id;

ALTER TABLE order_parcels
  ALTER COLUMN created_at SET DEFAULT now(),
  ALTER COLUMN created_at SET NOT NULL;

CREATE INDEX order_parcels_by_seller ON order_parcels (seller_id, created_at DESC, order_id DESC);
CREATE INDEX order_parcels_by_seller_status ON order_parcels (seller_id, status, created_at DESC, order_id DESC);
