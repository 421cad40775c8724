import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { batchDeltas } from "../chat/delta-batcher";
import { type AnswerTurn, answerQuestion, recordQuestion } from "../chat/turn";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import { toApiError } from "../http/error-handler";
import { ApiError, toProblem } from "../http/problem";
import { validate } from "../http/validate";
import { logStreamFailure } from "../middleware/access-log";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { session } from "../middleware/session";
import { chatRequestSchema, maxChatBodyBytes } from "../schemas/chat";

export const chatRoutes = new Hono<AppEnv>().post(
  "/",
  rateLimit("CHAT_RATE_LIMITER"),
  jsonBody({ maxBytes: maxChatBodyBytes }),
  validate("json", chatRequestSchema),
  session({ issue: true }),
  async (c) => {
    const request = c.req.valid("json");
    const { responder, problem } = c.var.answers;
    // Checked before anything is stored: a service that cannot answer keeps no questions.
    if (!responder) throw new ApiError("answer_unavailable", `no usable answer model is configured (${problem})`);

    const current = c.get("session");
    const config = readConfig(c.env);
    const recorded = await recordQuestion(c.var.db, current, request, config.historyTurns);
    current.stored = true;
    const turn: AnswerTurn = {
      db: c.var.db,
      responder,
      timeoutMs: config.answerTimeoutMs,
      historyTurns: config.historyTurns,
      history: recorded.history,
      sessionUuid: current.uuid,
      sessionId: recorded.sessionId,
      question: recorded.question,
    };
    const wantsStream = request.stream ?? (c.req.header("Accept") ?? "").includes("text/event-stream");

    if (!wantsStream) {
      const botMessage = recorded.storedAnswer ?? (await answerQuestion(turn));
      return c.json({
        session_uuid: current.uuid,
        answer: botMessage.message,
        sources: botMessage.sources,
        user_message: recorded.question,
        bot_message: botMessage,
      });
    }

    const startedAt = Date.now();
    return streamSSE(c, async (stream) => {
      const send = (event: string, data: unknown) => stream.writeSSE({ event, data: JSON.stringify(data) });
      await send("start", { session_uuid: current.uuid, user_message: recorded.question });
      if (recorded.storedAnswer) {
        await send("delta", { text: recorded.storedAnswer.message });
        await send("done", { bot_message: recorded.storedAnswer });
        return;
      }
      // A client that goes away does not stop the answer: it is generated to the end and stored,
      // so the reader finds it in the history. waitUntil keeps the Worker running for that.
      const deltas = batchDeltas((text) => send("delta", { text }));
      const answering = answerQuestion({ ...turn, onDelta: deltas.push });
      c.executionCtx.waitUntil(answering.catch(() => {}));
      try {
        const botMessage = await answering;
        await deltas.flush();
        await send("done", { bot_message: botMessage });
      } catch (error) {
        const failure = toApiError(error);
        logStreamFailure(c, failure, startedAt);
        await deltas.flush();
        await send("error", toProblem(failure, c.get("requestId")));
      }
    });
  },
);
