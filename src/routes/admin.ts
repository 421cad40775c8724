import { Hono } from "hono";
import type { AppEnv } from "../context";
import { listAdminSessions, readConversation, searchMessages } from "../db/admin";
import { listContentGaps } from "../db/admin-gaps";
import { listRatedDown } from "../db/admin-rated-down";
import { readStats } from "../db/admin-stats";
import { contentGapScore } from "../db/schema";
import { sessionNotFound } from "../http/problem";
import { sessionPath } from "../middleware/session";
import { validate } from "../middleware/validate";
import { describeRoute } from "../openapi/declarations";
import { headers } from "../openapi/headers";
import { json, schemaRef } from "../openapi/schemas";
import {
  adminContentGapsQuerySchema,
  adminRatedDownQuerySchema,
  adminSearchQuerySchema,
  adminSessionsQuerySchema,
  adminStatsQuerySchema,
} from "../schemas/admin";
import { encodeSearchCursor, encodeSessionsCursor, encodeTimeCursor, pageOf, toPage } from "../schemas/cursor";
import { historyQuerySchema } from "../schemas/history";
import {
  toAdminMessage,
  toAdminSession,
  toContentGap,
  toRatedDownAnswer,
  toSearchHit,
  toSessionSummary,
  toStats,
} from "../schemas/responses";

/**
 * The operators' read-only API (docs/api.md §13), behind adminEnabled, the admin rate limit and
 * adminAuth (src/app.ts). Each request is one statement.
 */
/** The admin API's answers hold conversations: no cache may keep them (adminAuth). */
const adminJson = (description: string, schema: string) => ({
  description,
  headers: headers("Cache-Control"),
  content: json(schemaRef(schema)),
});

const listAdminSessionsDoc = describeRoute(() => ({
  operationId: "listAdminSessions",
  tags: ["admin"],
  summary: "Sessions, newest activity first, with their counts and reader; filtered, a page at a time",
  responses: {
    "200": adminJson("One page of sessions", "AdminSessionsPage"),
  },
}));

const readConversationDoc = describeRoute(() => ({
  operationId: "readConversation",
  tags: ["admin"],
  summary: "A whole conversation, every message with its metadata, a page at a time",
  responses: {
    "200": adminJson("The session and one page of its messages, in seq order", "Conversation"),
  },
  problems: ["session_not_found"],
}));

const searchMessagesDoc = describeRoute(() => ({
  operationId: "searchMessages",
  tags: ["admin"],
  summary:
    "Full-text search of every message, or of the questions or the answers only, newest first, with highlighted snippets",
  responses: {
    "200": adminJson("One page of hits", "SearchPage"),
  },
}));

const readStatsDoc = describeRoute(() => ({
  operationId: "readStats",
  tags: ["admin"],
  summary: "Sessions, questions, signed-in readers, answers, failures, latency, tokens and ratings per UTC day or hour",
  responses: {
    "200": adminJson("The range's figures, per bucket and in all, and its most cited sources", "Stats"),
  },
}));

const listContentGapsDoc = describeRoute(() => ({
  operationId: "listContentGaps",
  tags: ["admin"],
  summary:
    "Questions whose retrieval found no passage, or none scoring 0.5, grouped when asked again, newest first, over a period",
  responses: {
    "200": adminJson("One page of questions, each with its count, best score and newest answer", "ContentGapsPage"),
  },
}));

const listRatedDownDoc = describeRoute(() => ({
  operationId: "listRatedDown",
  tags: ["admin"],
  summary: "Answers readers rated down, newest rating first, with the comment, the question and the cited passages",
  responses: {
    "200": adminJson("One page of answers rated down", "RatedDownPage"),
  },
}));

export const adminRoutes = new Hono<AppEnv>()
  .get("/sessions", listAdminSessionsDoc, validate("query", adminSessionsQuerySchema), async (c) => {
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
    readConversationDoc,
    sessionPath(),
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
  .get("/search", searchMessagesDoc, validate("query", adminSearchQuerySchema), async (c) => {
    const query = c.req.valid("query");
    const page = pageOf(await searchMessages(c.var.db, query), query.limit, (last) => encodeSearchCursor(last.id));
    return c.json({ hits: page.rows.map(toSearchHit), next_cursor: page.nextCursor }, 200);
  })
  .get("/stats", readStatsDoc, validate("query", adminStatsQuerySchema), async (c) => {
    const query = c.req.valid("query");
    return c.json(toStats(query, await readStats(c.var.db, query)), 200);
  })
  .get("/gaps", listContentGapsDoc, validate("query", adminContentGapsQuerySchema), async (c) => {
    const query = c.req.valid("query");
    const rows = await listContentGaps(c.var.db, query);
    const page = pageOf(rows, query.limit, (last) =>
      encodeTimeCursor("gaps", { at: last.answeredAt, id: last.answerId }),
    );
    return c.json(
      {
        from: query.from.toISOString(),
        to: query.to.toISOString(),
        below: query.below ?? contentGapScore,
        counted_from: (rows[0]?.countedFrom ?? query.from).toISOString(),
        gaps: page.rows.map(toContentGap),
        next_cursor: page.nextCursor,
      },
      200,
    );
  })
  .get("/rated-down", listRatedDownDoc, validate("query", adminRatedDownQuerySchema), async (c) => {
    const query = c.req.valid("query");
    const page = pageOf(await listRatedDown(c.var.db, query), query.limit, (last) =>
      encodeTimeCursor("rated-down", { at: last.ratedAt, id: last.answerId }),
    );
    return c.json({ answers: page.rows.map(toRatedDownAnswer), next_cursor: page.nextCursor }, 200);
  });
