import { type Context, Hono } from "hono";
import type { AppEnv } from "../context";
import {
  createSession,
  deleteSession,
  type FeedbackInput,
  findSession,
  listMessages,
  writeFeedback,
} from "../db/queries";
import type { ChatMessage } from "../db/schema";
import { messageNotFound, notAnAnswer, sessionNotFound } from "../http/problem";
import { validate } from "../http/validate";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { nameSession, session } from "../middleware/session";
import { toPage } from "../schemas/cursor";
import { feedbackPathSchema, feedbackRequestSchema } from "../schemas/feedback";
import { historyQuerySchema } from "../schemas/history";
import { toMessage, toSessionSummary } from "../schemas/responses";
import { sessionPathSchema } from "../schemas/session";

const sessionPath = validate("param", sessionPathSchema);
const feedbackPath = validate("param", feedbackPathSchema);

export const sessionRoutes = new Hono<AppEnv>()
  .post("/", rateLimit("SESSION_RATE_LIMITER"), jsonBody({ optional: true }), async (c) => {
    const { session_uuid, created_at } = toSessionSummary(await createSession(c.var.db, crypto.randomUUID()));
    nameSession(c, session_uuid);
    return c.json({ session_uuid, created_at }, 201);
  })
  .get("/:session_uuid", rateLimit("READ_RATE_LIMITER"), sessionPath, session({ issue: false }), async (c) => {
    const found = await findSession(c.var.db, c.get("session").uuid);
    if (!found) throw sessionNotFound();
    nameSession(c, found.sessionUuid);
    return c.json(toSessionSummary(found), 200);
  })
  .delete("/:session_uuid", rateLimit("SESSION_RATE_LIMITER"), sessionPath, session({ issue: false }), async (c) => {
    if (!(await deleteSession(c.var.db, c.get("session").uuid))) throw sessionNotFound();
    return c.body(null, 204);
  })
  .get(
    "/:session_uuid/messages",
    rateLimit("READ_RATE_LIMITER"),
    sessionPath,
    validate("query", historyQuerySchema),
    session({ issue: false }),
    async (c) => {
      const query = c.req.valid("query");
      const sessionUuid = c.get("session").uuid;
      const found = await listMessages(c.var.db, { sessionUuid, ...query });
      if (!found) throw sessionNotFound();
      nameSession(c, sessionUuid);
      const page = toPage(found, query);
      return c.json(
        { session_uuid: sessionUuid, messages: page.rows.map(toMessage), next_cursor: page.nextCursor },
        200,
      );
    },
  )
  .put(
    "/:session_uuid/messages/:message_id/feedback",
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
  const written = await writeFeedback(c.var.db, { sessionUuid, messageId, feedback });
  if (!written) throw sessionNotFound();
  if (written.sender === "user") throw notAnAnswer();
  if (!written.message) throw messageNotFound();
  nameSession(c, sessionUuid);
  return written.message;
}
