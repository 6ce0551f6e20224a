-- The first release's "ping" workflow (a walking skeleton: API -> Temporal -> worker -> activity ->
-- Postgres) is gone from the worker; its table goes too. The checkout's own tests prove that chain.
DROP TABLE IF EXISTS pings;
