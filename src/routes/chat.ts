import { type Context, Hono } from "hono";
import { accepts } from "hono/accepts";
import { createMiddleware } from "hono/factory";
import { streamSSE } from "hono/streaming";
import { streamAnswer } from "../chat/answer-stream";
import { answerQuestion, startTurn, type Turn } from "../chat/turn";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import { toProblem } from "../http/problem";
import { validate } from "../http/validate";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { nameSession, session, sessionAccess } from "../middleware/session";
import { type ChatRequest, chatRequestSchema, maxChatBodyBytes } from "../schemas/chat";
import { type ChatStreamEvent, toMessage } from "../schemas/responses";

type TurnEnv = AppEnv & { Variables: { turn: Turn } };

/**
 * The part of a turn both forms share: store the question (chat/turn.ts), name the session.
 * A streamed turn is then answered here; a JSON one goes on to the route's handler, so that each
 * form keeps its own response type for the typed client.
 */
const recordTurn = createMiddleware<TurnEnv, string, { out: { json: ChatRequest } }>(async (c, next) => {
  const request = c.req.valid("json");
  const current = c.get("session");
  const turn = await startTurn(c.var.db, current, request, c.var.answers, readConfig(c.env), sessionAccess(c));
  nameSession(c, current.uuid);
  const wantsStream = request.stream ?? prefersEvents(c);
  if (wantsStream) return streamEvents(c, turn);
  c.set("turn", turn);
  await next();
});

export const chatRoutes = new Hono<AppEnv>().post(
  "/",
  rateLimit("CHAT_RATE_LIMITER"),
  jsonBody({ maxBytes: maxChatBodyBytes }),
  validate("json", chatRequestSchema),
  session({ issue: true }),
  recordTurn,
  async (c) => {
    const { recorded, answering } = c.var.turn;
    const botMessage = toMessage(recorded.storedAnswer ?? (await answerQuestion(answering)));
    return c.json(
      {
        session_uuid: answering.sessionUuid,
        answer: botMessage.message,
        sources: botMessage.sources,
        user_message: toMessage(recorded.question),
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
function streamEvents(c: Context<TurnEnv>, turn: Turn): Response {
  return streamSSE(c, async (stream) => {
    const send = ({ event, data }: ChatStreamEvent) => stream.writeSSE({ event, data: JSON.stringify(data) });
    await send({
      event: "start",
      data: { session_uuid: turn.answering.sessionUuid, user_message: toMessage(turn.recorded.question) },
    });
    await streamAnswer(c, turn, {
      text: (text) => send({ event: "delta", data: { text } }),
      done: (answer) => send({ event: "done", data: { bot_message: toMessage(answer) } }),
      failed: (failure) => send({ event: "error", data: toProblem(failure, c.get("requestId")) }),
    });
  });
}
