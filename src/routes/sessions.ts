import { Hono } from "hono";
import { sessionNotFound } from "../chat/turn";
import type { AppEnv } from "../context";
import { createSession, deleteSession, findSession, listMessages } from "../db/queries";
import { validate } from "../http/validate";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { session, sessionHeader } from "../middleware/session";
import { encodeCursor } from "../schemas/cursor";
import { historyQuerySchema } from "../schemas/history";
import { sessionPathSchema } from "../schemas/session";

const sessionPath = validate("param", sessionPathSchema);

export const sessionRoutes = new Hono<AppEnv>()
  .post("/", rateLimit("SESSION_RATE_LIMITER"), jsonBody({ optional: true }), async (c) => {
    const created = await createSession(c.var.db, crypto.randomUUID());
    c.header(sessionHeader, created.session_uuid);
    return c.json({ session_uuid: created.session_uuid, created_at: created.created_at }, 201);
  })
  .get("/:session_uuid", rateLimit("READ_RATE_LIMITER"), sessionPath, session({ issue: false }), async (c) => {
    const found = await findSession(c.var.db, c.get("session").uuid);
    if (!found) throw sessionNotFound();
    return c.json(found);
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
      const page = await listMessages(c.var.db, { sessionUuid, ...query });
      if (!page) throw sessionNotFound();
      const messages = page.slice(0, query.limit);
      const last = messages.at(-1);
      const hasMore = page.length > query.limit && last !== undefined;
      return c.json({
        session_uuid: sessionUuid,
        messages,
        next_cursor: hasMore ? encodeCursor({ order: query.order, afterSeq: last.seq }) : null,
      });
    },
  );
