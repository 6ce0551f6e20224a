-- One id-length limit for every layer (lib/vocabulary.ts idLimits): order and user ids up to 128
-- characters, catalog ids (seller, sku) up to 64, as the catalog, inventory and voucher tables
-- already say. The payments tables allowed 200. NOT VALID: the check applies to every new or
-- changed row without re-reading the old ones (all written through services that enforced less
-- than 128 on order ids).
ALTER TABLE payments DROP CONSTRAINT IF EXISTS payments_order_id_check;
ALTER TABLE payments ADD CONSTRAINT payments_order_id_check CHECK (length(order_id) BETWEEN 1 AND 128) NOT VALID;
ALTER TABLE payment_refunds DROP CONSTRAINT IF EXISTS payment_refunds_seller_id_check;
ALTER TABLE payment_refunds ADD CONSTRAINT payment_refunds_seller_id_check CHECK (length(seller_id) BETWEEN 1 AND 64) NOT VALID;
ALTER TABLE payment_payouts DROP CONSTRAINT IF EXISTS payment_payouts_seller_id_check;
ALTER TABLE payment_payouts ADD CONSTRAINT payment_payouts_seller_id_check CHECK (length(seller_id) BETWEEN 1 AND 64) NOT VALID;
