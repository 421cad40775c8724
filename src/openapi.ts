/**
 * The OpenAPI 3.1 description of the API, generated from the same zod schemas that validate the
 * requests (src/schemas) and describe the answers (src/schemas/responses.ts).
 */
import { z } from "zod";
import { type ProblemCode, problemStatus } from "./http/problem";
import { chatRequestSchema } from "./schemas/chat";
import { historyQuerySchema } from "./schemas/history";
import {
  chatResponseSchema,
  healthSchema,
  historyPageSchema,
  problemSchema,
  sessionCreatedSchema,
  sessionSummarySchema,
} from "./schemas/responses";
import { uuidSchema } from "./schemas/uuid";

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Json;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json) => ({ "application/json": { schema } });

/** The problem responses an operation can give, grouped by status as OpenAPI wants them. */
function problems(...codes: ProblemCode[]): Json {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of codes) byStatus.set(problemStatus[code], [...(byStatus.get(problemStatus[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, grouped]) => [
      String(status),
      {
        description: `Problem: ${grouped.join(", ")}`,
        content: { "application/problem+json": { schema: ref("Problem") } },
      },
    ]),
  );
}

const sessionHeader = {
  name: "X-Session-Id",
  in: "header",
  required: false,
  description: "The session UUID; must agree with the one in the path or body",
  schema: jsonSchema(uuidSchema, "input"),
};
const sessionPathParameter = {
  name: "session_uuid",
  in: "path",
  required: true,
  schema: jsonSchema(uuidSchema, "input"),
};
const common = ["validation_error", "internal_error", "database_unavailable", "database_timeout"] as const;

function historyQueryParameters(): Json[] {
  const schema = jsonSchema(historyQuerySchema, "input") as { properties: Record<string, Json> };
  const descriptions: Record<string, string> = {
    limit: "1 to 1000, default 100",
    order: "asc (default) or desc, newest first",
    cursor: "next_cursor of the previous page",
  };
  return Object.entries(schema.properties).map(([name, property]) => ({
    name,
    in: "query",
    required: false,
    description: descriptions[name],
    schema: property,
  }));
}

let document: Json | undefined;

export function openApiDocument(): Json {
  document ??= {
    openapi: "3.1.0",
    info: {
      title: "Humanoid Robotics Book — chat history",
      version: "1.0.0",
      description:
        "Conversations of the book's Q&A chatbot: ask questions, read the history. Every error is an " +
        "RFC 9457 problem (application/problem+json) with a stable `code`.",
    },
    components: {
      schemas: {
        ChatRequest: jsonSchema(chatRequestSchema, "input"),
        ChatResponse: jsonSchema(chatResponseSchema, "output"),
        HistoryPage: jsonSchema(historyPageSchema, "output"),
        SessionSummary: jsonSchema(sessionSummarySchema, "output"),
        SessionCreated: jsonSchema(sessionCreatedSchema, "output"),
        Health: jsonSchema(healthSchema, "output"),
        Problem: jsonSchema(problemSchema, "output"),
      },
    },
    paths: {
      "/api/chat": {
        post: {
          summary: "Ask the chatbot",
          description:
            "Stores the question, answers it and stores the answer. Without a session UUID a new session " +
            'is issued. With `"stream": true` or `Accept: text/event-stream` the answer comes as ' +
            "server-sent events: start, delta…, done (or error, whose data is a Problem).",
          parameters: [sessionHeader],
          requestBody: { required: true, content: json(ref("ChatRequest")) },
          responses: {
            "200": {
              description: "The turn, stored",
              headers: { "X-Session-Id": { schema: { type: "string" } } },
              content: { ...json(ref("ChatResponse")), "text/event-stream": { schema: { type: "string" } } },
            },
            ...problems(
              "invalid_json",
              ...common,
              "session_conflict",
              "session_not_found",
              "idempotency_conflict",
              "payload_too_large",
              "unsupported_media_type",
              "rate_limited",
              "answer_failed",
              "answer_unavailable",
              "answer_timeout",
            ),
          },
        },
      },
      "/api/sessions": {
        post: {
          summary: "Create an empty session",
          responses: {
            "201": { description: "Created", content: json(ref("SessionCreated")) },
            ...problems(...common),
          },
        },
      },
      "/api/sessions/{session_uuid}": {
        parameters: [sessionPathParameter, sessionHeader],
        get: {
          summary: "Read a session",
          responses: {
            "200": { description: "The session", content: json(ref("SessionSummary")) },
            ...problems(...common, "session_conflict", "session_not_found"),
          },
        },
        delete: {
          summary: "Delete a session and all its messages",
          responses: {
            "204": { description: "Deleted" },
            ...problems(...common, "session_conflict", "session_not_found"),
          },
        },
      },
      "/api/sessions/{session_uuid}/messages": {
        parameters: [sessionPathParameter, sessionHeader],
        get: {
          summary: "Read a session's messages, a page at a time",
          parameters: historyQueryParameters(),
          responses: {
            "200": { description: "One page, in seq order", content: json(ref("HistoryPage")) },
            ...problems(...common, "session_conflict", "session_not_found"),
          },
        },
      },
      "/health": {
        get: {
          summary: "Whether the database answers, and which answer model is in use",
          responses: {
            "200": { description: "The database answers", content: json(ref("Health")) },
            ...problems("database_unavailable", "database_timeout"),
          },
        },
      },
    },
  };
  return document;
}
