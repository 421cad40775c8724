-- A chat turn marks no hour any more: the fold finds the messages inserted since it last looked
-- (docs/api.md §13.5, src/db/stats-fold.ts). The insert triggers of 0008 cost a turn's two
-- statements most of the PostgreSQL CPU they added (docs/benchmarks.md): each ran PL/pgSQL whose
-- statements are planned again after every connection reset, as Hyperdrive's pool resets them.
--
-- How the fold finds them exactly: a message's id is taken from its identity sequence, in the
-- order the ids are handed out. Each sweep marks the hours of the messages numbered after a bound,
-- and records the highest id it saw and its snapshot's transaction range. A transaction still in
-- progress at a sweep (its messages not yet visible) was given its transaction ID no earlier than
-- that snapshot's xmin; a sweep whose snapshot's xmax is at or below it was taken before that
-- transaction had an ID, so before it numbered a message. The next sweep starts after the newest
-- such sweep's highest id, and so sees every message the last sweep could not.
--
-- That holds when a transaction has its ID before it numbers a message. Every writer of the
-- service's does: a turn's statement updates or inserts its session first, an import inserts its
-- session first. A hand-written INSERT INTO chat_messages that is its transaction's first write
-- should be followed by SELECT stats_mark_all() (docs/deploy.md).
CREATE TABLE IF NOT EXISTS "stats_sweeps" (
	"snapshot_xmin" xid8 NOT NULL,
	"snapshot_xmax" xid8 NOT NULL,
	"message_id" bigint NOT NULL
);
--> statement-breakpoint
-- Marks the hours of the messages numbered since the last sweeps (see above): every hour an
-- inserted message touches, as 0008's insert trigger marked them (its own; its question's, which
-- its answer decides is answered; its rating's, which an import may bring; its session's creation
-- for an imported one), and its session's creation hour for a session's first message: a session
-- a turn starts is inserted with that message, and its row trigger skips it. Runs under the fold's
-- lock (taken here too, so that a call on its own is safe): one sweep at a time. Its messages are
-- the newest, read through the primary key: without statistics (a table never analyzed) the planner
-- takes `id > $1` for a third of the table and reads it whole, 150 ms a fold at 1,000,000 messages.
CREATE OR REPLACE FUNCTION stats_sweep() RETURNS void
  LANGUAGE plpgsql
  SET enable_seqscan = off
AS $sweep$
DECLARE
  swept_after bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7308604743518938483); -- "statsfol" in ASCII, the fold's
  SELECT coalesce(max(s.message_id), 0) INTO swept_after FROM stats_sweeps s
  WHERE s.snapshot_xmax <= (SELECT max(last.snapshot_xmin) FROM stats_sweeps last);

  -- One statement, so one snapshot: the messages marked are exactly those it records as seen.
  WITH seen AS MATERIALIZED (
    SELECT m.id, m.session_id, m.seq, m.timestamp, m.reply_to_id, m.feedback_at, m.metadata
    FROM chat_messages m WHERE m.id > swept_after
  ), marked AS (
    INSERT INTO stats_marks (hour)
    SELECT DISTINCT date_trunc('hour', touched.moment, 'UTC') FROM (
      SELECT m.timestamp FROM seen m
      UNION ALL SELECT m.feedback_at FROM seen m WHERE m.feedback_at IS NOT NULL
      UNION ALL SELECT q.timestamp FROM seen m JOIN chat_messages q ON q.id = m.reply_to_id
      UNION ALL SELECT s.created_at FROM seen m JOIN chat_sessions s ON s.id = m.session_id
        WHERE m.seq = 1 OR m.metadata -> 'imported' = 'true'::jsonb
    ) AS touched (moment)
  )
  INSERT INTO stats_sweeps (snapshot_xmin, snapshot_xmax, message_id)
  SELECT pg_snapshot_xmin(pg_current_snapshot()), pg_snapshot_xmax(pg_current_snapshot()),
    greatest(swept_after, (SELECT max(m.id) FROM seen m));

  -- Snapshots' xmin never goes back, so a sweep older than the newest one the next sweep can
  -- start from is never needed again.
  DELETE FROM stats_sweeps old WHERE old.snapshot_xmax < (
    SELECT max(s.snapshot_xmax) FROM stats_sweeps s
    WHERE s.snapshot_xmax <= (SELECT max(last.snapshot_xmin) FROM stats_sweeps last));
END;
$sweep$;
--> statement-breakpoint
-- Marks every hour that holds a message, a rating or a session's creation, for writes the
-- triggers and the sweep cannot see (a TRUNCATE, a hand-written first insert; docs/deploy.md).
-- The next fold recomputes them all.
CREATE OR REPLACE FUNCTION stats_mark_all() RETURNS void
  LANGUAGE sql
BEGIN ATOMIC
  INSERT INTO stats_marks (hour)
  SELECT date_trunc('hour', m.timestamp, 'UTC') FROM chat_messages m
  UNION SELECT date_trunc('hour', m.feedback_at, 'UTC') FROM chat_messages m WHERE m.feedback_at IS NOT NULL
  UNION SELECT date_trunc('hour', s.created_at, 'UTC') FROM chat_sessions s;
END;
--> statement-breakpoint
-- The fold of 0010, unchanged, under another name; stats_fold() now sweeps first.
ALTER FUNCTION stats_fold(timestamptz, timestamptz, integer, timestamptz) RENAME TO stats_fold_marked;
--> statement-breakpoint
CREATE FUNCTION stats_fold(lo timestamptz DEFAULT '-infinity', hi timestamptz DEFAULT 'infinity',
    max_hours integer DEFAULT NULL, periods_end timestamptz DEFAULT NULL) RETURNS integer
  LANGUAGE plpgsql
AS $fold$
BEGIN
  PERFORM stats_sweep();
  RETURN stats_fold_marked(lo, hi, max_hours, periods_end);
END;
$fold$;
--> statement-breakpoint
-- The first sweep starts after the messages there are now. Replacing the triggers waits for every
-- transaction writing chat_messages to end and holds off new ones until this transaction commits,
-- so every message numbered up to here has been marked by the old trigger, and every later one
-- is numbered after them; no transaction is left in progress that the sweep must wait for
-- (xmin = xmax).
DROP TRIGGER IF EXISTS stats_mark_inserted_messages ON chat_messages;
--> statement-breakpoint
DROP FUNCTION IF EXISTS stats_mark_inserted_message();
--> statement-breakpoint
INSERT INTO stats_sweeps (snapshot_xmin, snapshot_xmax, message_id)
SELECT pg_snapshot_xmax(pg_current_snapshot()), pg_snapshot_xmax(pg_current_snapshot()),
  coalesce((SELECT max(m.id) FROM chat_messages m), 0);
--> statement-breakpoint
-- A session a turn starts is inserted with its first message (one message, not imported): the
-- sweep marks its creation hour through that message. An empty session, or an imported one, is
-- still marked here.
CREATE OR REPLACE TRIGGER stats_mark_inserted_sessions AFTER INSERT ON chat_sessions
  FOR EACH ROW WHEN (NOT (NEW.message_count = 1 AND NEW.import_id IS NULL))
  EXECUTE FUNCTION stats_mark_inserted_session();
