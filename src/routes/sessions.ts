import { type Context, Hono } from "hono";
import type { AppEnv } from "../context";
import { renameSession } from "../db/readers";
import type { ChatMessage } from "../db/schema";
import { createSession, deleteSession, type FeedbackInput, findSession, writeFeedback } from "../db/sessions";
import { toApiError } from "../http/error-handler";
import { messageNotFound, notAnAnswer, sessionNotFound } from "../http/problem";
import { logStreamFailure } from "../http/request-log";
import { validate } from "../http/validate";
import { exportFileName, exportMediaTypes, exportStream } from "../lifecycle/export";
import { importTranscript } from "../lifecycle/import";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { nameSession, session, sessionAccess } from "../middleware/session";
import { exportQuerySchema } from "../schemas/export";
import { feedbackPathSchema, feedbackRequestSchema } from "../schemas/feedback";
import { historyQuerySchema } from "../schemas/history";
import { importRequestSchema, maxImportBodyBytes } from "../schemas/import";
import { renameRequestSchema } from "../schemas/readers";
import { toMessage, toSessionSummary } from "../schemas/responses";
import { sessionPathSchema } from "../schemas/session";
import { readHistoryPage } from "./history-page";

const sessionPath = validate("param", sessionPathSchema);
const feedbackPath = validate("param", feedbackPathSchema);

export const sessionRoutes = new Hono<AppEnv>()
  .post("/", rateLimit("SESSION_RATE_LIMITER"), jsonBody({ optional: true }), async (c) => {
    const created = await createSession(c.var.db, crypto.randomUUID(), c.get("reader") ?? null);
    const { session_uuid, created_at } = toSessionSummary(created);
    nameSession(c, session_uuid);
    return c.json({ session_uuid, created_at }, 201);
  })
  .post(
    "/import",
    rateLimit("IMPORT_RATE_LIMITER"),
    jsonBody({ maxBytes: maxImportBodyBytes }),
    validate("json", importRequestSchema),
    async (c) => {
      const imported = await importTranscript(c.var.db, c.req.valid("json"), sessionAccess(c));
      nameSession(c, imported.sessionUuid);
      return c.json(toSessionSummary(imported), 201);
    },
  )
  .get("/:session_uuid", rateLimit("READ_RATE_LIMITER"), sessionPath, session({ issue: false }), async (c) => {
    const found = await findSession(c.var.db, c.get("session").uuid, sessionAccess(c));
    if (!found) throw sessionNotFound();
    nameSession(c, found.sessionUuid);
    return c.json(toSessionSummary(found), 200);
  })
  .patch(
    "/:session_uuid",
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
  .delete("/:session_uuid", rateLimit("SESSION_RATE_LIMITER"), sessionPath, session({ issue: false }), async (c) => {
    // An expired session is erased too, but it was already gone for the client: 404, as for any
    // other request about it.
    const deleted = await deleteSession(c.var.db, c.get("session").uuid, sessionAccess(c));
    if (deleted !== "live") throw sessionNotFound();
    return c.body(null, 204);
  })
  .get(
    "/:session_uuid/messages",
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
  const written = await writeFeedback(c.var.db, { sessionUuid, messageId, feedback, access: sessionAccess(c) });
  if (!written) throw sessionNotFound();
  if (written.sender === "user") throw notAnAnswer();
  if (!written.message) throw messageNotFound();
  nameSession(c, sessionUuid);
  return written.message;
}
