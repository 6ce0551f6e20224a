-- Parcels of orders placed on `orderWorkflow` live inside that workflow (`checkout:<orderId>`)
-- rather than in one child workflow each; the row says where its actions go. NULL: the legacy
-- child `parcel:<orderId>:<sellerId>` (orders placed before this migration).
ALTER TABLE order_parcels ADD COLUMN escrow_workflow_id text;

-- A refused money move of the parcel (a PSP that refuses a refund, a payout with nowhere to go),
-- for an operator: {action, code, message, at}. NULL when nothing is outstanding.
ALTER TABLE order_parcels ADD COLUMN problem jsonb;
CREATE INDEX order_parcels_with_problem ON order_parcels (updated_at) WHERE problem IS NOT NULL;

-- The saga's input, fixed when the API accepted the checkout request (the cart snapshot and the
-- payment token reference). A retry of the same Idempotency-Key, and the worker's reconciler for an
-- order whose saga could not be started (Temporal was down), start the saga from it.
ALTER TABLE orders ADD COLUMN checkout_input jsonb;
CREATE INDEX orders_awaiting_saga ON orders (created_at) WHERE status = 'PROCESSING' AND pricing IS NULL;
