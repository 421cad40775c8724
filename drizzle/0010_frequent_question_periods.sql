-- migrate: no-transaction
-- The frequent questions at any size (docs/api.md §13.9). The admin page's periods (the last 7, 30,
-- 90 and 365 days, ending with the current hour) are kept counted, question by question, in
-- stats_period_questions, so a page of them is an index scan of its 50 rows, not a grouping of
-- every question of the period: at 1,000,000 messages the 30 days held 92,000 distinct questions
-- and took 491 ms (docs/benchmarks.md). The fold keeps them: what changes in an hour is added to
-- every kept period holding it, and as the current hour moves on, each period takes in the hours
-- it reaches and takes away those it leaves. Any other period is still added up from the hours.
--
-- Also, stats_hour_questions is keyed by the MD5 of its question: keyed by the text, a question
-- over 2,704 bytes (a reader may ask 8,000 characters) stopped every fold with "index row size
-- exceeds btree version 4 maximum", and with it the statistics. No transaction: the new keys are
-- built concurrently, so the fold is never held off for the length of the build.
CREATE TABLE IF NOT EXISTS "stats_periods" (
	"days" integer PRIMARY KEY NOT NULL,
	"ends" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "stats_period_questions" (
	"days" integer NOT NULL,
	"question" text NOT NULL,
	"asked" integer NOT NULL,
	"up" integer NOT NULL,
	"down" integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "stats_period_questions_days_question_key" ON "stats_period_questions" USING btree ("days",md5("question"));--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "stats_period_questions_rank_idx" ON "stats_period_questions" USING btree ("days","asked" desc,left("question", 200),md5("question")) WHERE "stats_period_questions"."asked" > 0;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "stats_period_questions_emptied_idx" ON "stats_period_questions" USING btree ("days") WHERE "stats_period_questions"."asked" = 0;--> statement-breakpoint
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "stats_hour_questions_hour_question_key" ON "stats_hour_questions" USING btree ("hour",md5("question"));--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "stats_hour_questions_question_idx" ON "stats_hour_questions" USING btree (md5("question"),"hour");--> statement-breakpoint
ALTER TABLE "stats_hour_questions" DROP CONSTRAINT IF EXISTS "stats_hour_questions_hour_question_pk";
--> statement-breakpoint
-- The periods kept, each to be counted whole by the first move (its end is far in the past).
INSERT INTO stats_periods (days, ends) VALUES (7, 'epoch'), (30, 'epoch'), (90, 'epoch'), (365, 'epoch')
ON CONFLICT (days) DO NOTHING;
--> statement-breakpoint
-- Folds the questions of the given hours: writes only the hourly rows that changed, and adds each
-- change to every kept period holding its hour. Called by stats_fold(), under its lock.
CREATE OR REPLACE FUNCTION stats_fold_questions(hours timestamptz[]) RETURNS void
  LANGUAGE plpgsql
AS $questions$
BEGIN
  -- Every step reads the hours as they were before the statement (one snapshot), and no two steps
  -- write the same row: changed rows are upserted, vanished ones deleted.
  WITH fresh AS (
    SELECT hour, q.question, q.asked, q.up, q.down, q.example
    FROM unnest(hours) AS hour, stats_window_questions(hour, hour + interval '1 hour') AS q
  ), stored AS (
    SELECT h.hour, h.question, h.asked, h.up, h.down, h.example FROM stats_hour_questions h WHERE h.hour = ANY (hours)
  ), changed AS (
    SELECT coalesce(f.hour, s.hour) AS hour, coalesce(f.question, s.question) AS question,
      f.hour IS NULL AS vanished, f.asked, f.up, f.down, f.example,
      coalesce(f.asked, 0) - coalesce(s.asked, 0) AS more_asked,
      coalesce(f.up, 0) - coalesce(s.up, 0) AS more_up,
      coalesce(f.down, 0) - coalesce(s.down, 0) AS more_down
    FROM fresh f FULL JOIN stored s ON s.hour = f.hour AND s.question = f.question
    WHERE (f.asked, f.up, f.down, f.example) IS DISTINCT FROM (s.asked, s.up, s.down, s.example)
  ), written AS (
    INSERT INTO stats_hour_questions AS h (hour, question, asked, up, down, example)
    SELECT c.hour, c.question, c.asked, c.up, c.down, c.example FROM changed c WHERE NOT c.vanished
    ON CONFLICT (hour, md5(question)) DO UPDATE
      SET asked = excluded.asked, up = excluded.up, down = excluded.down, example = excluded.example
  ), removed AS (
    DELETE FROM stats_hour_questions h USING changed c
    WHERE c.vanished AND h.hour = c.hour AND md5(h.question) = md5(c.question)
  )
  INSERT INTO stats_period_questions AS kept (days, question, asked, up, down)
  SELECT p.days, c.question, sum(c.more_asked), sum(c.more_up), sum(c.more_down)
  FROM changed c
  JOIN stats_periods p ON c.hour >= p.ends - make_interval(hours => 24 * p.days) AND c.hour < p.ends
  GROUP BY p.days, c.question
  HAVING (sum(c.more_asked), sum(c.more_up), sum(c.more_down)) <> (0, 0, 0)
  ON CONFLICT (days, md5(question)) DO UPDATE
    SET asked = kept.asked + excluded.asked, up = kept.up + excluded.up, down = kept.down + excluded.down;

  DELETE FROM stats_period_questions WHERE asked = 0;
END;
$questions$;
--> statement-breakpoint
-- Moves every kept period to end at new_ends (exclusive, a whole hour): a period that moves forward
-- by less than its length takes in the hours it reaches and takes away those it leaves, from the
-- hourly rows; one that moves further, or back, is counted again whole. Called by stats_fold(),
-- under its lock, before the hours are folded.
CREATE OR REPLACE FUNCTION stats_move_periods(new_ends timestamptz) RETURNS void
  LANGUAGE plpgsql
AS $move$
DECLARE
  period record;
  span interval;
BEGIN
  FOR period IN SELECT days, ends FROM stats_periods WHERE ends <> new_ends LOOP
    span := make_interval(hours => 24 * period.days);
    IF period.ends < new_ends AND new_ends - period.ends < span THEN
      INSERT INTO stats_period_questions AS kept (days, question, asked, up, down)
      SELECT period.days, h.question, sum(h.asked), sum(h.up), sum(h.down)
      FROM (
        SELECT l.question, -l.asked, -l.up, -l.down FROM stats_hour_questions l
        WHERE l.hour >= period.ends - span AND l.hour < new_ends - span
        UNION ALL
        SELECT r.question, r.asked, r.up, r.down FROM stats_hour_questions r
        WHERE r.hour >= period.ends AND r.hour < new_ends
      ) AS h (question, asked, up, down)
      GROUP BY h.question
      HAVING (sum(h.asked), sum(h.up), sum(h.down)) <> (0, 0, 0)
      ON CONFLICT (days, md5(question)) DO UPDATE
        SET asked = kept.asked + excluded.asked, up = kept.up + excluded.up, down = kept.down + excluded.down;
    ELSE
      DELETE FROM stats_period_questions WHERE days = period.days;
      INSERT INTO stats_period_questions (days, question, asked, up, down)
      SELECT period.days, h.question, sum(h.asked), sum(h.up), sum(h.down)
      FROM stats_hour_questions h WHERE h.hour >= new_ends - span AND h.hour < new_ends
      GROUP BY h.question;
    END IF;
  END LOOP;
  -- Every fold calls this; all but the first in an hour find nothing to move.
  IF NOT FOUND THEN
    RETURN;
  END IF;
  UPDATE stats_periods SET ends = new_ends WHERE ends <> new_ends;
  DELETE FROM stats_period_questions WHERE asked = 0;
END;
$move$;
--> statement-breakpoint
-- The kept period that is exactly [lo, hi), after a fold of [lo, hi) that has moved the periods
-- to the end of the current hour; null when none is. What a frequent-questions read runs first.
CREATE OR REPLACE FUNCTION stats_fold_for_period(lo timestamptz, hi timestamptz) RETURNS integer
  LANGUAGE plpgsql
AS $period$
BEGIN
  PERFORM stats_fold(lo, hi);
  RETURN (SELECT p.days FROM stats_periods p WHERE p.ends = hi AND p.ends - make_interval(hours => 24 * p.days) = lo);
END;
$period$;
--> statement-breakpoint
-- stats_fold() as migration 0008 wrote it, but for two things: it first moves the kept periods
-- to the end of the current hour (periods_end: another end, which the tests use), and it folds the
-- questions with stats_fold_questions(). A new argument is a new function, so the old one is
-- dropped in the same transaction: no fold ever finds none, or two that a call could mean.
DO $swap$
BEGIN
  DROP FUNCTION IF EXISTS stats_fold(timestamptz, timestamptz, integer);
  CREATE FUNCTION stats_fold(lo timestamptz DEFAULT '-infinity', hi timestamptz DEFAULT 'infinity',
      max_hours integer DEFAULT NULL, periods_end timestamptz DEFAULT NULL) RETURNS integer
    LANGUAGE plpgsql
  AS $fold$
  DECLARE
    hours timestamptz[];
    days timestamptz[];
  BEGIN
    PERFORM pg_advisory_xact_lock(7308604743518938483); -- "statsfol" in ASCII
    PERFORM stats_move_periods(coalesce(periods_end, date_trunc('hour', now(), 'UTC') + interval '1 hour'));
    WITH chosen AS (
      SELECT DISTINCT hour FROM stats_marks WHERE hour >= lo AND hour < hi ORDER BY hour LIMIT max_hours
    ), taken AS (
      DELETE FROM stats_marks WHERE hour IN (SELECT hour FROM chosen) RETURNING hour
    )
    SELECT coalesce(array_agg(DISTINCT hour), '{}') INTO hours FROM taken;
    IF cardinality(hours) = 0 THEN
      RETURN 0;
    END IF;
    SELECT array_agg(DISTINCT date_trunc('day', hour, 'UTC')) INTO days FROM unnest(hours) AS hour;

    DELETE FROM stats_hour_values WHERE hour = ANY (hours);
    INSERT INTO stats_hour_values (hour, measure, value, n, bin)
    SELECT folded.start, v.measure, v.value, v.n, stats_value_bin(v.value)
    FROM unnest(hours) AS folded (start), stats_window_values(folded.start, folded.start + interval '1 hour') AS v;

    DELETE FROM stats_hour_bins WHERE hour = ANY (hours);
    INSERT INTO stats_hour_bins (hour, measure, bin, n)
    SELECT v.hour, v.measure, v.bin, sum(v.n) FROM stats_hour_values v WHERE v.hour = ANY (hours)
    GROUP BY v.hour, v.measure, v.bin;

    -- An hour's and a day's percentiles: percentile_cont over their histograms' values, each
    -- repeated n times, so over exactly the answers' values.
    DELETE FROM stats_hours WHERE hour = ANY (hours);
    INSERT INTO stats_hours
    SELECT folded.start, c.*, p.*
    FROM unnest(hours) AS folded (start)
    CROSS JOIN LATERAL stats_window_counts(folded.start, folded.start + interval '1 hour') AS c
    CROSS JOIN LATERAL (
      SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v.value) FILTER (WHERE v.measure = 'latency'),
        percentile_cont(0.95) WITHIN GROUP (ORDER BY v.value) FILTER (WHERE v.measure = 'latency'),
        percentile_cont(0.5) WITHIN GROUP (ORDER BY v.value) FILTER (WHERE v.measure = 'tokens'),
        percentile_cont(0.95) WITHIN GROUP (ORDER BY v.value) FILTER (WHERE v.measure = 'tokens')
      FROM stats_hour_values v CROSS JOIN generate_series(1, v.n)
      WHERE v.hour = folded.start
    ) AS p;

    DELETE FROM stats_day_values WHERE day = ANY (days);
    INSERT INTO stats_day_values (day, measure, value, n, bin)
    SELECT folded.day, v.measure, v.value, sum(v.n), min(v.bin)
    FROM unnest(days) AS folded (day)
    JOIN stats_hour_values v ON v.hour >= folded.day AND v.hour < folded.day + interval '1 day'
    GROUP BY folded.day, v.measure, v.value;

    DELETE FROM stats_day_bins WHERE day = ANY (days);
    INSERT INTO stats_day_bins (day, measure, bin, n)
    SELECT v.day, v.measure, v.bin, sum(v.n)
    FROM stats_day_values v WHERE v.day = ANY (days)
    GROUP BY v.day, v.measure, v.bin;

    DELETE FROM stats_days WHERE day = ANY (days);
    INSERT INTO stats_days (day, latency_p50, latency_p95, tokens_p50, tokens_p95)
    SELECT folded.day,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY v.value) FILTER (WHERE v.measure = 'latency'),
      percentile_cont(0.95) WITHIN GROUP (ORDER BY v.value) FILTER (WHERE v.measure = 'latency'),
      percentile_cont(0.5) WITHIN GROUP (ORDER BY v.value) FILTER (WHERE v.measure = 'tokens'),
      percentile_cont(0.95) WITHIN GROUP (ORDER BY v.value) FILTER (WHERE v.measure = 'tokens')
    FROM unnest(days) AS folded (day)
    LEFT JOIN (stats_day_values v CROSS JOIN generate_series(1, v.n)) ON v.day = folded.day
    GROUP BY folded.day;

    DELETE FROM stats_hour_readers WHERE hour = ANY (hours);
    INSERT INTO stats_hour_readers (hour, reader_id)
    SELECT hour, r.reader_id FROM unnest(hours) AS hour, stats_window_readers(hour, hour + interval '1 hour') AS r;

    DELETE FROM stats_hour_sources WHERE hour = ANY (hours);
    INSERT INTO stats_hour_sources (hour, title, url, answers)
    SELECT hour, s.title, s.url, s.answers FROM unnest(hours) AS hour, stats_window_sources(hour, hour + interval '1 hour') AS s;

    PERFORM stats_fold_questions(hours);

    RETURN cardinality(hours);
  END;
  $fold$;
END;
$swap$;
--> statement-breakpoint
-- The kept periods, counted whole from the hourly rows (at 1,000,000 messages: see docs/deploy.md).
SELECT stats_fold();
