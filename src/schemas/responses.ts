/**
 * The payloads the API answers with (docs/api.md §3–§10), and the one mapper from each stored row
 * to its payload. The OpenAPI document is generated from these schemas.
 */
import { z } from "zod";
import { messageStatuses, type Source, senders } from "../conversation";
import type { ShownMessage } from "../db/queries";
import type { ChatSession } from "../db/schema";
import { problemSchema } from "../http/problem";

const timestamp = z
  .string()
  .meta({ format: "date-time" })
  .describe("RFC 3339 UTC with milliseconds, e.g. 2026-11-23T20:15:08.123Z");
const sessionUuid = z.string().meta({ format: "uuid" }).describe("The session's UUID, lower case");

export const sourceSchema = z.object({
  title: z.string(),
  url: z.string().nullable(),
  snippet: z.string().describe("The passage's first 300 characters"),
  score: z.number().describe("Qdrant's similarity score"),
}) satisfies z.ZodType<Source>;

export const messageSchema = z.object({
  id: z.number().int().describe("Unique across the database"),
  seq: z.number().int().min(1).describe("1-based position in the session; never two equal, strictly increasing"),
  sender: z.enum(senders),
  message: z.string(),
  timestamp,
  status: z.enum(messageStatuses).describe('"incomplete": a bot answer whose generation was cut short'),
  client_message_id: z.string().meta({ format: "uuid" }).nullable(),
  sources: z.array(sourceSchema).describe("For bot messages, the passages the answer was grounded on"),
});

export const chatResponseSchema = z.object({
  session_uuid: sessionUuid,
  answer: z.string().describe("bot_message.message"),
  sources: z.array(sourceSchema).describe("bot_message.sources"),
  user_message: messageSchema,
  bot_message: messageSchema,
});

export const historyPageSchema = z.object({
  session_uuid: sessionUuid,
  messages: z.array(messageSchema),
  next_cursor: z.string().nullable().describe("Pass back as `cursor` for the next page; null at the end"),
});

export const sessionSummarySchema = z.object({
  session_uuid: sessionUuid,
  created_at: timestamp,
  last_message_at: timestamp.nullable(),
  message_count: z.number().int(),
});

export const sessionCreatedSchema = sessionSummarySchema.pick({ session_uuid: true, created_at: true });

/** The first characters of a session UUID: tell exports apart without handing out the session. */
export function shortSessionId(sessionUuid: string): string {
  return sessionUuid.slice(0, 8);
}

/**
 * A session as GET /api/sessions/{uuid}/export?format=json writes it (docs/api.md §14). It leaves
 * out the session UUID, a bearer capability, since exported files get shared; its `messages` are
 * a valid `messages` of POST /api/sessions/import as they are.
 */
export const sessionExportSchema = z.object({
  format: z.literal("chat-history-export"),
  version: z.literal(1),
  exported_at: timestamp,
  session: z.object({
    short_id: z.string().describe("The session UUID's first 8 characters"),
    created_at: timestamp,
    last_message_at: timestamp.nullable(),
    message_count: z.number().int().describe("The messages exported: those the session held when the export began"),
  }),
  messages: z.array(messageSchema),
});

export const healthSchema = z.object({
  status: z
    .enum(["ok", "degraded"])
    .describe('"degraded": the database answers but no usable answer model is configured'),
  database: z.literal("ok"),
  answer_provider: z.string().describe('"echo", "openai-compatible:<model>[+qdrant]" or "unavailable"'),
  answer_problem: z.string().optional().describe("What is wrong with the model configuration"),
});

/** The events of a streamed answer (docs/api.md §4.3), each with its `data`. */
export const chatStreamEventSchemas = {
  start: z.object({ session_uuid: sessionUuid, user_message: messageSchema }),
  delta: z.object({ text: z.string().describe("The next piece of the answer") }),
  done: z.object({ bot_message: messageSchema }),
  error: problemSchema,
};

export type Message = z.infer<typeof messageSchema>;
export type SessionSummary = z.infer<typeof sessionSummarySchema>;
export type SessionExport = z.infer<typeof sessionExportSchema>;
export type ChatResponse = z.infer<typeof chatResponseSchema>;
export type HistoryPage = z.infer<typeof historyPageSchema>;
export type ChatStreamEvent = {
  [Event in keyof typeof chatStreamEventSchemas]: {
    event: Event;
    data: z.infer<(typeof chatStreamEventSchemas)[Event]>;
  };
}[keyof typeof chatStreamEventSchemas];

/** A stored message in the API's shape (docs/api.md §3). */
export function toMessage(row: ShownMessage): Message {
  return {
    id: row.id,
    seq: row.seq,
    sender: row.sender,
    message: row.message,
    timestamp: row.timestamp.toISOString(),
    status: row.status,
    client_message_id: row.clientMessageId,
    sources: row.sources,
  };
}

/** The head of a JSON export (docs/api.md §14): everything but its messages, which are streamed. */
export function toExportHead(row: ChatSession, exportedAt: Date): Omit<SessionExport, "messages"> {
  return {
    format: "chat-history-export",
    version: 1,
    exported_at: exportedAt.toISOString(),
    session: {
      short_id: shortSessionId(row.sessionUuid),
      created_at: row.createdAt.toISOString(),
      last_message_at: row.lastMessageAt?.toISOString() ?? null,
      message_count: row.messageCount,
    },
  };
}

/** A stored session in the API's shape (docs/api.md §6). */
export function toSessionSummary(row: ChatSession): SessionSummary {
  return {
    session_uuid: row.sessionUuid,
    created_at: row.createdAt.toISOString(),
    last_message_at: row.lastMessageAt?.toISOString() ?? null,
    message_count: row.messageCount,
  };
}
