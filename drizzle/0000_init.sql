CREATE TABLE "chat_messages" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "chat_messages_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"session_id" bigint NOT NULL,
	"seq" integer NOT NULL,
	"sender" text NOT NULL,
	"message" text NOT NULL,
	"timestamp" timestamp (3) with time zone NOT NULL,
	"status" text DEFAULT 'complete' NOT NULL,
	"client_message_id" uuid,
	"reply_to_id" bigint,
	"sources" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"metadata" jsonb,
	CONSTRAINT "chat_messages_session_seq_unique" UNIQUE("session_id","seq"),
	CONSTRAINT "chat_messages_session_client_message_id_unique" UNIQUE("session_id","client_message_id"),
	CONSTRAINT "chat_messages_sender_check" CHECK ("chat_messages"."sender" in ('user', 'bot')),
	CONSTRAINT "chat_messages_status_check" CHECK ("chat_messages"."status" in ('complete', 'incomplete')),
	CONSTRAINT "chat_messages_seq_positive" CHECK ("chat_messages"."seq" > 0),
	CONSTRAINT "chat_messages_reply_only_from_bot" CHECK (("chat_messages"."sender" = 'bot') = ("chat_messages"."reply_to_id" is not null))
);
--> statement-breakpoint
CREATE TABLE "chat_sessions" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "chat_sessions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"session_uuid" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"last_message_at" timestamp (3) with time zone,
	"message_count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "chat_sessions_session_uuid_unique" UNIQUE("session_uuid")
);
--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_session_id_chat_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."chat_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_messages" ADD CONSTRAINT "chat_messages_reply_to_id_chat_messages_id_fk" FOREIGN KEY ("reply_to_id") REFERENCES "public"."chat_messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "chat_messages_reply_to_id_unique" ON "chat_messages" USING btree ("reply_to_id");