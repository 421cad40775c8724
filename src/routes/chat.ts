import { Hono } from "hono";
import { answerQuestion, recordQuestion } from "../chat/turn";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import { validate } from "../http/validate";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { session } from "../middleware/session";
import { chatRequestSchema } from "../schemas/chat";

export const chatRoutes = new Hono<AppEnv>().post(
  "/",
  rateLimit(),
  jsonBody(),
  validate("json", chatRequestSchema),
  session({ issue: true }),
  async (c) => {
    const request = c.req.valid("json");
    const current = c.get("session");
    const recorded = await recordQuestion(c.var.db, current, request);
    current.stored = true;
    const botMessage =
      recorded.storedAnswer ??
      (await answerQuestion({
        db: c.var.db,
        responder: c.var.responder,
        timeoutMs: readConfig(c.env).LLM_TIMEOUT_MS,
        sessionUuid: current.uuid,
        sessionId: recorded.sessionId,
        question: recorded.question,
      }));
    return c.json({
      session_uuid: current.uuid,
      answer: botMessage.message,
      sources: botMessage.sources,
      user_message: recorded.question,
      bot_message: botMessage,
    });
  },
);
