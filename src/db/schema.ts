import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { messageStatuses, type Source, senders } from "../conversation";

export const chatSessions = pgTable(
  "chat_sessions",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    sessionUuid: uuid("session_uuid").notNull().unique(),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    lastMessageAt: timestamp("last_message_at", { withTimezone: true, precision: 3 }),
    // The last seq handed out in this session. Incrementing it in the statement that inserts a
    // message takes the session row's lock, so concurrent turns get distinct, gap-free seq values
    // without a read-then-write race.
    messageCount: integer("message_count").notNull().default(0),
    // A session made by POST /api/sessions/import: the client's key and the SHA-256 of the
    // transcript it stored. Unique, so the insert itself finds a retry, even a concurrent one; kept
    // on the session, so erasing the session erases them too.
    importId: uuid("import_id").unique(),
    importHash: text("import_hash"),
  },
  (table) => [
    check("chat_sessions_import_hash_with_id", sql`(${table.importId} is null) = (${table.importHash} is null)`),
    // The retention purge looks for the sessions whose last activity is oldest, and reads filter
    // on it; the index is on the very expression they use (see lastActivity below).
    index("chat_sessions_last_activity_idx").on(sql`coalesce(${table.lastMessageAt}, ${table.createdAt})`),
  ],
);

/**
 * A session's last activity, which its retention period counts from: its last message, or its
 * creation while it has none. Written exactly as chat_sessions_last_activity_idx is, so that the
 * planner can use that index.
 */
export const lastActivity = sql<Date>`coalesce(${chatSessions.lastMessageAt}, ${chatSessions.createdAt})`;

export const chatMessages = pgTable(
  "chat_messages",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    sessionId: bigint("session_id", { mode: "number" }).notNull(),
    // The history's total order: timestamps can tie, seq never does.
    seq: integer("seq").notNull(),
    sender: text("sender", { enum: senders }).notNull(),
    message: text("message").notNull(),
    timestamp: timestamp("timestamp", { withTimezone: true, precision: 3 }).notNull(),
    status: text("status", { enum: messageStatuses }).notNull().default("complete"),
    clientMessageId: uuid("client_message_id"),
    // The user message a bot message answers. Unique, so a retried or raced turn can never
    // store two answers to one question.
    replyToId: bigint("reply_to_id", { mode: "number" }),
    sources: jsonb("sources").$type<Source[]>().notNull().default(sql`'[]'::jsonb`),
    metadata: jsonb("metadata").$type<Record<string, unknown>>(),
  },
  (table) => [
    foreignKey({ columns: [table.sessionId], foreignColumns: [chatSessions.id] }).onDelete("cascade"),
    foreignKey({ columns: [table.replyToId], foreignColumns: [table.id] }).onDelete("cascade"),
    unique("chat_messages_session_seq_unique").on(table.sessionId, table.seq),
    unique("chat_messages_session_client_message_id_unique").on(table.sessionId, table.clientMessageId),
    uniqueIndex("chat_messages_reply_to_id_unique").on(table.replyToId),
    check("chat_messages_sender_check", sql`${table.sender} in ('user', 'bot')`),
    check("chat_messages_status_check", sql`${table.status} in ('complete', 'incomplete')`),
    check("chat_messages_seq_positive", sql`${table.seq} > 0`),
    check("chat_messages_reply_only_from_bot", sql`(${table.sender} = 'bot') = (${table.replyToId} is not null)`),
  ],
);

export type ChatSession = typeof chatSessions.$inferSelect;
export type ChatMessage = typeof chatMessages.$inferSelect;
