/**
 * The OpenAPI 3.1 description of the API, generated from the same zod schemas that validate the
 * requests (src/schemas) and describe the answers (src/schemas/responses.ts, the problem in
 * src/http/problem.ts). Every operation lists each status it can answer with and, on each
 * response, the headers the service sends with it; test/openapi.test.ts checks real responses
 * against this document.
 */
import { z } from "zod";
import { type ProblemCode, problemSchema, problemStatus } from "./http/problem";
import { sessionHeader } from "./middleware/session";
import { adminSearchQuerySchema, adminSessionsQuerySchema, adminStatsQuerySchema } from "./schemas/admin";
import { chatRequestSchema } from "./schemas/chat";
import { exportQuerySchema } from "./schemas/export";
import { feedbackPathSchema, feedbackRequestSchema } from "./schemas/feedback";
import { historyQuerySchema } from "./schemas/history";
import { importRequestSchema, maxImportBodyBytes, maxImportMessages } from "./schemas/import";
import {
  claimRequestSchema,
  claimResponseSchema,
  erasedSchema,
  readerSessionSchema,
  readerSessionsPageSchema,
  readerSessionsQuerySchema,
  renamedSessionSchema,
  renameRequestSchema,
} from "./schemas/readers";
import {
  adminMessageSchema,
  adminSessionSchema,
  adminSessionsPageSchema,
  chatResponseSchema,
  chatStreamEventSchemas,
  citedSourceSchema,
  conversationSchema,
  feedbackSchema,
  healthSchema,
  historyPageSchema,
  messageSchema,
  searchHitSchema,
  searchPageSchema,
  sessionCreatedSchema,
  sessionExportSchema,
  sessionSummarySchema,
  sourceSchema,
  statsBucketSchema,
  statsFiguresSchema,
  statsSchema,
  uiAnswerStartMetadataSchema,
  uiMessageChunkSchemas,
  uiMessageMetadataSchema,
  uiMessagePageSchema,
  uiMessageSchema,
  uiSourceDocumentSchema,
  uiSourceUrlSchema,
} from "./schemas/responses";
import { uiChatRequestSchema } from "./schemas/ui-chat";
import { uuidSchema } from "./schemas/uuid";

type Json = Record<string, unknown>;

const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

/** The named schemas, each converted once, with references between them. */
function componentSchemas(): Record<string, Json> {
  const requests = z.registry<{ id: string }>();
  requests.add(chatRequestSchema, { id: "ChatRequest" });
  requests.add(importRequestSchema, { id: "ImportRequest" });
  requests.add(feedbackRequestSchema, { id: "FeedbackRequest" });
  requests.add(uiChatRequestSchema, { id: "UiChatRequest" });
  requests.add(claimRequestSchema, { id: "ClaimRequest" });
  requests.add(renameRequestSchema, { id: "RenameRequest" });
  const responses = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries({
    Source: sourceSchema,
    Feedback: feedbackSchema,
    Message: messageSchema,
    ChatResponse: chatResponseSchema,
    HistoryPage: historyPageSchema,
    Session: sessionSummarySchema,
    SessionCreated: sessionCreatedSchema,
    SessionExport: sessionExportSchema,
    Health: healthSchema,
    Problem: problemSchema,
    ChatStreamStart: chatStreamEventSchemas.start,
    ChatStreamDelta: chatStreamEventSchemas.delta,
    ChatStreamDone: chatStreamEventSchemas.done,
    AdminSession: adminSessionSchema,
    AdminSessionsPage: adminSessionsPageSchema,
    AdminMessage: adminMessageSchema,
    Conversation: conversationSchema,
    SearchHit: searchHitSchema,
    SearchPage: searchPageSchema,
    StatsFigures: statsFiguresSchema,
    StatsBucket: statsBucketSchema,
    CitedSource: citedSourceSchema,
    Stats: statsSchema,
    UiMessage: uiMessageSchema,
    UiMessageMetadata: uiMessageMetadataSchema,
    UiAnswerStartMetadata: uiAnswerStartMetadataSchema,
    UiMessagePage: uiMessagePageSchema,
    UiSourceUrl: uiSourceUrlSchema,
    UiSourceDocument: uiSourceDocumentSchema,
    UiChunkStart: uiMessageChunkSchemas.start,
    UiChunkTextStart: uiMessageChunkSchemas["text-start"],
    UiChunkTextDelta: uiMessageChunkSchemas["text-delta"],
    UiChunkTextEnd: uiMessageChunkSchemas["text-end"],
    UiChunkFinish: uiMessageChunkSchemas.finish,
    UiChunkError: uiMessageChunkSchemas.error,
    ReaderSession: readerSessionSchema,
    ReaderSessionsPage: readerSessionsPageSchema,
    RenamedSession: renamedSessionSchema,
    ClaimResponse: claimResponseSchema,
    Erased: erasedSchema,
  })) {
    responses.add(schema, { id });
  }
  const convert = (registry: typeof requests, io: "input" | "output") =>
    z.toJSONSchema(registry, { io, unrepresentable: "any", uri: (id) => `#/components/schemas/${id}` }).schemas;
  const schemas = { ...convert(requests, "input"), ...convert(responses, "output") } as Record<string, Json>;
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return {
    ...schemas,
    ChatEventStream: {
      type: "string",
      description:
        "Server-sent events, each `event: <name>` then `data: <JSON>`: one `start` (ChatStreamStart), " +
        "`delta` events (ChatStreamDelta) whose texts joined are the answer, then `done` (ChatStreamDone) " +
        "or `error` (Problem). Pieces are batched: the first at once, then at most one event per 50 ms.",
      "x-events": {
        start: schemaRef("ChatStreamStart"),
        delta: schemaRef("ChatStreamDelta"),
        done: schemaRef("ChatStreamDone"),
        error: schemaRef("Problem"),
      },
      examples: [
        'event: start\ndata: {"session_uuid":"…","user_message":{…}}\n\nevent: delta\ndata: {"text":"The ZMP is"}\n\n' +
          'event: done\ndata: {"bot_message":{…}}\n\n',
      ],
    },
    UiMessageStream: uiMessageStream(),
  };
}

/**
 * The AI SDK's UI message stream (docs/api.md §12.4). Its events have no name: each one's data is
 * a chunk whose `type` says what it is, and the last one's data is `[DONE]`, which is not JSON.
 */
function uiMessageStream(): Json {
  const chunks: Record<string, string> = {
    start: "UiChunkStart",
    "text-start": "UiChunkTextStart",
    "text-delta": "UiChunkTextDelta",
    "text-end": "UiChunkTextEnd",
    "source-url": "UiSourceUrl",
    "source-document": "UiSourceDocument",
    finish: "UiChunkFinish",
    error: "UiChunkError",
  };
  return {
    type: "string",
    description:
      "Server-sent events of the AI SDK's UI message stream protocol (v1), each `data: <JSON chunk>` with no " +
      "event name: `start` (UiChunkStart), then the text as `text-start`, `text-delta`s whose deltas joined are " +
      "the answer (at most one per 50 ms after the first) and `text-end`, a `source-url` (UiSourceUrl) or " +
      "`source-document` (UiSourceDocument) per passage, and `finish` (UiChunkFinish); or, when the answer " +
      "fails, `error` (UiChunkError) after the text sent. The last event's data is `[DONE]`.",
    "x-events": {
      message: {
        oneOf: Object.values(chunks).map(schemaRef),
        discriminator: {
          propertyName: "type",
          mapping: Object.fromEntries(
            Object.entries(chunks).map(([type, name]) => [type, `#/components/schemas/${name}`]),
          ),
        },
      },
    },
    "x-end": "[DONE]",
    examples: [
      'data: {"type":"start","messageId":"answer-1234","messageMetadata":{"session_uuid":"…","new_session":true,' +
        '"user_message":{"id":1234,"seq":1}}}\n\ndata: {"type":"text-start","id":"text"}\n\n' +
        'data: {"type":"text-delta","id":"text","delta":"The ZMP is"}\n\ndata: {"type":"text-end","id":"text"}\n\n' +
        'data: {"type":"finish","finishReason":"stop","messageMetadata":{…}}\n\ndata: [DONE]\n\n',
    ],
  };
}

/** Sent with every response (Hono's secureHeaders), and the request's id. */
const everyResponseHeaders: Record<string, { description: string; example: string }> = {
  "X-Request-Id": {
    description: "The request's id (the client's own if it was safe, docs/api.md §9)",
    example: "4f5c…",
  },
  "X-Content-Type-Options": { description: "Secure header", example: "nosniff" },
  "X-Frame-Options": { description: "Secure header", example: "SAMEORIGIN" },
  "Strict-Transport-Security": { description: "Secure header", example: "max-age=15552000; includeSubDomains" },
  "Referrer-Policy": { description: "Secure header", example: "no-referrer" },
  "Cross-Origin-Resource-Policy": { description: "Secure header", example: "same-origin" },
  "Cross-Origin-Opener-Policy": { description: "Secure header", example: "same-origin" },
  "Origin-Agent-Cluster": { description: "Secure header", example: "?1" },
  "X-DNS-Prefetch-Control": { description: "Secure header", example: "off" },
  "X-Download-Options": { description: "Secure header", example: "noopen" },
  "X-Permitted-Cross-Domain-Policies": { description: "Secure header", example: "none" },
  "X-XSS-Protection": { description: "Secure header", example: "0" },
};

function componentHeaders(): Json {
  const uuid = { type: "string", format: "uuid" };
  return {
    ...Object.fromEntries(
      Object.entries(everyResponseHeaders).map(([name, { description, example }]) => [
        name,
        { description, required: true, schema: { type: "string" }, example },
      ]),
    ),
    "X-Session-Id": { description: "The session this response concerns; it exists", schema: uuid },
    "Retry-After": { description: "Seconds to wait before trying again", required: true, schema: { type: "integer" } },
    Allow: { description: "The methods this path does answer", required: true, schema: { type: "string" } },
    Accept: { description: "The body type this route takes", required: true, schema: { type: "string" } },
    "Accept-Encoding": {
      description: "The content codings this route takes: identity, when the request named another",
      schema: { type: "string", enum: ["identity"] },
    },
    "Content-Disposition": {
      description: "A download, with the file's name: chat-<the session UUID's first 8 characters>-<day>.json or .md",
      required: true,
      schema: { type: "string" },
      example: 'attachment; filename="chat-6f1c1a52-2026-11-25.md"',
    },
    ETag: {
      description: "The version of the pinned swagger-ui-dist package the file comes from",
      required: true,
      schema: { type: "string" },
      example: '"swagger-ui-dist-5.35.0"',
    },
    "X-Vercel-AI-UI-Message-Stream": {
      description: "The AI SDK's UI message stream protocol and its version",
      required: true,
      schema: { type: "string", const: "v1" },
    },
    Location: { description: "Where the resource is", required: true, schema: { type: "string" }, example: "/docs" },
    "WWW-Authenticate": {
      description: 'How to authenticate (RFC 6750): Bearer realm="admin", with error="invalid_token" for a wrong token',
      required: true,
      schema: { type: "string" },
      example: 'Bearer realm="admin", error="invalid_token"',
    },
    "Cache-Control": {
      description:
        "no-store on the admin API's answers once the token is accepted (they hold conversations); " +
        "no-cache on a streamed answer (server-sent events, the UI message stream); " +
        "public, max-age=86400 on the docs page's files",
      schema: { type: "string" },
      example: "no-store",
    },
    "Content-Security-Policy": {
      description:
        "The page's policy: nothing from another origin; its inline script (and style) allowed by hash or by a nonce fresh for each response",
      required: true,
      schema: { type: "string" },
    },
  };
}

/** The headers of a response: those of every response, plus these. */
function headers(...names: string[]): Json {
  return Object.fromEntries(
    [...Object.keys(everyResponseHeaders), ...names].map((name) => [name, headerRef(name)] as const),
  );
}

type ProblemOptions = {
  /** Problems that can come after the session is known to exist carry X-Session-Id. */
  namingSession?: ProblemCode[];
  /** What a problem means on this operation, where the code alone does not say it. */
  meaning?: Partial<Record<ProblemCode, string>>;
  /** The admin API's problems after the token was accepted carry Cache-Control: no-store. */
  admin?: boolean;
};

/** The problem responses an operation can give, grouped by status as OpenAPI wants them. */
function problems(
  codes: ProblemCode[],
  { namingSession = [], meaning = {}, admin = false }: ProblemOptions = {},
): Json {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of codes) byStatus.set(problemStatus[code], [...(byStatus.get(problemStatus[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, grouped]) => {
      const extra = [
        ...(status === 429 || status === 503 ? ["Retry-After"] : []),
        ...(status === 405 ? ["Allow"] : []),
        ...(status === 415 ? ["Accept", "Accept-Encoding"] : []),
        ...(status === 401 ? ["WWW-Authenticate"] : []),
        ...(admin && status !== 401 && status !== 429 ? ["Cache-Control"] : []),
        ...(grouped.some((code) => namingSession.includes(code)) ? [sessionHeader] : []),
      ];
      return [
        String(status),
        {
          description: `Problem: ${grouped.map((code) => (meaning[code] ? `${code} (${meaning[code]})` : code)).join(", ")}`,
          headers: headers(...extra),
          content: { "application/problem+json": { schema: schemaRef("Problem") } },
        },
      ];
    }),
  );
}

const json = (schema: Json) => ({ "application/json": { schema } });

function uuidParameter(name: string, location: "path" | "header", description: string): Json {
  const { $schema: _, ...schema } = z.toJSONSchema(uuidSchema, { io: "input" }) as Json;
  return {
    name,
    in: location,
    required: location === "path",
    description,
    // No example: Swagger UI's "Try it out" sends what is pre-filled, and a made-up UUID names no
    // session, so it would answer 404. Empty, the header is left out and the path asks to be filled.
    schema: { ...schema, format: "uuid" },
  };
}

/** The query parameters of a zod schema, each described by its own `.describe()`. */
function queryParameters(schema: z.ZodType, required: string[] = []): Json[] {
  const { properties } = z.toJSONSchema(schema, { io: "input" }) as { properties: Record<string, Json> };
  return Object.entries(properties).map(([name, { description, ...rules }]) => ({
    name,
    in: "query",
    required: required.includes(name),
    description,
    schema: rules,
  }));
}

function historyQueryParameters(): Json[] {
  const { properties } = z.toJSONSchema(historyQuerySchema, { io: "input" }) as { properties: Record<string, Json> };
  const described: Record<string, string> = {
    limit: "How many messages at most, 1 to 1000; a page also stops before 1 MiB (docs/api.md §5)",
    order: "asc (oldest first) or desc (newest first)",
    cursor: "next_cursor of the previous page, unchanged; bound to its order",
  };
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    in: "query",
    required: false,
    description: described[name],
    schema,
  }));
}

// The problems every API route can answer with: its own bug, the database's troubles.
const serverSide = ["internal_error", "database_unavailable", "database_timeout"] as const satisfies ProblemCode[];
/** Every public /api route reads a reader's token, when it carries one (docs/api.md §17.1). */
const tokenSide = ["invalid_token", "auth_unavailable"] as const satisfies ProblemCode[];
const naming = ["validation_error", "session_conflict", "session_not_found"] as const satisfies ProblemCode[];
// Every admin operation: switched off (404), no or a wrong token, over the limit, bad parameters.
const adminGate = [
  "validation_error",
  "unauthorized",
  "not_found",
  "method_not_allowed",
  "rate_limited",
  ...serverSide,
] as const satisfies ProblemCode[];

let document: Json | undefined;

export function openApiDocument(): Json {
  document ??= buildDocument();
  return document;
}

function buildDocument(): Json {
  const sessionPath = uuidParameter("session_uuid", "path", "The session's UUID, in any letter case");
  const sessionHeaderParameter = uuidParameter(
    sessionHeader,
    "header",
    "The session UUID; must agree with the one in the path or body (an empty header means none)",
  );
  const operation = (fields: Json) => ({ security: [], ...fields });
  const adminOperation = (fields: Json) => ({ ...fields, tags: ["admin"], security: [{ adminToken: [] }] });
  const readerOperation = (fields: Json) => ({ ...fields, tags: ["readers"], security: [{ readerToken: [] }] });
  const readerProblems = ["unauthorized", "method_not_allowed", "rate_limited", ...tokenSide, ...serverSide] as const;
  const messageIdPath = {
    name: "message_id",
    in: "path",
    required: true,
    description: "The answer's id, as the history shows it",
    schema: (z.toJSONSchema(feedbackPathSchema, { io: "input" }) as { properties: Record<string, Json> }).properties
      .message_id,
  };
  const adminJson = (description: string, schema: string) => ({
    description,
    headers: headers("Cache-Control"),
    content: json(schemaRef(schema)),
  });
  return {
    openapi: "3.1.0",
    info: {
      title: "Humanoid Robotics Book — chat history",
      version: "1.0.0",
      description:
        "Conversations of the book's Q&A chatbot: ask questions, read the history. Every error is an " +
        "RFC 9457 problem (application/problem+json) with a stable `code`. The contract in prose is " +
        "docs/api.md in the repository. CORS headers are sent to the origins the service is configured for.",
      license: { name: "UNLICENSED", identifier: "UNLICENSED" },
    },
    servers: [{ url: "/", description: "This service" }],
    security: [],
    tags: [
      { name: "chat", description: "Asking the chatbot" },
      { name: "sessions", description: "Conversations and their history" },
      { name: "operations", description: "Health and this description" },
      {
        name: "readers",
        description:
          "A signed-in reader's own conversations, on every device (docs/api.md §17). Needs the reader's token " +
          "from the book's sign-in as a bearer token; 401 without one.",
      },
      {
        name: "admin",
        description:
          "For the book's operators: every conversation, search, statistics. Exists only while the secret " +
          "ADMIN_TOKEN is set (404 otherwise); needs it as a bearer token; no CORS.",
      },
    ],
    components: {
      schemas: componentSchemas(),
      headers: componentHeaders(),
      securitySchemes: {
        readerToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "A JWT the book's sign-in issued (e.g. Better Auth's JWT plugin), verified against AUTH_JWKS_URL, " +
            "AUTH_ISSUER and AUTH_AUDIENCE. Optional on every other public route: with it, new sessions are the reader's.",
        },
        adminToken: {
          type: "http",
          scheme: "bearer",
          description: "The service's ADMIN_TOKEN secret. It grants read access to every conversation.",
        },
      },
    },
    paths: {
      "/api/chat": {
        post: operation({
          operationId: "askChatbot",
          tags: ["chat"],
          summary: "Ask the chatbot",
          description:
            "Stores the question, answers it and stores the answer (docs/api.md §4). Without a session " +
            'UUID a new session is issued. With `"stream": true`, or an `Accept` that ranks ' +
            "`text/event-stream` above `application/json`, the answer comes as server-sent events.",
          parameters: [sessionHeaderParameter],
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: schemaRef("ChatRequest"),
                // Without one, Swagger UI would make up a session_uuid, which names no session (404).
                examples: {
                  newSession: {
                    summary: "A first question: starts a session",
                    value: { question: "What is the zero moment point?" },
                  },
                  streamed: {
                    summary: "The answer as server-sent events",
                    value: { question: "How does inverse kinematics place a foot?", stream: true },
                  },
                },
              },
            },
          },
          responses: {
            "200": {
              description: "The turn, stored; or its events as they happen",
              headers: headers(sessionHeader, "Cache-Control"),
              content: {
                ...json(schemaRef("ChatResponse")),
                "text/event-stream": { schema: schemaRef("ChatEventStream") },
              },
            },
            ...problems(
              [
                "invalid_json",
                ...naming,
                "method_not_allowed",
                "idempotency_conflict",
                "payload_too_large",
                "unsupported_media_type",
                "rate_limited",
                ...tokenSide,
                ...serverSide,
                "answer_failed",
                "answer_unavailable",
                "answer_timeout",
              ],
              { namingSession: ["answer_failed", "answer_timeout", ...tokenSide, ...serverSide] },
            ),
          },
        }),
      },
      "/api/ui/chat": {
        post: operation({
          operationId: "chatWithUseChat",
          tags: ["chat"],
          summary: "Ask the chatbot from the AI SDK's useChat",
          description:
            "A turn of POST /api/chat, taking the body of the AI SDK's DefaultChatTransport (or its last message " +
            "only) and answering as the SDK's UI message stream (docs/api.md §12). The chat's `id` is the session " +
            "UUID; an absent or unknown one starts a session, which the `start` chunk names.",
          parameters: [sessionHeaderParameter],
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: schemaRef("UiChatRequest"),
                examples: {
                  lastMessageOnly: {
                    summary: "The question alone: starts a session",
                    value: {
                      message: {
                        id: "msg-1",
                        role: "user",
                        parts: [{ type: "text", text: "What is the zero moment point?" }],
                      },
                    },
                  },
                },
              },
            },
          },
          responses: {
            "200": {
              description: "The answer's chunks as they happen",
              headers: headers(sessionHeader, "X-Vercel-AI-UI-Message-Stream", "Cache-Control"),
              content: { "text/event-stream": { schema: schemaRef("UiMessageStream") } },
            },
            ...problems([
              "invalid_json",
              "validation_error",
              "session_conflict",
              "method_not_allowed",
              "idempotency_conflict",
              "payload_too_large",
              "unsupported_media_type",
              "rate_limited",
              ...tokenSide,
              ...serverSide,
              "answer_unavailable",
            ]),
          },
        }),
      },
      "/api/ui/chat/{session_uuid}/messages": {
        parameters: [sessionPath, sessionHeaderParameter],
        get: operation({
          operationId: "listUiMessages",
          tags: ["sessions"],
          summary: "Read a session's messages as the AI SDK's UI messages, a page at a time",
          description: "The history (docs/api.md §5) in the form useChat restores a conversation from (§12.5).",
          parameters: historyQueryParameters(),
          responses: {
            "200": {
              description: "One page, in seq order",
              headers: headers(sessionHeader),
              content: json(schemaRef("UiMessagePage")),
            },
            ...problems([...naming, "method_not_allowed", "rate_limited", ...tokenSide, ...serverSide]),
          },
        }),
      },
      "/api/sessions": {
        post: operation({
          operationId: "createSession",
          tags: ["sessions"],
          summary: "Create an empty session",
          description: "Takes no body, or a JSON body whose content is ignored (docs/api.md §6).",
          responses: {
            "201": {
              description: "Created",
              headers: headers(sessionHeader),
              content: json(schemaRef("SessionCreated")),
            },
            ...problems([
              "invalid_json",
              "method_not_allowed",
              "payload_too_large",
              "unsupported_media_type",
              "rate_limited",
              ...tokenSide,
              ...serverSide,
            ]),
          },
        }),
      },
      "/api/sessions/import": {
        post: operation({
          operationId: "importSession",
          tags: ["sessions"],
          summary: "Import a browser transcript as a new session",
          description:
            "Stores the whole transcript as a new session in one statement, or nothing (docs/api.md §15). " +
            "Idempotent by `import_id`: a retry, even a concurrent one, gets the same session; the same " +
            "`import_id` with another transcript is 409. Each answer (`bot`) is stored as the answer to " +
            "the nearest question before it that has none yet; a bot message with no such question is refused. " +
            "An answer's `feedback`, as an export writes it, is kept, with the time it was given.\n\n" +
            "Converting a `localStorage` array (docs/api.md §15.5 has the whole function):\n\n" +
            "```js\n" +
            'const stored = JSON.parse(localStorage.getItem("chat") ?? "[]");\n' +
            "const messages = stored.map((m) => ({\n" +
            "  sender: m.sender, message: m.message,\n" +
            "  timestamp: m.timestamp ? new Date(m.timestamp).toISOString() : undefined,\n" +
            '  sources: m.sender === "bot" ? m.sources ?? [] : undefined,\n' +
            "}));\n" +
            "// One import_id per conversation, kept until the import succeeded, so retries are safe.\n" +
            'const import_id = localStorage.getItem("chat:import_id") ?? crypto.randomUUID();\n' +
            'localStorage.setItem("chat:import_id", import_id);\n' +
            'await fetch("/api/sessions/import", { method: "POST", headers: { "Content-Type": "application/json" },\n' +
            "  body: JSON.stringify({ import_id, messages }) });\n" +
            "```",
          requestBody: {
            required: true,
            description: `At most ${maxImportMessages} messages and ${maxImportBodyBytes} bytes (1 MiB)`,
            content: {
              "application/json": {
                schema: schemaRef("ImportRequest"),
                examples: {
                  localStorage: {
                    summary: "Two messages converted from localStorage",
                    value: {
                      import_id: "0b5c1d2e-6a77-4f0e-9a51-6d1f3c2b9e10",
                      messages: [
                        { sender: "user", message: "What is a ZMP?", timestamp: "2026-10-01T09:00:00.000Z" },
                        {
                          sender: "bot",
                          message: "The zero moment point is where the ground reaction force acts.",
                          timestamp: "2026-10-01T09:00:02.500Z",
                          sources: [
                            {
                              title: "Chapter 4: Balance",
                              url: "https://book.example/ch4",
                              snippet: "The ZMP is the point on the ground…",
                              score: 0.82,
                            },
                          ],
                        },
                      ],
                    },
                  },
                },
              },
            },
          },
          responses: {
            "201": {
              description: "The session holding the transcript (also for a retry)",
              headers: headers(sessionHeader),
              content: json(schemaRef("Session")),
            },
            ...problems(
              [
                "invalid_json",
                "validation_error",
                "method_not_allowed",
                "idempotency_conflict",
                "payload_too_large",
                "unsupported_media_type",
                "rate_limited",
                ...tokenSide,
                ...serverSide,
              ],
              {
                meaning: {
                  validation_error: "`errors[].path` names the index of the message, e.g. messages.3.timestamp",
                  idempotency_conflict: "import_id was used for another transcript",
                  payload_too_large: `the body is over ${maxImportBodyBytes} bytes`,
                },
              },
            ),
          },
        }),
      },
      "/api/sessions/{session_uuid}": {
        parameters: [sessionPath, sessionHeaderParameter],
        get: operation({
          operationId: "getSession",
          tags: ["sessions"],
          summary: "Read a session",
          responses: {
            "200": { description: "The session", headers: headers(sessionHeader), content: json(schemaRef("Session")) },
            ...problems([...naming, "method_not_allowed", "rate_limited", ...tokenSide, ...serverSide]),
          },
        }),
        patch: operation({
          operationId: "renameSession",
          tags: ["sessions"],
          summary: "Give the session a title of the reader's, or take it back",
          description:
            "A renamed title is never overwritten; `null` gives the session back its default title, its first " +
            "question's first words (docs/api.md §17).",
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: schemaRef("RenameRequest"),
                examples: { rename: { summary: "A title of the reader's", value: { title: "Balance and the ZMP" } } },
              },
            },
          },
          responses: {
            "200": {
              description: "The session, with its title",
              headers: headers(sessionHeader),
              content: json(schemaRef("RenamedSession")),
            },
            ...problems([
              "invalid_json",
              ...naming,
              "method_not_allowed",
              "payload_too_large",
              "unsupported_media_type",
              "rate_limited",
              ...tokenSide,
              ...serverSide,
            ]),
          },
        }),
        delete: operation({
          operationId: "deleteSession",
          tags: ["sessions"],
          summary: "Delete a session and all its messages",
          responses: {
            "204": { description: "Deleted", headers: headers() },
            ...problems([...naming, "method_not_allowed", "rate_limited", ...tokenSide, ...serverSide]),
          },
        }),
      },
      "/api/sessions/{session_uuid}/messages": {
        parameters: [sessionPath, sessionHeaderParameter],
        get: operation({
          operationId: "listMessages",
          tags: ["sessions"],
          summary: "Read a session's messages, a page at a time",
          parameters: historyQueryParameters(),
          responses: {
            "200": {
              description: "One page, in seq order",
              headers: headers(sessionHeader),
              content: json(schemaRef("HistoryPage")),
            },
            ...problems([...naming, "method_not_allowed", "rate_limited", ...tokenSide, ...serverSide]),
          },
        }),
      },
      "/api/sessions/{session_uuid}/export": {
        parameters: [sessionPath, sessionHeaderParameter],
        get: operation({
          operationId: "exportSession",
          tags: ["sessions"],
          summary: "Download the whole conversation, with each answer's sources",
          description:
            "Streamed a page at a time (docs/api.md §16): the messages the session held when the export began. " +
            "A failure after the download began (the session deleted meanwhile, the database) breaks the " +
            "download rather than ending it early. The JSON form's `messages` can be imported back as they are, " +
            "readers' feedback included. The Markdown form shows every stored text as the characters it holds, " +
            "backslash-escaped, never as Markdown or HTML, and each answer's feedback under it.",
          parameters: queryParameters(exportQuerySchema),
          responses: {
            "200": {
              description: "The conversation, as an attachment",
              headers: headers(sessionHeader, "Content-Disposition"),
              content: {
                ...json(schemaRef("SessionExport")),
                "text/markdown": {
                  schema: { type: "string" },
                  example:
                    "# What is a ZMP?\n\n- Session: `6f1c1a52` (the first characters of its id)\n" +
                    "- First message: 2026-10-01 09:00:00 UTC\n- Session created: 2026-10-01 09:00:00 UTC\n" +
                    "- Last activity: 2026-10-01 09:00:02 UTC\n- Messages: 2\n" +
                    "- Exported: 2026-11-25 10:00:00 UTC\n\n---\n\n### Question 1 · 2026-10-01 09:00:00 UTC\n\n" +
                    "> What is a ZMP?\n\n### Answer · 2026-10-01 09:00:02 UTC\n\nThe zero moment point is…\n\n" +
                    "**Sources**\n\n1. [Chapter 4: Balance](<https://book.example/ch4>) — The ZMP is…\n\n" +
                    "**Feedback:** rated up · 2026-10-01 09:01:00 UTC\n\n> Clear, thanks\n\n---\n",
                },
              },
            },
            ...problems([...naming, "method_not_allowed", "rate_limited", ...tokenSide, ...serverSide]),
          },
        }),
      },
      "/api/sessions/{session_uuid}/messages/{message_id}/feedback": {
        parameters: [sessionPath, messageIdPath, sessionHeaderParameter],
        put: operation({
          operationId: "giveFeedback",
          tags: ["sessions"],
          summary: "Rate an answer up or down, with a comment; replaces earlier feedback",
          description: "Only the chatbot's answers of this session take feedback (docs/api.md §6.1).",
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: schemaRef("FeedbackRequest"),
                examples: { up: { summary: "A helpful answer", value: { rating: "up", comment: "Clear, thanks" } } },
              },
            },
          },
          responses: {
            "200": {
              description: "The answer, with its feedback",
              headers: headers(sessionHeader),
              content: json(schemaRef("Message")),
            },
            ...problems([
              "invalid_json",
              ...naming,
              "message_not_found",
              "method_not_allowed",
              "not_an_answer",
              "payload_too_large",
              "unsupported_media_type",
              "rate_limited",
              ...tokenSide,
              ...serverSide,
            ]),
          },
        }),
        delete: operation({
          operationId: "takeBackFeedback",
          tags: ["sessions"],
          summary: "Take back the feedback on an answer",
          description: "204 also when the answer has no feedback (docs/api.md §6.1).",
          responses: {
            "204": { description: "The answer has no feedback", headers: headers(sessionHeader) },
            ...problems([
              ...naming,
              "message_not_found",
              "method_not_allowed",
              "not_an_answer",
              "rate_limited",
              ...tokenSide,
              ...serverSide,
            ]),
          },
        }),
      },
      "/api/me/sessions": {
        get: readerOperation({
          operationId: "listMySessions",
          summary: "The reader's conversations, newest activity first, a page at a time",
          parameters: queryParameters(readerSessionsQuerySchema),
          responses: {
            "200": { description: "One page", headers: headers(), content: json(schemaRef("ReaderSessionsPage")) },
            ...problems(["validation_error", ...readerProblems]),
          },
        }),
      },
      "/api/me/sessions/claim": {
        post: readerOperation({
          operationId: "claimSessions",
          summary: "Make the browser's anonymous sessions the reader's, at sign-in",
          description:
            "Each anonymous live session among `session_uuids` becomes the reader's, all in one statement. " +
            "Idempotent. Unknown, expired and other readers' sessions are left alone and reported alike.",
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: schemaRef("ClaimRequest"),
                examples: {
                  unknown: {
                    summary: "A session this database does not hold: reported under not_found",
                    value: { session_uuids: ["00000000-0000-4000-8000-000000000000"] },
                  },
                },
              },
            },
          },
          responses: {
            "200": { description: "What was claimed", headers: headers(), content: json(schemaRef("ClaimResponse")) },
            ...problems([
              "invalid_json",
              "validation_error",
              "payload_too_large",
              "unsupported_media_type",
              ...readerProblems,
            ]),
          },
        }),
      },
      "/api/me/export": {
        get: readerOperation({
          operationId: "exportMySessions",
          summary: "Download all of the reader's conversations",
          description:
            "One JSON document, `{exported_at, sessions: [...]}`, each session in the form of its own JSON export " +
            "(docs/api.md §16), streamed.",
          responses: {
            "200": {
              description: "Every live session of the reader, as an attachment",
              headers: headers("Content-Disposition"),
              content: { "application/json": { schema: { type: "object" } } },
            },
            ...problems([...readerProblems]),
          },
        }),
      },
      "/api/me": {
        delete: readerOperation({
          operationId: "eraseMe",
          summary: "Erase every conversation of the reader, for good",
          responses: {
            "200": { description: "Erased", headers: headers(), content: json(schemaRef("Erased")) },
            ...problems([...readerProblems]),
          },
        }),
      },
      "/api/admin/sessions": {
        get: adminOperation({
          operationId: "listAdminSessions",
          summary: "Sessions, newest activity first, with their counts and reader; filtered, a page at a time",
          parameters: queryParameters(adminSessionsQuerySchema),
          responses: {
            "200": adminJson("One page of sessions", "AdminSessionsPage"),
            ...problems([...adminGate], { admin: true }),
          },
        }),
      },
      "/api/admin/sessions/{session_uuid}": {
        parameters: [sessionPath],
        get: adminOperation({
          operationId: "readConversation",
          summary: "A whole conversation, every message with its metadata, a page at a time",
          parameters: historyQueryParameters(),
          responses: {
            "200": adminJson("The session and one page of its messages, in seq order", "Conversation"),
            ...problems([...adminGate, "session_not_found"], { admin: true }),
          },
        }),
      },
      "/api/admin/search": {
        get: adminOperation({
          operationId: "searchMessages",
          summary: "Full-text search of every message, newest first, with highlighted snippets",
          parameters: queryParameters(adminSearchQuerySchema, ["q"]),
          responses: {
            "200": adminJson("One page of hits", "SearchPage"),
            ...problems([...adminGate], { admin: true }),
          },
        }),
      },
      "/api/admin/stats": {
        get: adminOperation({
          operationId: "readStats",
          summary:
            "Sessions, questions, signed-in readers, answers, failures, latency, tokens and ratings per UTC day or hour",
          parameters: queryParameters(adminStatsQuerySchema),
          responses: {
            "200": adminJson("The range's figures, per bucket and in all, and its most cited sources", "Stats"),
            ...problems([...adminGate], { admin: true }),
          },
        }),
      },
      "/admin": {
        get: operation({
          operationId: "getAdminPage",
          tags: ["admin"],
          summary: "The operators' page: it asks for the admin token and reads the admin API with it",
          description: "Exists only while ADMIN_TOKEN is set. The page itself holds no data.",
          responses: {
            "200": {
              description: "An HTML page",
              headers: headers("Content-Security-Policy"),
              content: { "text/html": { schema: { type: "string" } } },
            },
            ...problems(["not_found", "method_not_allowed", "internal_error"]),
          },
        }),
      },
      "/": {
        get: operation({
          operationId: "getRoot",
          tags: ["operations"],
          summary: "Sends a browser to the interactive reference, /docs",
          responses: {
            "302": { description: "The reference is at /docs", headers: headers("Location") },
            ...problems(["method_not_allowed", "internal_error"]),
          },
        }),
      },
      "/health": {
        get: operation({
          operationId: "getHealth",
          tags: ["operations"],
          summary: "Whether the database answers, which answer model is in use, and which settings were refused",
          responses: {
            "200": { description: "The database answers", headers: headers(), content: json(schemaRef("Health")) },
            ...problems(["method_not_allowed", "internal_error", "database_unavailable"]),
          },
        }),
      },
      "/openapi.json": {
        get: operation({
          operationId: "getOpenApiDocument",
          tags: ["operations"],
          summary: "This description",
          responses: {
            "200": {
              description: "OpenAPI 3.1",
              headers: headers(),
              content: json({ type: "object", description: "An OpenAPI 3.1 document" }),
            },
            ...problems(["method_not_allowed", "internal_error"]),
          },
        }),
      },
      "/docs": {
        get: operation({
          operationId: "getDocsPage",
          tags: ["operations"],
          summary: "An interactive reference of this description",
          responses: {
            "200": {
              description: "An HTML page",
              headers: headers("Content-Security-Policy"),
              content: { "text/html": { schema: { type: "string" } } },
            },
            ...problems(["method_not_allowed", "internal_error"]),
          },
        }),
      },
      "/docs/swagger-ui/{file}": {
        get: operation({
          operationId: "getDocsPageFile",
          tags: ["operations"],
          summary: "A file of the interactive reference: Swagger UI's script, styles or icon",
          parameters: [
            {
              name: "file",
              in: "path",
              required: true,
              description: "The file's name",
              schema: { type: "string", enum: ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"] },
            },
          ],
          responses: {
            "200": {
              description: "The file, from the pinned swagger-ui-dist package",
              headers: headers("Cache-Control", "ETag"),
              content: {
                "text/javascript": { schema: { type: "string" } },
                "text/css": { schema: { type: "string" } },
                "image/png": { schema: { type: "string", contentMediaType: "image/png" } },
              },
            },
            "304": {
              description: "The file has not changed since the version named in If-None-Match",
              headers: headers("Cache-Control", "ETag"),
            },
            ...problems(["not_found", "method_not_allowed", "internal_error"]),
          },
        }),
      },
    },
  };
}
