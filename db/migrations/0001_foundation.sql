-- Foundation: a table the first vertical thread (the "ping" workflow) writes to, proving the
-- chain API -> Temporal -> worker -> activity -> Postgres. The ping id is the business key, so a
-- retried activity records its ping once.
CREATE TABLE pings (
  ping_id     text PRIMARY KEY,
  message     text NOT NULL CHECK (length(message) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now()
);
