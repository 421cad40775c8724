/**
 * The endpoints of the AI SDK's `useChat` (docs/api.md §12): a turn answered as a UI message
 * stream, and the history as UI messages. The turn is POST /api/chat's (chat/turn.ts,
 * chat/answer-stream.ts): the same storing, idempotency, ordering and durability; only the
 * framing is the SDK's, written by its own stream helpers.
 */
import { createUIMessageStream, createUIMessageStreamResponse } from "ai";
import { type Context, Hono } from "hono";
import { streamAnswer } from "../chat/answer-stream";
import { startTurn, type Turn } from "../chat/turn";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import { toApiError } from "../http/error-handler";
import { type ApiError, toProblem } from "../http/problem";
import { logStreamFailure } from "../http/request-log";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { nameSession, session, sessionAccess, sessionHeader, sessionPath } from "../middleware/session";
import { validate } from "../middleware/validate";
import { describeRoute } from "../openapi/declarations";
import { headers } from "../openapi/headers";
import { json, schemaRef } from "../openapi/schemas";
import { historyQuerySchema } from "../schemas/history";
import {
  toUiMessage,
  toUiMetadata,
  toUiSources,
  type UiMessage,
  type UiMessageChunk,
  uiAnswerId,
} from "../schemas/responses";
import { maxUiChatBodyBytes, type UiChatRequest, uiChatRequestSchema } from "../schemas/ui-chat";
import { readHistoryPage } from "./history-page";

const chatWithUseChatDoc = describeRoute(() => ({
  operationId: "chatWithUseChat",
  tags: ["chat"],
  summary: "Ask the chatbot from the AI SDK's useChat",
  description:
    "A turn of POST /api/chat, taking the body of the AI SDK's DefaultChatTransport (or its last message " +
    "only) and answering as the SDK's UI message stream (docs/api.md §12). The chat's `id` is the session " +
    "UUID; an absent or unknown one starts a session, which the `start` chunk names.",
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
  },
  problems: ["idempotency_conflict", "answer_unavailable"],
}));

const listUiMessagesDoc = describeRoute(() => ({
  operationId: "listUiMessages",
  tags: ["sessions"],
  summary: "Read a session's messages as the AI SDK's UI messages, a page at a time",
  description: "The history (docs/api.md §5) in the form useChat restores a conversation from (§12.5).",
  responses: {
    "200": {
      description: "One page, in seq order",
      headers: headers(sessionHeader),
      content: json(schemaRef("UiMessagePage")),
    },
  },
}));

export const uiChatRoutes = new Hono<AppEnv>()
  .post(
    "/",
    chatWithUseChatDoc,
    rateLimit("CHAT_RATE_LIMITER"),
    jsonBody({ maxBytes: maxUiChatBodyBytes }),
    validate("json", uiChatRequestSchema),
    session({ issue: true }),
    async (c) => {
      const turn = await startUiTurn(c, c.req.valid("json"));
      nameSession(c, turn.session.uuid);
      return uiMessageStream(c, turn);
    },
  )
  .get(
    "/:session_uuid/messages",
    listUiMessagesDoc,
    rateLimit("READ_RATE_LIMITER"),
    sessionPath(),
    validate("query", historyQuerySchema),
    session({ issue: false }),
    async (c) => {
      const page = await readHistoryPage(c, c.req.valid("query"));
      return c.json(
        {
          session_uuid: page.sessionUuid,
          messages: page.rows.map((row) => toUiMessage(row, page.sessionUuid)),
          next_cursor: page.nextCursor,
        },
        200,
      );
    },
  );

/**
 * Starts the turn in the session the request names. `useChat` keeps sending the chat id it was
 * given, so an id that names no session (never issued, deleted or expired since) starts a new session, as
 * no id does, instead of failing every later turn; the stream says which session answered.
 */
async function startUiTurn(c: Context<AppEnv>, request: UiChatRequest): Promise<Turn> {
  const setup = { db: c.var.db, answers: c.var.answers, config: readConfig(c.env), access: sessionAccess(c) };
  const named = await startTurn(setup, c.get("session"), request);
  if (named) return named;
  const issued = { uuid: crypto.randomUUID(), issued: true } as const;
  c.set("session", issued);
  return startTurn(setup, issued, request);
}

/**
 * The answer as the SDK's UI message stream: `start` (the answer's id, the session, the stored
 * question), the text in batched `text-delta`s, a source part per passage, `finish` with the
 * stored answer; or an `error` chunk holding the problem. Every chunk type here is one that the
 * SDK's clients of versions 5 to 7 accept, or the stream would stop at it.
 */
function uiMessageStream(c: Context<AppEnv>, turn: Turn): Response {
  const startedAt = Date.now();
  const problemText = (failure: ApiError) => JSON.stringify(toProblem(failure, c.get("requestId")));
  const { session, question } = turn;
  const stream = createUIMessageStream<UiMessage>({
    execute: async ({ writer }) => {
      const write = (chunk: UiMessageChunk) => writer.write(chunk);
      write({
        type: "start",
        messageId: uiAnswerId(question.id),
        messageMetadata: {
          session_uuid: session.uuid,
          new_session: session.issued,
          user_message: { id: question.id, seq: question.seq },
        },
      });
      const textId = "text";
      let textStarted = false;
      const endText = () => {
        if (textStarted) write({ type: "text-end", id: textId });
      };
      await streamAnswer(c, turn, {
        async text(delta) {
          if (!textStarted) write({ type: "text-start", id: textId });
          textStarted = true;
          write({ type: "text-delta", id: textId, delta });
        },
        async done(answer) {
          endText();
          for (const source of toUiSources(answer.sources)) write(source);
          write({
            type: "finish",
            finishReason: answer.status === "complete" ? "stop" : "error",
            messageMetadata: toUiMetadata(answer, session.uuid),
          });
        },
        async failed(failure) {
          endText();
          write({ type: "error", errorText: problemText(failure) });
        },
      });
    },
    // Only a fault of ours gets here; streamAnswer reports the answer's own failures.
    onError(error) {
      const failure = toApiError(error);
      logStreamFailure(c, failure, startedAt);
      return problemText(failure);
    },
  });
  return createUIMessageStreamResponse({ stream });
}
