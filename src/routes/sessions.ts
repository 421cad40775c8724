import { type Context, Hono } from "hono";
import type { AppEnv } from "../context";
import { renameSession } from "../db/readers";
import type { ChatMessage } from "../db/schema";
import { createSession, deleteSession, type FeedbackInput, findSession, writeFeedback } from "../db/sessions";
import { toApiError } from "../http/error-handler";
import { messageNotFound, notAnAnswer, sessionNotFound } from "../http/problem";
import { logStreamFailure } from "../http/request-log";
import { exportFileName, exportMediaTypes, exportStream } from "../lifecycle/export";
import { importTranscript } from "../lifecycle/import";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import {
  nameSession,
  session,
  sessionAccess,
  sessionHeader,
  sessionPath as sessionPathValidator,
} from "../middleware/session";
import { validate } from "../middleware/validate";
import { describeRoute, documented } from "../openapi/declarations";
import { headers } from "../openapi/headers";
import { messageIdPathParameter, sessionPathParameter } from "../openapi/parameters";
import { json, schemaRef } from "../openapi/schemas";
import { exportQuerySchema } from "../schemas/export";
import { feedbackPathSchema, feedbackRequestSchema } from "../schemas/feedback";
import { historyQuerySchema } from "../schemas/history";
import { importRequestSchema, maxImportBodyBytes, maxImportMessages } from "../schemas/import";
import { renameRequestSchema } from "../schemas/readers";
import { toMessage, toSessionSummary } from "../schemas/responses";
import { readHistoryPage } from "./history-page";

const sessionPath = sessionPathValidator();
const feedbackPath = documented(validate("param", feedbackPathSchema), () => ({
  pathParameters: [sessionPathParameter(), messageIdPathParameter()],
}));

const createSessionDoc = describeRoute(() => ({
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
  },
}));

const importSessionDoc = describeRoute(() => ({
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
  },
  problems: ["idempotency_conflict"],
  meaning: {
    validation_error: "`errors[].path` names the index of the message, e.g. messages.3.timestamp",
    idempotency_conflict: "import_id was used for another transcript",
    payload_too_large: `the body is over ${maxImportBodyBytes} bytes`,
  },
}));

const getSessionDoc = describeRoute(() => ({
  operationId: "getSession",
  tags: ["sessions"],
  summary: "Read a session",
  responses: {
    "200": { description: "The session", headers: headers(sessionHeader), content: json(schemaRef("Session")) },
  },
}));

const renameSessionDoc = describeRoute(() => ({
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
  },
}));

const deleteSessionDoc = describeRoute(() => ({
  operationId: "deleteSession",
  tags: ["sessions"],
  summary: "Delete a session and all its messages",
  responses: {
    "204": { description: "Deleted", headers: headers() },
  },
}));

const listMessagesDoc = describeRoute(() => ({
  operationId: "listMessages",
  tags: ["sessions"],
  summary: "Read a session's messages, a page at a time",
  responses: {
    "200": {
      description: "One page, in seq order",
      headers: headers(sessionHeader),
      content: json(schemaRef("HistoryPage")),
    },
  },
}));

const exportSessionDoc = describeRoute(() => ({
  operationId: "exportSession",
  tags: ["sessions"],
  summary: "Download the whole conversation, with each answer's sources",
  description:
    "Streamed a page at a time (docs/api.md §16): the messages the session held when the export began. " +
    "A failure after the download began (the session deleted meanwhile, the database) breaks the " +
    "download rather than ending it early. The JSON form's `messages` can be imported back as they are, " +
    "readers' feedback included. The Markdown form shows every stored text as the characters it holds, " +
    "backslash-escaped, never as Markdown or HTML, and each answer's feedback under it.",
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
  },
}));

const giveFeedbackDoc = describeRoute(() => ({
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
  },
  problems: ["message_not_found", "not_an_answer"],
}));

const takeBackFeedbackDoc = describeRoute(() => ({
  operationId: "takeBackFeedback",
  tags: ["sessions"],
  summary: "Take back the feedback on an answer",
  description: "204 also when the answer has no feedback (docs/api.md §6.1).",
  responses: {
    "204": { description: "The answer has no feedback", headers: headers(sessionHeader) },
  },
  problems: ["message_not_found", "not_an_answer"],
}));

export const sessionRoutes = new Hono<AppEnv>()
  .post("/", createSessionDoc, rateLimit("SESSION_RATE_LIMITER"), jsonBody({ optional: true }), async (c) => {
    const created = await createSession(c.var.db, crypto.randomUUID(), c.get("reader") ?? null);
    const { session_uuid, created_at } = toSessionSummary(created);
    nameSession(c, session_uuid);
    return c.json({ session_uuid, created_at }, 201);
  })
  .post(
    "/import",
    importSessionDoc,
    rateLimit("IMPORT_RATE_LIMITER"),
    jsonBody({ maxBytes: maxImportBodyBytes }),
    validate("json", importRequestSchema),
    async (c) => {
      const imported = await importTranscript(c.var.db, c.req.valid("json"), sessionAccess(c));
      nameSession(c, imported.sessionUuid);
      return c.json(toSessionSummary(imported), 201);
    },
  )
  .get(
    "/:session_uuid",
    getSessionDoc,
    rateLimit("READ_RATE_LIMITER"),
    sessionPath,
    session({ issue: false }),
    async (c) => {
      const found = await findSession(c.var.db, c.get("session").uuid, sessionAccess(c));
      if (!found) throw sessionNotFound();
      nameSession(c, found.sessionUuid);
      return c.json(toSessionSummary(found), 200);
    },
  )
  .patch(
    "/:session_uuid",
    renameSessionDoc,
    rateLimit("SESSION_RATE_LIMITER"),
    sessionPath,
    jsonBody(),
    validate("json", renameRequestSchema),
    session({ issue: false }),
    async (c) => {
      const { title } = c.req.valid("json");
      const renamed = await renameSession(c.var.db, c.get("session").uuid, title, sessionAccess(c));
      if (!renamed) throw sessionNotFound();
      nameSession(c, renamed.sessionUuid);
      return c.json({ ...toSessionSummary(renamed), title: renamed.title }, 200);
    },
  )
  .delete(
    "/:session_uuid",
    deleteSessionDoc,
    rateLimit("SESSION_RATE_LIMITER"),
    sessionPath,
    session({ issue: false }),
    async (c) => {
      // An expired session is erased too, but it was already gone for the client: 404, as for any
      // other request about it.
      const deleted = await deleteSession(c.var.db, c.get("session").uuid, sessionAccess(c));
      if (deleted !== "live") throw sessionNotFound();
      return c.body(null, 204);
    },
  )
  .get(
    "/:session_uuid/messages",
    listMessagesDoc,
    rateLimit("READ_RATE_LIMITER"),
    sessionPath,
    validate("query", historyQuerySchema),
    session({ issue: false }),
    async (c) => {
      const page = await readHistoryPage(c, c.req.valid("query"));
      return c.json(
        { session_uuid: page.sessionUuid, messages: page.rows.map(toMessage), next_cursor: page.nextCursor },
        200,
      );
    },
  )
  .get(
    "/:session_uuid/export",
    exportSessionDoc,
    rateLimit("READ_RATE_LIMITER"),
    sessionPath,
    validate("query", exportQuerySchema),
    session({ issue: false }),
    async (c) => {
      const startedAt = Date.now();
      const access = sessionAccess(c);
      const found = await findSession(c.var.db, c.get("session").uuid, access);
      if (!found) throw sessionNotFound();
      nameSession(c, found.sessionUuid);
      const { format } = c.req.valid("query");
      const request = { db: c.var.db, session: found, format, access, exportedAt: new Date() };
      const body = exportStream(request, (error) => logStreamFailure(c, toApiError(error), startedAt));
      return c.body(body, 200, {
        "Content-Type": exportMediaTypes[format],
        "Content-Disposition": `attachment; filename="${exportFileName(request)}"`,
      });
    },
  )
  .put(
    "/:session_uuid/messages/:message_id/feedback",
    giveFeedbackDoc,
    rateLimit("FEEDBACK_RATE_LIMITER"),
    feedbackPath,
    jsonBody(),
    validate("json", feedbackRequestSchema),
    session({ issue: false }),
    async (c) => {
      const { rating, comment } = c.req.valid("json");
      const rated = await giveFeedback(c, c.req.valid("param").message_id, { rating, comment: comment ?? null });
      return c.json(toMessage(rated), 200);
    },
  )
  .delete(
    "/:session_uuid/messages/:message_id/feedback",
    takeBackFeedbackDoc,
    rateLimit("FEEDBACK_RATE_LIMITER"),
    feedbackPath,
    session({ issue: false }),
    async (c) => {
      await giveFeedback(c, c.req.valid("param").message_id, null);
      return c.body(null, 204);
    },
  );

/** Writes (or with null takes back) the feedback on an answer of the request's session. */
async function giveFeedback(
  c: Context<AppEnv>,
  messageId: number,
  feedback: FeedbackInput["feedback"],
): Promise<ChatMessage> {
  const sessionUuid = c.get("session").uuid;
  const written = await writeFeedback(c.var.db, { sessionUuid, messageId, feedback, access: sessionAccess(c) });
  if (!written) throw sessionNotFound();
  if (written.sender === "user") throw notAnAnswer();
  if (!written.message) throw messageNotFound();
  nameSession(c, sessionUuid);
  return written.message;
}
