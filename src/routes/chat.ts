import { type Context, Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { streamSSE } from "hono/streaming";
import { batchDeltas } from "../chat/delta-batcher";
import { type AnswerTurn, answerQuestion, type RecordedQuestion, recordQuestion } from "../chat/turn";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import { toApiError } from "../http/error-handler";
import { ApiError, toProblem } from "../http/problem";
import { validate } from "../http/validate";
import { logStreamFailure } from "../middleware/access-log";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { nameSession, session } from "../middleware/session";
import { type ChatRequest, chatRequestSchema, maxChatBodyBytes } from "../schemas/chat";
import { type ChatStreamEvent, toMessage } from "../schemas/responses";

type TurnEnv = AppEnv & { Variables: { turn: { recorded: RecordedQuestion; answering: AnswerTurn } } };

/**
 * The part of a turn both forms share: check that an answer can be made (before anything is
 * stored: a service that cannot answer keeps no questions), store the question, name the session.
 * A streamed turn is then answered here; a JSON one goes on to the route's handler, so that each
 * form keeps its own response type for the typed client.
 */
const recordTurn = createMiddleware<TurnEnv, string, { out: { json: ChatRequest } }>(async (c, next) => {
  const { responder, problem } = c.var.answers;
  if (!responder) throw new ApiError("answer_unavailable", `no usable answer model is configured (${problem})`);
  const request = c.req.valid("json");
  const current = c.get("session");
  const config = readConfig(c.env);
  const recorded = await recordQuestion(c.var.db, current, request, config.historyTurns, config.retentionDays);
  nameSession(c, current.uuid);
  const answering: AnswerTurn = {
    db: c.var.db,
    responder,
    timeoutMs: config.answerTimeoutMs,
    historyTurns: config.historyTurns,
    history: recorded.history,
    sessionUuid: current.uuid,
    question: recorded.question,
  };
  const wantsStream = request.stream ?? (c.req.header("Accept") ?? "").includes("text/event-stream");
  if (wantsStream) return streamAnswer(c, recorded, answering);
  c.set("turn", { recorded, answering });
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

/** The answer as server-sent events: start, delta…, then done or error (docs/api.md §4.3). */
function streamAnswer(c: Context<TurnEnv>, recorded: RecordedQuestion, answering: AnswerTurn): Response {
  const startedAt = Date.now();
  return streamSSE(c, async (stream) => {
    const send = ({ event, data }: ChatStreamEvent) => stream.writeSSE({ event, data: JSON.stringify(data) });
    await send({
      event: "start",
      data: { session_uuid: answering.sessionUuid, user_message: toMessage(recorded.question) },
    });
    if (recorded.storedAnswer) {
      const stored = toMessage(recorded.storedAnswer);
      await send({ event: "delta", data: { text: stored.message } });
      await send({ event: "done", data: { bot_message: stored } });
      return;
    }
    // A client that goes away does not stop the answer: it is generated to the end and stored,
    // so the reader finds it in the history. waitUntil keeps the Worker running for that.
    const deltas = batchDeltas((text) => send({ event: "delta", data: { text } }));
    const answered = answerQuestion({ ...answering, onDelta: deltas.push });
    c.executionCtx.waitUntil(answered.catch(() => {}));
    try {
      const botMessage = toMessage(await answered);
      await deltas.flush();
      await send({ event: "done", data: { bot_message: botMessage } });
    } catch (error) {
      const failure = toApiError(error);
      logStreamFailure(c, failure, startedAt);
      await deltas.flush();
      await send({ event: "error", data: toProblem(failure, c.get("requestId")) });
    }
  });
}
