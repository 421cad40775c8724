-- migrate: no-transaction
-- The admin list's "failures" and "rated down" filters (docs/api.md §13.2) read counters on the
-- session row through partial indexes instead of counting every session's messages, and the search
-- limited to questions or to answers (§13.4) reads a GIN index of that sender's messages only.
-- Outside a transaction, for a large database (docs/deploy.md, "Migrations on a large table"):
-- the columns with a constant default are added in an instant, the counters are filled in batches
-- of sessions, each its own transaction, and the indexes are built concurrently. Every statement
-- can run again after a failure.
ALTER TABLE "chat_sessions" ADD COLUMN IF NOT EXISTS "failures" integer DEFAULT 0 NOT NULL,
  ADD COLUMN IF NOT EXISTS "rated_down" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- The counters as the list counted them before (db/admin.ts): questions asked here less the
-- answers stored here, plus the answers cut short here, and every answer rated down. Each batch
-- first locks its sessions, so that the recount, a later statement with a later snapshot, holds
-- every turn those sessions have committed; a turn or rating that comes after waits for the
-- batch's COMMIT and then adds to the recounted value, as the service does from now on.
DO $$
DECLARE
  batch_size constant bigint := 1000;
  batch_start bigint := 0;
  last_session bigint;
BEGIN
  SELECT max("id") INTO last_session FROM "chat_sessions";
  WHILE batch_start <= coalesce(last_session, 0) LOOP
    PERFORM 1 FROM "chat_sessions"
    WHERE "id" >= batch_start AND "id" < batch_start + batch_size
    FOR NO KEY UPDATE;
    UPDATE "chat_sessions" SET "failures" = counted.failures, "rated_down" = counted.rated_down
    FROM (
      SELECT "session_id",
        (count(*) FILTER (WHERE "sender" = 'user' AND NOT imported)
          - count(*) FILTER (WHERE "sender" = 'bot' AND NOT imported)
          + count(*) FILTER (WHERE "status" = 'incomplete' AND NOT imported))::int AS failures,
        (count(*) FILTER (WHERE "feedback_rating" = 'down'))::int AS rated_down
      FROM (
        SELECT "session_id", "sender", "status", "feedback_rating",
          coalesce("metadata" -> 'imported' = 'true'::jsonb, false) AS imported
        FROM "chat_messages"
        WHERE "session_id" >= batch_start AND "session_id" < batch_start + batch_size
      ) AS messages
      GROUP BY "session_id"
    ) AS counted
    WHERE "chat_sessions"."id" = counted."session_id"
      AND ("chat_sessions"."failures", "chat_sessions"."rated_down") IS DISTINCT FROM (counted.failures, counted.rated_down);
    COMMIT;
    batch_start := batch_start + batch_size;
  END LOOP;
END $$;--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "chat_sessions_failures_activity_idx" ON "chat_sessions" USING btree (coalesce("last_message_at", "created_at"),"id") WHERE "chat_sessions"."failures" > 0;--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "chat_sessions_rated_down_activity_idx" ON "chat_sessions" USING btree (coalesce("last_message_at", "created_at"),"id") WHERE "chat_sessions"."rated_down" > 0;--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "chat_messages_user_search" ON "chat_messages" USING gin ("search_vector") WHERE "chat_messages"."sender" = 'user';--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "chat_messages_bot_search" ON "chat_messages" USING gin ("search_vector") WHERE "chat_messages"."sender" = 'bot';
