/**
 * A signed-in reader's own conversations (docs/api.md §17): listed on any device, claimed from a
 * browser's anonymous ones at sign-in, exported and erased together. Every route needs the
 * reader's token (middleware/reader.ts); without one it is 401.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import { claimSessions, eraseReader, listReaderSessions } from "../db/readers";
import { toApiError } from "../http/error-handler";
import { ApiError } from "../http/problem";
import { logStreamFailure } from "../http/request-log";
import { exportMediaTypes, readerExportStream } from "../lifecycle/export";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { validate } from "../middleware/validate";
import { describeRoute, documented } from "../openapi/declarations";
import { headers } from "../openapi/headers";
import { json, schemaRef } from "../openapi/schemas";
import type { Reader } from "../reader";
import { encodeSessionsCursor, pageOf } from "../schemas/cursor";
import { claimRequestSchema, readerSessionsQuerySchema, toReaderSession } from "../schemas/readers";

type ReaderEnv = AppEnv & { Variables: { signedIn: Reader } };

/** The request's reader, or 401: these routes are a reader's own and nobody else's. */
const signedIn = documented(
  createMiddleware<ReaderEnv>(async (c, next) => {
    const reader = c.get("reader");
    if (!reader) {
      throw new ApiError("unauthorized", "sign in: this route needs the reader's token (Authorization: Bearer)", {
        headers: { "WWW-Authenticate": 'Bearer realm="readers"' },
      });
    }
    c.set("signedIn", reader);
    await next();
  }),
  {
    problems: ["unauthorized"],
    problemHeaders: { unauthorized: ["WWW-Authenticate"] },
    security: [{ readerToken: [] }],
  },
);

const listMySessionsDoc = describeRoute(() => ({
  operationId: "listMySessions",
  tags: ["readers"],
  summary: "The reader's conversations, newest activity first, a page at a time",
  responses: {
    "200": { description: "One page", headers: headers(), content: json(schemaRef("ReaderSessionsPage")) },
  },
}));

const claimSessionsDoc = describeRoute(() => ({
  operationId: "claimSessions",
  tags: ["readers"],
  summary: "Make the browser's anonymous sessions the reader's, at sign-in",
  description:
    "Each anonymous live session among `session_uuids` becomes the reader's, all in one statement. " +
    "Idempotent. Unknown, expired and other readers' sessions are left alone and reported alike.",
  requestBody: {
    required: true,
    content: {
      "application/json": {
        schema: schemaRef("ClaimRequest"),
        examples: {
          unknown: {
            summary: "A session this database does not hold: reported under not_found",
            value: { session_uuids: ["00000000-0000-4000-8000-000000000000"] },
          },
        },
      },
    },
  },
  responses: {
    "200": { description: "What was claimed", headers: headers(), content: json(schemaRef("ClaimResponse")) },
  },
}));

const exportMySessionsDoc = describeRoute(() => ({
  operationId: "exportMySessions",
  tags: ["readers"],
  summary: "Download all of the reader's conversations",
  description:
    "One JSON document, `{exported_at, sessions: [...]}`, each session in the form of its own JSON export " +
    "(docs/api.md §16), streamed.",
  responses: {
    "200": {
      description: "Every live session of the reader, as an attachment",
      headers: headers("Content-Disposition"),
      content: { "application/json": { schema: { type: "object" } } },
    },
  },
}));

const eraseMeDoc = describeRoute(() => ({
  operationId: "eraseMe",
  tags: ["readers"],
  summary: "Erase every conversation of the reader, for good",
  responses: {
    "200": { description: "Erased", headers: headers(), content: json(schemaRef("Erased")) },
  },
}));

export const meRoutes = new Hono<ReaderEnv>()
  .use(signedIn)
  .get(
    "/sessions",
    listMySessionsDoc,
    rateLimit("READ_RATE_LIMITER"),
    validate("query", readerSessionsQuerySchema),
    async (c) => {
      const query = c.req.valid("query");
      const rows = await listReaderSessions(c.var.db, {
        reader: c.get("signedIn"),
        retentionDays: readConfig(c.env).retentionDays,
        after: query.after,
        limit: query.limit + 1,
      });
      const page = pageOf(rows, query.limit, (last) =>
        encodeSessionsCursor({ activity: last.session.lastMessageAt ?? last.session.createdAt, id: last.session.id }),
      );
      return c.json({ sessions: page.rows.map(toReaderSession), next_cursor: page.nextCursor }, 200);
    },
  )
  .post(
    "/sessions/claim",
    claimSessionsDoc,
    rateLimit("SESSION_RATE_LIMITER"),
    jsonBody(),
    validate("json", claimRequestSchema),
    async (c) => {
      const wanted = [...new Set(c.req.valid("json").session_uuids)];
      const access = { retentionDays: readConfig(c.env).retentionDays, reader: c.get("signedIn") };
      const claimed = new Set(await claimSessions(c.var.db, access, wanted));
      return c.json(
        { claimed: wanted.filter((uuid) => claimed.has(uuid)), not_found: wanted.filter((uuid) => !claimed.has(uuid)) },
        200,
      );
    },
  )
  .get("/export", exportMySessionsDoc, rateLimit("READ_RATE_LIMITER"), async (c) => {
    const startedAt = Date.now();
    const exportedAt = new Date();
    const request = {
      db: c.var.db,
      reader: c.get("signedIn"),
      retentionDays: readConfig(c.env).retentionDays,
      exportedAt,
    };
    const body = readerExportStream(request, (error) => logStreamFailure(c, toApiError(error), startedAt));
    return c.body(body, 200, {
      "Content-Type": exportMediaTypes.json,
      "Content-Disposition": `attachment; filename="chat-history-${exportedAt.toISOString().slice(0, 10)}.json"`,
    });
  })
  .delete("/", eraseMeDoc, rateLimit("SESSION_RATE_LIMITER"), async (c) => {
    const erased = await eraseReader(c.var.db, c.get("signedIn"));
    return c.json({ sessions_erased: erased }, 200);
  });
