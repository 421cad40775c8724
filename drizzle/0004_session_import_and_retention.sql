ALTER TABLE "chat_sessions" ADD COLUMN "import_id" uuid;--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD COLUMN "import_hash" text;--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD CONSTRAINT "chat_sessions_import_id_unique" UNIQUE("import_id");--> statement-breakpoint
ALTER TABLE "chat_sessions" ADD CONSTRAINT "chat_sessions_import_hash_with_id" CHECK (("chat_sessions"."import_id" is null) = ("chat_sessions"."import_hash" is null));