import { type Context, Hono } from "hono";
import { accepts } from "hono/accepts";
import { streamSSE } from "hono/streaming";
import { streamAnswer } from "../chat/answer-stream";
import { answerQuestion, startTurn, type Turn } from "../chat/turn";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import { type ProblemCode, sessionNotFound, toProblem } from "../http/problem";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { nameSession, session, sessionAccess, sessionHeader } from "../middleware/session";
import { validate } from "../middleware/validate";
import { describeRoute } from "../openapi/declarations";
import { headers } from "../openapi/headers";
import { json, schemaRef } from "../openapi/schemas";
import { chatRequestSchema, maxChatBodyBytes } from "../schemas/chat";
import { type ChatStreamEvent, toMessage } from "../schemas/responses";

/** These problems carry X-Session-Id. */
const namingSession = (codes: ProblemCode[]) => Object.fromEntries(codes.map((code) => [code, [sessionHeader]]));

const askChatbotDoc = describeRoute(() => ({
  operationId: "askChatbot",
  tags: ["chat"],
  summary: "Ask the chatbot",
  description:
    "Stores the question, answers it and stores the answer (docs/api.md §4). Without a session " +
    'UUID a new session is issued. With `"stream": true`, or an `Accept` that ranks ' +
    "`text/event-stream` above `application/json`, the answer comes as server-sent events.",
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
  },
  problems: ["session_not_found", "idempotency_conflict", "answer_failed", "answer_unavailable", "answer_timeout"],
  // Once the question is stored, a problem names its session.
  problemHeaders: namingSession([
    "answer_failed",
    "answer_timeout",
    "invalid_token",
    "auth_unavailable",
    "internal_error",
    "database_unavailable",
    "database_timeout",
  ]),
}));

export const chatRoutes = new Hono<AppEnv>().post(
  "/",
  askChatbotDoc,
  rateLimit("CHAT_RATE_LIMITER"),
  jsonBody({ maxBytes: maxChatBodyBytes }),
  validate("json", chatRequestSchema),
  session({ issue: true }),
  async (c) => {
    const request = c.req.valid("json");
    const setup = { db: c.var.db, answers: c.var.answers, config: readConfig(c.env), access: sessionAccess(c) };
    const turn = await startTurn(setup, c.get("session"), request);
    if (!turn) throw sessionNotFound();
    nameSession(c, turn.session.uuid);
    // The stream is kept out of the route's type: for a handler that may answer JSON or a stream,
    // the typed client would type both as unknown. readChatStream (src/client.ts) types its events.
    if (request.stream ?? prefersEvents(c)) return streamEvents(c, turn) as never;
    const botMessage = toMessage(turn.storedAnswer ?? (await answerQuestion(turn)));
    return c.json(
      {
        session_uuid: turn.session.uuid,
        answer: botMessage.message,
        sources: botMessage.sources,
        user_message: toMessage(turn.question),
        bot_message: botMessage,
      },
      200,
    );
  },
);

/**
 * Whether Accept ranks text/event-stream above application/json by its q-values (at equal q, the
 * one listed first). Without either of them, or with only wildcards, the answer is JSON.
 */
function prefersEvents(c: Context): boolean {
  const supports = ["application/json", "text/event-stream"];
  return accepts(c, { header: "Accept", supports, default: "application/json" }) === "text/event-stream";
}

/** The answer as server-sent events: start, delta…, then done or error (docs/api.md §4.3). */
function streamEvents(c: Context<AppEnv>, turn: Turn): Response {
  return streamSSE(c, async (stream) => {
    const send = ({ event, data }: ChatStreamEvent) => stream.writeSSE({ event, data: JSON.stringify(data) });
    await send({ event: "start", data: { session_uuid: turn.session.uuid, user_message: toMessage(turn.question) } });
    await streamAnswer(c, turn, {
      text: (text) => send({ event: "delta", data: { text } }),
      done: (answer) => send({ event: "done", data: { bot_message: toMessage(answer) } }),
      failed: (failure) => send({ event: "error", data: toProblem(failure, c.get("requestId")) }),
    });
  });
}
