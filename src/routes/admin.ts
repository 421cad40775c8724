import { Hono } from "hono";
import type { AppEnv } from "../context";
import { listAdminSessions, readConversation, searchMessages } from "../db/admin";
import { readStats } from "../db/admin-stats";
import { sessionNotFound } from "../http/problem";
import { validate } from "../http/validate";
import { adminSearchQuerySchema, adminSessionsQuerySchema, adminStatsQuerySchema } from "../schemas/admin";
import { encodeSearchCursor, encodeSessionsCursor, pageOf, toPage } from "../schemas/cursor";
import { historyQuerySchema } from "../schemas/history";
import { toAdminMessage, toAdminSession, toSearchHit, toSessionSummary, toStats } from "../schemas/responses";
import { sessionPathSchema } from "../schemas/session";

/**
 * The operators' read-only API (docs/api.md §13), behind adminEnabled, the admin rate limit and
 * adminAuth (src/app.ts). Each request is one statement.
 */
export const adminRoutes = new Hono<AppEnv>()
  .get("/sessions", validate("query", adminSessionsQuerySchema), async (c) => {
    const query = c.req.valid("query");
    const page = pageOf(await listAdminSessions(c.var.db, query), query.limit, (last) =>
      encodeSessionsCursor({ activity: last.activity, id: last.session.id }),
    );
    return c.json(
      {
        sessions: page.rows.map((row) => toAdminSession(row, query.titleLength)),
        next_cursor: page.nextCursor,
      },
      200,
    );
  })
  .get(
    "/sessions/:session_uuid",
    validate("param", sessionPathSchema),
    validate("query", historyQuerySchema),
    async (c) => {
      const query = c.req.valid("query");
      const conversation = await readConversation(c.var.db, {
        sessionUuid: c.req.valid("param").session_uuid,
        ...query,
      });
      if (!conversation) throw sessionNotFound();
      const page = toPage(conversation.messages, query);
      return c.json(
        {
          session: { ...toSessionSummary(conversation.session), reader: conversation.reader },
          messages: page.rows.map(toAdminMessage),
          next_cursor: page.nextCursor,
        },
        200,
      );
    },
  )
  .get("/search", validate("query", adminSearchQuerySchema), async (c) => {
    const query = c.req.valid("query");
    const page = pageOf(await searchMessages(c.var.db, query), query.limit, (last) => encodeSearchCursor(last.id));
    return c.json({ hits: page.rows.map(toSearchHit), next_cursor: page.nextCursor }, 200);
  })
  .get("/stats", validate("query", adminStatsQuerySchema), async (c) => {
    const query = c.req.valid("query");
    return c.json(toStats(query, await readStats(c.var.db, query)), 200);
  });
