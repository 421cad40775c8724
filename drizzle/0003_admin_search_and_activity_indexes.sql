ALTER TABLE "chat_messages" ADD COLUMN "search_vector" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', "chat_messages"."message")) STORED NOT NULL;--> statement-breakpoint
CREATE INDEX "chat_messages_message_search" ON "chat_messages" USING gin ("search_vector");--> statement-breakpoint
CREATE INDEX "chat_messages_timestamp_idx" ON "chat_messages" USING btree ("timestamp");--> statement-breakpoint
CREATE INDEX "chat_messages_feedback_at_idx" ON "chat_messages" USING btree ("feedback_at") WHERE "chat_messages"."feedback_at" is not null;--> statement-breakpoint
CREATE INDEX "chat_sessions_activity_idx" ON "chat_sessions" USING btree (coalesce("last_message_at", "created_at"),"id");