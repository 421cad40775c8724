ALTER TABLE "chat_messages" ADD COLUMN "feedback_rating" text;--> statement-breakpoint
ALTER TABLE "chat_messages" ADD COLUMN "feedback_comment" text;--> statement-breakpoint
ALTER TABLE "chat_messages" ADD COLUMN "feedback_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_feedback_rating_check" CHECK ("chat_messages"."feedback_rating" in ('up', 'down'));--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_feedback_only_on_answers" CHECK ("chat_messages"."feedback_rating" is null or "chat_messages"."sender" = 'bot');--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_feedback_whole" CHECK (("chat_messages"."feedback_rating" is null) = ("chat_messages"."feedback_at" is null) and ("chat_messages"."feedback_rating" is not null or "chat_messages"."feedback_comment" is null));