/**
 * The database schema of the PostgreSQL engine, as numbered migrations. Start-up applies the
 * ones a database lacks, under an advisory lock so that replicas starting at once take turns,
 * and records each in `counter_schema_version`. A later change appends a migration; it never
 * edits one that has shipped. Everything here runs on PostgreSQL 13 and later.
 */

/** The channel NOTIFY uses; the payload is the counter's name, '' for the default counter. */
export const CHANGE_CHANNEL = 'counter_changed';

/** Any fixed 64-bit number works; this one spells "rustyctr" and is unlikely to collide. */
export const MIGRATION_LOCK_KEY = '8247343838766703730';

export const SCHEMA_VERSION_TABLE = `
CREATE TABLE IF NOT EXISTS counter_schema_version (
  version integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
-- '' names the default counter. Byte order ("C") makes list pages sort as the file store's do.
CREATE TABLE counters (
  name text COLLATE "C" PRIMARY KEY,
  value bigint NOT NULL
);

-- The number of named counters, one row: creations and deletes update it under its row lock,
-- so the cap holds exactly however many replicas create counters at once.
CREATE TABLE counter_totals (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  named bigint NOT NULL
);
INSERT INTO counter_totals (named) VALUES (0);

-- One batch of changes, in the order given, in the caller's transaction (one statement, so one
-- round trip and one commit). Kinds: 'a' add, 's' set, 'd' delete. One row per change, in
-- order: ('v', value) the value after it (a delete: the value removed), ('o', value) overflow
-- with the value left unchanged, ('c', count) the cap refused it, ('n', NULL) nothing to delete.
CREATE FUNCTION counter_apply(names text[], kinds text[], amounts bigint[], max_named bigint)
RETURNS TABLE (outcome text, amount text)
LANGUAGE plpgsql AS $fn$
DECLARE
  keys text[];
  vals numeric[];
  present boolean[];
  was_present boolean[];
  changed boolean[];
  named_count bigint;
  out_kinds text[] := '{}';
  out_amounts numeric[] := '{}';
  found record;
  k integer;
  after numeric;
BEGIN
  keys := ARRAY(SELECT DISTINCT u.n COLLATE "C" FROM unnest(names) AS u(n) ORDER BY 1);
  vals := array_fill(0::numeric, ARRAY[cardinality(keys)]);
  present := array_fill(false, ARRAY[cardinality(keys)]);
  changed := array_fill(false, ARRAY[cardinality(keys)]);

  -- Rows are locked in name order, the same order in every batch, so batches never deadlock
  -- on them.
  FOR found IN SELECT c.name, c.value FROM counters c WHERE c.name = ANY (keys)
             ORDER BY c.name FOR UPDATE LOOP
    k := array_position(keys, found.name);
    vals[k] := found.value;
    present[k] := true;
  END LOOP;

  -- Creating a counter (the default one too) or deleting one takes the count's row lock, so
  -- creations of one name never race; then look again for the absent names, which a batch
  -- that held the lock before us may have just created.
  IF 'd' = ANY (kinds) OR NOT (true = ALL (present)) THEN
    SELECT t.named INTO named_count FROM counter_totals t FOR UPDATE;
    FOR found IN SELECT c.name, c.value FROM counters c
               WHERE c.name = ANY (keys) AND NOT present[array_position(keys, c.name)]
               ORDER BY c.name FOR UPDATE LOOP
      k := array_position(keys, found.name);
      vals[k] := found.value;
      present[k] := true;
    END LOOP;
  END IF;
  was_present := present;

  FOR i IN 1 .. cardinality(names) LOOP
    k := array_position(keys, names[i]);
    IF kinds[i] = 'd' THEN
      IF NOT present[k] THEN
        out_kinds := out_kinds || 'n'::text;
        out_amounts := out_amounts || NULL::numeric;
        CONTINUE;
      END IF;
      out_kinds := out_kinds || 'v'::text;
      out_amounts := out_amounts || vals[k];
      present[k] := false;
      vals[k] := 0;
      changed[k] := true;
      IF names[i] <> '' THEN named_count := named_count - 1; END IF;
      CONTINUE;
    END IF;
    after := CASE kinds[i] WHEN 's' THEN amounts[i] ELSE vals[k] + amounts[i] END;
    IF after < -9223372036854775808 OR after > 9223372036854775807 THEN
      out_kinds := out_kinds || 'o'::text;
      out_amounts := out_amounts || vals[k];
      CONTINUE;
    END IF;
    IF NOT present[k] AND names[i] <> '' THEN
      IF named_count >= max_named THEN
        out_kinds := out_kinds || 'c'::text;
        out_amounts := out_amounts || named_count::numeric;
        CONTINUE;
      END IF;
      named_count := named_count + 1;
    END IF;
    vals[k] := after;
    present[k] := true;
    changed[k] := true;
    out_kinds := out_kinds || 'v'::text;
    out_amounts := out_amounts || after;
  END LOOP;

  DELETE FROM counters c USING unnest(keys, was_present, present) AS u(n, was, now)
    WHERE c.name = u.n AND u.was AND NOT u.now;
  UPDATE counters c SET value = u.v::bigint
    FROM unnest(keys, vals, was_present, present, changed) AS u(n, v, was, now, touched)
    WHERE c.name = u.n AND u.was AND u.now AND u.touched;
  INSERT INTO counters (name, value)
    SELECT u.n, u.v::bigint FROM unnest(keys, vals, was_present, present) AS u(n, v, was, now)
    WHERE u.now AND NOT u.was;
  IF named_count IS NOT NULL THEN
    UPDATE counter_totals SET named = named_count;
  END IF;
  -- Sent at COMMIT, and only if it commits: LISTENers hear of exactly the durable changes.
  PERFORM pg_notify('${CHANGE_CHANNEL}', u.n)
    FROM unnest(keys, changed) AS u(n, touched) WHERE u.touched;

  RETURN QUERY SELECT o.kind, o.amount::text
    FROM unnest(out_kinds, out_amounts) WITH ORDINALITY AS o(kind, amount, position)
    ORDER BY o.position;
END
$fn$;`,
  },
];
