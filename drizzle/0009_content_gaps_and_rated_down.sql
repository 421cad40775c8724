-- migrate: no-transaction
-- The content gaps and the answers rated down (docs/api.md §13.7, §13.8), each read from a partial
-- index that holds only its own rows, so a view costs what it shows, not every message. Built
-- CONCURRENTLY: a plain build would hold off every insert for its length (docs/deploy.md).
--
-- The best score among an answer's passages (sources[].score, Qdrant's similarity); null when it
-- cites none. IMMUTABLE (it reads its argument alone), so an index may be built on it; it never
-- raises, whatever the jsonb holds, because an index predicate that raised would fail the insert
-- of the answer itself.
CREATE OR REPLACE FUNCTION best_source_score(sources jsonb) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN (SELECT max((passage ->> 'score')::double precision)
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(sources) = 'array' THEN sources ELSE '[]'::jsonb END) AS passage
    WHERE jsonb_typeof(passage -> 'score') = 'number');
--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "chat_messages_content_gaps_idx" ON "chat_messages" USING btree ("timestamp","id") WHERE "chat_messages"."sender" = 'bot' and "chat_messages"."metadata" -> 'retrieval' ->> 'provider' = 'qdrant'
    and coalesce(best_source_score("chat_messages"."sources"), 0) < 0.5;--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "chat_messages_rated_down_idx" ON "chat_messages" USING btree ("feedback_at","id") WHERE "chat_messages"."feedback_rating" = 'down';
