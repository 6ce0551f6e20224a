-- Inventory (services/inventory): per-SKU stock split over one or more bucket rows, reservations
-- per (order, sku), and the functions that move stock. Postgres is the truth: every change of a
-- quantity happens inside one of the functions below, each called as a single statement (its own
-- transaction), through conditional UPDATEs; the CHECK constraints make a negative or inconsistent
-- bucket impossible even for a caller that bypasses the functions. Design: docs/services.md.
--
-- Quantities of one bucket:
--   on_hand   units physically held (includes the reserved ones, excludes the sold ones);
--   reserved  units promised to orders that have not completed yet;
--   sold      units of completed orders (a refund puts them back on hand: restock);
--   available = on_hand - reserved, never negative (CHECK reserved <= on_hand).
-- A SKU's figures are the sums over its buckets. An ordinary SKU has one bucket (bucket 0); a hot
-- SKU has up to 64, so that concurrent reservations lock different rows.
--
-- Why concurrent calls cannot deadlock: a call first takes its order's advisory lock (holding
-- nothing else), then waits for bucket rows only in ascending (sku, bucket_no) order while holding
-- only rows before them in that order. Rows of bucketed SKUs are never waited for by a reservation
-- (it uses SKIP LOCKED and may hold such rows out of order); release, commit, restock and stock
-- changes wait for them in ascending order, holding only earlier rows. Every wait therefore points
-- to a later row than any the waiter holds, and no cycle can form.

CREATE TABLE inventory_items (
  sku           text PRIMARY KEY REFERENCES products (sku),
  -- Buckets 0..bucket_count-1 take new reservations; rows beyond it are drained by rebalancing.
  bucket_count  integer NOT NULL DEFAULT 1 CHECK (bucket_count BETWEEN 1 AND 64),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- A low fillfactor keeps room on each page so that the constant updates of a hot bucket stay HOT
-- (heap-only tuples: no index writes, cheap pruning).
CREATE TABLE inventory_buckets (
  sku        text NOT NULL REFERENCES inventory_items (sku),
  bucket_no  integer NOT NULL CHECK (bucket_no BETWEEN 0 AND 63),
  on_hand    bigint NOT NULL CHECK (on_hand >= 0),
  reserved   bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  sold       bigint NOT NULL DEFAULT 0 CHECK (sold >= 0),
  PRIMARY KEY (sku, bucket_no),
  CONSTRAINT inventory_buckets_reserved_le_on_hand CHECK (reserved <= on_hand)
) WITH (fillfactor = 50);

-- Orders that were released (compensated) or committed. Such an order accepts no new reservation,
-- so a late duplicate of a reserve call can never take stock after its compensation ran.
CREATE TABLE inventory_order_closures (
  order_id      text PRIMARY KEY CHECK (length(order_id) BETWEEN 1 AND 128),
  released_at   timestamptz,
  committed_at  timestamptz,
  CHECK (released_at IS NOT NULL OR committed_at IS NOT NULL)
);

CREATE FUNCTION inventory_array_sum(p_values bigint[]) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  v_sum numeric := 0;
  v bigint;
BEGIN
  FOREACH v IN ARRAY coalesce(p_values, '{}') LOOP v_sum := v_sum + v; END LOOP;
  RETURN v_sum;
END
$$;

-- One row per (order, sku): the idempotency key of a reservation and the record of its outcome.
-- bucket_nos / bucket_quantities say where the units were taken from (ascending bucket_no), so that
-- release, commit and restock put them back exactly there. A rejected line (its call was refused
-- for lack of stock) holds no claim; a retry of that call returns the same refusal.
-- (No foreign keys: their checks would share-lock hot parent rows on every insert; the functions
-- are the only writers and check existence themselves.)
CREATE TABLE inventory_reservations (
  order_id                text NOT NULL CHECK (length(order_id) BETWEEN 1 AND 128),
  sku                     text NOT NULL,
  seller_id               text NOT NULL,
  quantity                bigint NOT NULL CHECK (quantity > 0),
  status                  text NOT NULL CHECK (status IN ('reserved', 'rejected', 'released', 'committed', 'restocked')),
  bucket_nos              integer[] NOT NULL,
  bucket_quantities       bigint[] NOT NULL,
  available_at_rejection  bigint CHECK (available_at_rejection >= 0),
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, sku),
  CHECK (cardinality(bucket_nos) = cardinality(bucket_quantities)),
  CHECK (0 < ALL (bucket_quantities)),
  -- A claim covers the line exactly; the common single-bucket claim is checked without a call.
  CHECK (
    CASE WHEN status = 'rejected' THEN cardinality(bucket_nos) = 0
         WHEN cardinality(bucket_nos) = 1 THEN bucket_quantities[1] = quantity
         ELSE cardinality(bucket_nos) > 1 AND inventory_array_sum(bucket_quantities) = quantity END
  ),
  CHECK (status = 'rejected' OR available_at_rejection IS NULL)
);

-- The advisory lock that serialises every function call for one order (class id 'INVN'; the key
-- is a hash of the order id, so a collision only serialises two unrelated orders).
CREATE FUNCTION inventory_lock_order(p_order_id text) RETURNS void
LANGUAGE sql
AS $$ SELECT pg_advisory_xact_lock(1229870670, hashtext(p_order_id)) $$;

-- Available units of a SKU over all its buckets (a snapshot read, for error details).
CREATE FUNCTION inventory_available(p_sku text) RETURNS bigint
LANGUAGE sql STABLE
AS $$ SELECT coalesce(sum(on_hand - reserved), 0)::bigint FROM inventory_buckets WHERE sku = p_sku $$;

-- Claims p_quantity units of a SKU with several buckets. Returns the claim (ascending bucket
-- numbers and the units taken from each), or empty arrays when the SKU is short (then nothing is
-- claimed). First a random active bucket that has enough, then a sweep over every bucket in
-- ascending order that takes what each has (a line may then be split across buckets; this is what
-- makes the stock of any bucket sellable).
--
-- Neither step ever waits for a row lock (SKIP LOCKED): a bucketed SKU's rows may be locked by
-- this transaction out of order (a row the SKIP LOCKED pick locked but could not use stays locked),
-- so waiting here could deadlock. When the sweep falls short while rows it skipped (locked by
-- others) hold enough committed units, the outcome is undecided: it gives back its partial claim
-- and reports `busy`, and the caller retries the whole call later. When even those units are not
-- enough, the SKU is short whatever the lock holders do (they can only take units or give back
-- their own).
CREATE FUNCTION inventory_claim_buckets(p_sku text, p_quantity bigint, p_bucket_count integer,
                                        OUT bucket_nos integer[], OUT bucket_quantities bigint[], OUT busy boolean)
LANGUAGE plpgsql
AS $$
DECLARE
  v_bucket integer;
  v_remaining bigint := p_quantity;
  v_take bigint;
  v_row record;
BEGIN
  busy := false;
  SELECT x.bucket_no INTO v_bucket FROM inventory_buckets x
   WHERE x.sku = p_sku AND x.bucket_no < p_bucket_count AND x.on_hand - x.reserved >= p_quantity
   ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED;
  IF FOUND THEN
    UPDATE inventory_buckets b SET reserved = b.reserved + p_quantity
     WHERE b.sku = p_sku AND b.bucket_no = v_bucket AND b.on_hand - b.reserved >= p_quantity;
    IF FOUND THEN
      bucket_nos := ARRAY[v_bucket]; bucket_quantities := ARRAY[p_quantity];
      RETURN;
    END IF;
  END IF;

  -- The sweep: every bucket (also those beyond bucket_count, which rebalancing drains), ascending.
  bucket_nos := '{}'; bucket_quantities := '{}';
  FOR v_row IN
    SELECT x.bucket_no, x.on_hand - x.reserved AS available FROM inventory_buckets x
     WHERE x.sku = p_sku AND x.on_hand > x.reserved
     ORDER BY x.bucket_no FOR UPDATE SKIP LOCKED
  LOOP
    -- The row is locked and `available` read from its latest version; the update stays conditional.
    v_take := least(v_remaining, v_row.available);
    UPDATE inventory_buckets b SET reserved = b.reserved + v_take
     WHERE b.sku = p_sku AND b.bucket_no = v_row.bucket_no AND b.on_hand - b.reserved >= v_take;
    IF FOUND THEN
      bucket_nos := bucket_nos || v_row.bucket_no;
      bucket_quantities := bucket_quantities || v_take;
      v_remaining := v_remaining - v_take;
      EXIT WHEN v_remaining = 0;
    END IF;
  END LOOP;
  IF v_remaining = 0 THEN RETURN; END IF;
  busy := inventory_available(p_sku) >= v_remaining;
  -- Short or busy: give back the partial claim (rows this transaction holds).
  PERFORM inventory_apply_claims(p_sku, bucket_nos, bucket_quantities, 0, -1, 0);
  bucket_nos := '{}'; bucket_quantities := '{}';
END
$$;

-- Applies a per-bucket change to the claims of one reservation line (ascending bucket order).
CREATE FUNCTION inventory_apply_claims(p_sku text, p_bucket_nos integer[], p_bucket_quantities bigint[],
                                       p_on_hand_sign integer, p_reserved_sign integer, p_sold_sign integer)
RETURNS void LANGUAGE plpgsql
AS $$
BEGIN
  FOR i IN 1 .. coalesce(cardinality(p_bucket_nos), 0) LOOP
    UPDATE inventory_buckets b
       SET on_hand = b.on_hand + p_on_hand_sign * p_bucket_quantities[i],
           reserved = b.reserved + p_reserved_sign * p_bucket_quantities[i],
           sold = b.sold + p_sold_sign * p_bucket_quantities[i]
     WHERE b.sku = p_sku AND b.bucket_no = p_bucket_nos[i];
    IF NOT FOUND THEN
      RAISE EXCEPTION 'inventory bucket %/% is missing', p_sku, p_bucket_nos[i];
    END IF;
  END LOOP;
END
$$;

-- The outcome recorded for an earlier reserve call with exactly these lines, or 'conflict' when
-- the recorded lines of this order differ from them (another quantity, or another set of lines).
CREATE FUNCTION inventory_recorded_outcome(p_order_id text, p_skus text[], p_quantities bigint[])
RETURNS TABLE (status text, lines jsonb)
LANGUAGE sql STABLE
AS $$
  SELECT CASE WHEN count(*) FILTER (WHERE r.quantity = l.quantity) <> cardinality(p_skus) THEN 'conflict'
              WHEN bool_or(r.status = 'rejected') THEN 'rejected'
              ELSE 'reserved' END,
         jsonb_agg(jsonb_build_object('sku', r.sku, 'quantity', r.quantity, 'status', r.status,
                                      'available', r.available_at_rejection) ORDER BY r.sku)
    FROM inventory_reservations r
    JOIN unnest(p_skus, p_quantities) AS l (sku, quantity) ON l.sku = r.sku
   WHERE r.order_id = p_order_id
$$;

-- Records a refused call: every line of it becomes a 'rejected' row (replacing the rows this call
-- wrote), with the units available for the short ones. p_short_sku is the line whose claim failed.
CREATE FUNCTION inventory_record_rejection(p_order_id text, p_skus text[], p_quantities bigint[],
                                           p_sellers text[], p_short_sku text)
RETURNS void LANGUAGE plpgsql
AS $$
BEGIN
  DELETE FROM inventory_reservations r WHERE r.order_id = p_order_id AND r.sku = ANY (p_skus);
  INSERT INTO inventory_reservations (order_id, sku, seller_id, quantity, status, bucket_nos, bucket_quantities,
                                      available_at_rejection)
  SELECT p_order_id, l.sku, l.seller_id, l.quantity, 'rejected', '{}', '{}',
         CASE WHEN l.sku = p_short_sku OR a.available < l.quantity THEN greatest(least(a.available, l.quantity - 1), 0) END
    FROM unnest(p_skus, p_quantities, p_sellers) AS l (sku, quantity, seller_id)
   CROSS JOIN LATERAL (SELECT inventory_available(l.sku) AS available) AS a;
END
$$;

-- Reserves every line or none. Called as one statement (its own transaction): the lines of
-- single-bucket SKUs are recorded before their bucket row is touched, so the lock on a hot row is
-- held only from its UPDATE to the commit, with no network round trip in between.
-- Returns one row:
--   ('reserved', NULL)   all lines reserved now;
--   ('reserved', lines)  an earlier call with these lines had reserved them (lines: current status);
--   ('rejected', lines)  short now or earlier: every line, `available` set for the short ones;
--   ('conflict', NULL|lines) this order has recorded lines that differ from these;
--   ('closed', NULL)     the order was already released or committed: nothing new is reserved;
--   ('unknown', skus)    these SKUs have no inventory: nothing is written;
--   ('busy', NULL)       a bucketed SKU's units are in rows other calls hold right now: nothing is
--                        written, retry shortly.
-- Business outcomes are results, never errors, so that many calls can share one round trip.
CREATE FUNCTION inventory_reserve(p_order_id text, p_skus text[], p_quantities bigint[])
RETURNS TABLE (status text, lines jsonb)
LANGUAGE plpgsql
AS $$
DECLARE
  v_existing bigint;
  v_closed boolean;
  v_skus text[];
  v_quantities bigint[];
  v_counts integer[];
  v_sellers text[];
  v_claim record;
  v_done_skus text[] := '{}';
  v_done_buckets integer[] := '{}';
  v_done_quantities bigint[] := '{}';
  v_short_sku text;
  v_seller text;
  v_busy boolean := false;
  v_bucket integer;
  v_count integer;
BEGIN
  IF p_order_id IS NULL OR coalesce(cardinality(p_skus), 0) = 0
     OR cardinality(p_skus) IS DISTINCT FROM cardinality(p_quantities) THEN
    RAISE EXCEPTION 'inventory_reserve: malformed arguments' USING ERRCODE = '22023';
  END IF;
  PERFORM pg_advisory_xact_lock(1229870670, hashtext(p_order_id)); -- = inventory_lock_order

  -- The fast path, the flash-sale case: one line for a new, open order. The line is recorded first,
  -- its claim decided in advance (bucket 0 of a single-row SKU, a random active bucket of a bucketed
  -- one), then its units are taken with one conditional UPDATE, so the lock on a hot row is held
  -- only from that UPDATE to the commit. The INSERT also does the closure and idempotency checks
  -- (a retry conflicts and falls through to the general path). Waiting for the bucket here is safe:
  -- the call holds no other bucket yet.
  IF cardinality(p_skus) = 1 AND p_quantities[1] > 0 THEN
    SELECT i.bucket_count INTO v_count FROM inventory_items i WHERE i.sku = p_skus[1];
    IF v_count >= 1 THEN
      v_bucket := CASE WHEN v_count = 1 THEN 0 ELSE floor(random() * v_count)::integer END;
      INSERT INTO inventory_reservations (order_id, sku, seller_id, quantity, status, bucket_nos, bucket_quantities)
      SELECT p_order_id, p.sku, p.seller_id, p_quantities[1], 'reserved', ARRAY[v_bucket], ARRAY[p_quantities[1]]
        FROM products p
       WHERE p.sku = p_skus[1]
         AND NOT EXISTS (SELECT 1 FROM inventory_order_closures c WHERE c.order_id = p_order_id)
      ON CONFLICT DO NOTHING
      RETURNING seller_id INTO v_seller;
      IF FOUND THEN
        UPDATE inventory_buckets b SET reserved = b.reserved + p_quantities[1]
         WHERE b.sku = p_skus[1] AND b.bucket_no = v_bucket AND b.on_hand - b.reserved >= p_quantities[1];
        IF FOUND THEN
          RETURN QUERY SELECT 'reserved'::text, NULL::jsonb;
          RETURN;
        END IF;
        IF v_count = 1 THEN
          PERFORM inventory_record_rejection(p_order_id, p_skus, p_quantities, ARRAY[v_seller], p_skus[1]);
          RETURN QUERY SELECT * FROM inventory_recorded_outcome(p_order_id, p_skus, p_quantities);
          RETURN;
        END IF;
        -- That bucket is short: forget the line; the general path looks at every bucket.
        DELETE FROM inventory_reservations r WHERE r.order_id = p_order_id AND r.sku = p_skus[1];
      END IF;
    END IF;
  END IF;

  -- The general path: several lines, a retry, a closed order, an unknown SKU, or a bucketed SKU
  -- whose buckets are all busy or short.

  -- One read for everything the decision needs; lines sorted by sku (the lock order).
  SELECT (SELECT count(*) FROM inventory_reservations r WHERE r.order_id = p_order_id AND r.sku = ANY (p_skus)),
         EXISTS (SELECT 1 FROM inventory_order_closures c WHERE c.order_id = p_order_id),
         array_agg(l.sku ORDER BY l.sku), array_agg(l.quantity ORDER BY l.sku),
         array_agg(i.bucket_count ORDER BY l.sku), array_agg(p.seller_id ORDER BY l.sku)
    INTO v_existing, v_closed, v_skus, v_quantities, v_counts, v_sellers
    FROM unnest(p_skus, p_quantities) AS l (sku, quantity)
    LEFT JOIN inventory_items i ON i.sku = l.sku
    LEFT JOIN products p ON p.sku = l.sku;

  IF v_existing > 0 THEN
    RETURN QUERY SELECT * FROM inventory_recorded_outcome(p_order_id, p_skus, p_quantities);
    RETURN;
  END IF;
  IF v_closed THEN
    RETURN QUERY SELECT 'closed'::text, NULL::jsonb;
    RETURN;
  END IF;
  IF array_position(v_counts, NULL) IS NOT NULL OR array_position(v_sellers, NULL) IS NOT NULL THEN
    RETURN QUERY SELECT 'unknown'::text, to_jsonb(array_agg(u.sku))
      FROM unnest(v_skus, v_counts, v_sellers) AS u (sku, n, seller_id) WHERE u.n IS NULL OR u.seller_id IS NULL;
    RETURN;
  END IF;
  IF (SELECT count(DISTINCT s) FROM unnest(v_skus) AS s) <> cardinality(v_skus)
     OR 0 >= ANY (v_quantities) THEN
    RAISE EXCEPTION 'inventory_reserve: duplicate sku or non-positive quantity' USING ERRCODE = '22023';
  END IF;

  -- Record the single-bucket lines first (their claim is known: bucket 0).
  INSERT INTO inventory_reservations (order_id, sku, seller_id, quantity, status, bucket_nos, bucket_quantities)
  SELECT p_order_id, u.sku, u.seller_id, u.quantity, 'reserved', ARRAY[0], ARRAY[u.quantity]
    FROM unnest(v_skus, v_quantities, v_counts, v_sellers) AS u (sku, quantity, n, seller_id)
   WHERE u.n = 1;

  FOR i IN 1 .. cardinality(v_skus) LOOP
    IF v_counts[i] = 1 THEN
      UPDATE inventory_buckets b SET reserved = b.reserved + v_quantities[i]
       WHERE b.sku = v_skus[i] AND b.bucket_no = 0 AND b.on_hand - b.reserved >= v_quantities[i];
      IF NOT FOUND THEN v_short_sku := v_skus[i]; EXIT; END IF;
      v_done_skus := v_done_skus || v_skus[i];
      v_done_buckets := v_done_buckets || 0;
      v_done_quantities := v_done_quantities || v_quantities[i];
    ELSE
      SELECT * INTO v_claim FROM inventory_claim_buckets(v_skus[i], v_quantities[i], v_counts[i]);
      IF v_claim.busy THEN v_busy := true; EXIT; END IF;
      IF cardinality(v_claim.bucket_nos) = 0 THEN v_short_sku := v_skus[i]; EXIT; END IF;
      INSERT INTO inventory_reservations (order_id, sku, seller_id, quantity, status, bucket_nos, bucket_quantities)
      VALUES (p_order_id, v_skus[i], v_sellers[i], v_quantities[i], 'reserved', v_claim.bucket_nos, v_claim.bucket_quantities);
      v_done_skus := v_done_skus || array_fill(v_skus[i], ARRAY[cardinality(v_claim.bucket_nos)]);
      v_done_buckets := v_done_buckets || v_claim.bucket_nos;
      v_done_quantities := v_done_quantities || v_claim.bucket_quantities;
    END IF;
  END LOOP;

  IF v_short_sku IS NULL AND NOT v_busy THEN
    RETURN QUERY SELECT 'reserved'::text, NULL::jsonb;
    RETURN;
  END IF;
  -- All or nothing: give back what this call claimed (buckets it holds locked, in the order it
  -- locked them), then record every line as rejected, or, when undecided, write nothing.
  FOR i IN 1 .. cardinality(v_done_skus) LOOP
    PERFORM inventory_apply_claims(v_done_skus[i], ARRAY[v_done_buckets[i]], ARRAY[v_done_quantities[i]], 0, -1, 0);
  END LOOP;
  IF v_busy THEN
    DELETE FROM inventory_reservations r WHERE r.order_id = p_order_id AND r.sku = ANY (p_skus);
    RETURN QUERY SELECT 'busy'::text, NULL::jsonb;
    RETURN;
  END IF;
  PERFORM inventory_record_rejection(p_order_id, v_skus, v_quantities, v_sellers, v_short_sku);
  RETURN QUERY SELECT * FROM inventory_recorded_outcome(p_order_id, p_skus, p_quantities);
END
$$;

-- Moves the lines of one order (optionally of one seller) from one status to another and applies
-- the matching bucket change. Lines are taken in sku order (the lock order).
CREATE FUNCTION inventory_transition(p_order_id text, p_seller_id text, p_from text, p_to text,
                                     p_on_hand_sign integer, p_reserved_sign integer, p_sold_sign integer)
RETURNS TABLE (sku text, quantity bigint)
LANGUAGE plpgsql
AS $$
DECLARE
  v_line record;
BEGIN
  FOR v_line IN
    SELECT r.sku, r.quantity, r.bucket_nos, r.bucket_quantities FROM inventory_reservations r
     WHERE r.order_id = p_order_id AND r.status = p_from AND (p_seller_id IS NULL OR r.seller_id = p_seller_id)
     ORDER BY r.sku
  LOOP
    UPDATE inventory_reservations r SET status = p_to, updated_at = now()
     WHERE r.order_id = p_order_id AND r.sku = v_line.sku;
    PERFORM inventory_apply_claims(v_line.sku, v_line.bucket_nos, v_line.bucket_quantities,
                                   p_on_hand_sign, p_reserved_sign, p_sold_sign);
    sku := v_line.sku; quantity := v_line.quantity;
    RETURN NEXT;
  END LOOP;
END
$$;

-- Compensation of reserve: every reserved line of the order goes back to available, and the order
-- is closed to new reservations. Returns the lines released by this call (none on a repeat).
CREATE FUNCTION inventory_release(p_order_id text) RETURNS TABLE (sku text, quantity bigint)
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM inventory_lock_order(p_order_id);
  INSERT INTO inventory_order_closures AS c (order_id, released_at) VALUES (p_order_id, now())
  ON CONFLICT (order_id) DO UPDATE SET released_at = coalesce(c.released_at, excluded.released_at);
  RETURN QUERY SELECT * FROM inventory_transition(p_order_id, NULL, 'reserved', 'released', 0, -1, 0);
END
$$;

-- Reserved units become sold units, and the order is closed to new reservations. Raises IV002 when
-- the order was released (compensated) before.
CREATE FUNCTION inventory_commit(p_order_id text) RETURNS TABLE (sku text, quantity bigint)
LANGUAGE plpgsql
AS $$
DECLARE
  v_released_at timestamptz;
BEGIN
  PERFORM inventory_lock_order(p_order_id);
  INSERT INTO inventory_order_closures AS c (order_id, committed_at) VALUES (p_order_id, now())
  ON CONFLICT (order_id) DO UPDATE SET committed_at = coalesce(c.committed_at, excluded.committed_at)
  RETURNING c.released_at INTO v_released_at;
  IF v_released_at IS NOT NULL THEN
    RAISE EXCEPTION 'order % was released; it cannot be committed', p_order_id USING ERRCODE = 'IV002';
  END IF;
  RETURN QUERY SELECT * FROM inventory_transition(p_order_id, NULL, 'reserved', 'committed', -1, -1, 1);
END
$$;

-- A refunded parcel: the sold units of one seller's lines of the order go back on hand.
CREATE FUNCTION inventory_restock(p_order_id text, p_seller_id text) RETURNS TABLE (sku text, quantity bigint)
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM inventory_lock_order(p_order_id);
  RETURN QUERY SELECT * FROM inventory_transition(p_order_id, p_seller_id, 'committed', 'restocked', 1, 0, -1);
END
$$;

-- Sets the total on-hand quantity of a SKU and spreads its available units evenly over the active
-- buckets (largest remainder: the first buckets get one more). Lossless: the sums of reserved and
-- sold are unchanged, the sum of on_hand becomes p_total_on_hand, which the function asserts.
-- Buckets beyond bucket_count keep only their reserved units (on_hand = reserved) and are deleted
-- once they hold nothing. Raises IV003 (detail: reserved units) when p_total_on_hand < reserved.
CREATE FUNCTION inventory_redistribute(p_sku text, p_total_on_hand bigint) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  v_count integer;
  v_reserved numeric;
  v_sold numeric;
  v_available bigint;
  v_row record;
  v_share bigint;
BEGIN
  SELECT i.bucket_count INTO v_count FROM inventory_items i WHERE i.sku = p_sku FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown sku' USING ERRCODE = 'IV001', DETAIL = to_jsonb(ARRAY[p_sku])::text;
  END IF;
  INSERT INTO inventory_buckets (sku, bucket_no, on_hand)
  SELECT p_sku, g, 0 FROM generate_series(0, v_count - 1) AS g
  ON CONFLICT DO NOTHING;
  -- Lock every bucket in ascending order, then compute the totals from the locked rows.
  PERFORM 1 FROM inventory_buckets b WHERE b.sku = p_sku ORDER BY b.bucket_no FOR UPDATE;
  SELECT sum(b.reserved), sum(b.sold) INTO v_reserved, v_sold FROM inventory_buckets b WHERE b.sku = p_sku;
  IF p_total_on_hand < v_reserved THEN
    RAISE EXCEPTION 'stock % of % is below its % reserved units', p_total_on_hand, p_sku, v_reserved
      USING ERRCODE = 'IV003', DETAIL = v_reserved::text;
  END IF;
  v_available := p_total_on_hand - v_reserved;
  FOR v_row IN SELECT b.bucket_no, b.reserved FROM inventory_buckets b WHERE b.sku = p_sku ORDER BY b.bucket_no LOOP
    v_share := CASE WHEN v_row.bucket_no < v_count
                    THEN v_available / v_count + CASE WHEN v_row.bucket_no < v_available % v_count THEN 1 ELSE 0 END
                    ELSE 0 END;
    UPDATE inventory_buckets b SET on_hand = v_row.reserved + v_share
     WHERE b.sku = p_sku AND b.bucket_no = v_row.bucket_no;
  END LOOP;
  DELETE FROM inventory_buckets b
   WHERE b.sku = p_sku AND b.bucket_no >= v_count AND b.on_hand = 0 AND b.reserved = 0 AND b.sold = 0;
  IF (SELECT (sum(b.on_hand), sum(b.reserved), sum(b.sold)) IS DISTINCT FROM (p_total_on_hand::numeric, v_reserved, v_sold)
        FROM inventory_buckets b WHERE b.sku = p_sku) THEN
    RAISE EXCEPTION 'inventory_redistribute would lose units of %', p_sku;
  END IF;
  UPDATE inventory_items i SET updated_at = now() WHERE i.sku = p_sku;
END
$$;

-- Sets the on-hand quantity of a SKU (the catalog's `stock`), creating its inventory on first use.
CREATE FUNCTION inventory_set_stock(p_sku text, p_on_hand bigint) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO inventory_items (sku) VALUES (p_sku) ON CONFLICT DO NOTHING;
  PERFORM inventory_redistribute(p_sku, p_on_hand);
END
$$;

-- Spreads the current stock of a SKU evenly over its buckets again, losslessly.
CREATE FUNCTION inventory_rebalance(p_sku text) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  v_on_hand bigint;
BEGIN
  PERFORM 1 FROM inventory_items i WHERE i.sku = p_sku FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown sku' USING ERRCODE = 'IV001', DETAIL = to_jsonb(ARRAY[p_sku])::text;
  END IF;
  PERFORM 1 FROM inventory_buckets b WHERE b.sku = p_sku ORDER BY b.bucket_no FOR UPDATE;
  SELECT coalesce(sum(b.on_hand), 0) INTO v_on_hand FROM inventory_buckets b WHERE b.sku = p_sku;
  PERFORM inventory_redistribute(p_sku, v_on_hand);
END
$$;

-- Changes the number of buckets of a SKU (1 = a single row) and rebalances, losslessly.
CREATE FUNCTION inventory_set_bucket_count(p_sku text, p_bucket_count integer) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  UPDATE inventory_items i SET bucket_count = p_bucket_count WHERE i.sku = p_sku;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown sku' USING ERRCODE = 'IV001', DETAIL = to_jsonb(ARRAY[p_sku])::text;
  END IF;
  PERFORM inventory_rebalance(p_sku);
END
$$;
