-- True when the charge call itself answered the payment's final status (a card that succeeded or
-- was declined at once): the saga learned the outcome from its charge activity, so the PSP's webhook
-- for it has nothing to tell the saga and is not forwarded (one workflow task less per checkout).
-- False while the outcome is to come by webhook (`processing`), or when the webhook came first.
ALTER TABLE payments ADD COLUMN outcome_from_charge boolean NOT NULL DEFAULT false;
