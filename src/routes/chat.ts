import { type Context, Hono } from "hono";
import { accepts } from "hono/accepts";
import { streamSSE } from "hono/streaming";
import { streamAnswer } from "../chat/answer-stream";
import { answerQuestion, startTurn, type Turn } from "../chat/turn";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import { sessionNotFound, toProblem } from "../http/problem";
import { validate } from "../http/validate";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { nameSession, session, sessionAccess } from "../middleware/session";
import { chatRequestSchema, maxChatBodyBytes } from "../schemas/chat";
import { type ChatStreamEvent, toMessage } from "../schemas/responses";

export const chatRoutes = new Hono<AppEnv>().post(
  "/",
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
