/**
 * The payloads the API answers with (docs/api.md §3–§10). The db layer builds messages and sessions in
 * SQL in exactly these shapes; the OpenAPI document is generated from these schemas.
 */
import { z } from "zod";
import { messageStatuses, senders } from "../db/schema";
import { problemStatus } from "../http/problem";

const timestamp = z.string().describe("RFC 3339 UTC with milliseconds, e.g. 2026-11-23T20:15:08.123Z");
const sessionUuid = z.string().describe("The session's UUID, lower case");

export const sourceSchema = z.object({
  title: z.string(),
  url: z.string().nullable(),
  snippet: z.string().describe("The passage's first 300 characters"),
  score: z.number().describe("Qdrant's similarity score"),
});

export const messageSchema = z.object({
  id: z.number().int().describe("Unique across the database"),
  seq: z.number().int().min(1).describe("1-based position in the session; never two equal, strictly increasing"),
  sender: z.enum(senders),
  message: z.string(),
  timestamp,
  status: z.enum(messageStatuses).describe('"incomplete": a bot answer whose generation was cut short'),
  client_message_id: z.string().nullable(),
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

export const healthSchema = z.object({
  status: z
    .enum(["ok", "degraded"])
    .describe('"degraded": the database answers but no usable answer model is configured'),
  database: z.literal("ok"),
  answer_provider: z.string().describe('"echo", "openai-compatible:<model>[+qdrant]" or "unavailable"'),
  answer_problem: z.string().optional().describe("What is wrong with the model configuration"),
});

export const problemSchema = z.object({
  type: z.literal("about:blank"),
  title: z.string(),
  status: z.number().int(),
  code: z.enum(Object.keys(problemStatus) as [keyof typeof problemStatus, ...(keyof typeof problemStatus)[]]),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  request_id: z.string(),
  session_uuid: z.string().optional().describe("On answer_failed and answer_timeout: retry with it"),
});

export type Source = z.infer<typeof sourceSchema>;
export type Message = z.infer<typeof messageSchema>;
export type SessionSummary = z.infer<typeof sessionSummarySchema>;
