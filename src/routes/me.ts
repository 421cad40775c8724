/**
 * A signed-in reader's own conversations (docs/api.md §17): listed on any device, claimed from a
 * browser's anonymous ones at sign-in, exported and erased together. Every route needs the
 * reader's token (middleware/reader.ts); without one it is 401.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { Reader } from "../auth/reader";
import { readConfig } from "../config";
import type { AppEnv } from "../context";
import { claimSessions, eraseReader, listReaderSessions } from "../db/readers";
import { toApiError } from "../http/error-handler";
import { ApiError } from "../http/problem";
import { logStreamFailure } from "../http/request-log";
import { validate } from "../http/validate";
import { exportMediaTypes, readerExportStream } from "../lifecycle/export";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { encodeSessionsCursor, pageOf } from "../schemas/cursor";
import { claimRequestSchema, readerSessionsQuerySchema, toReaderSession } from "../schemas/readers";

type ReaderEnv = AppEnv & { Variables: { signedIn: Reader } };

/** The request's reader, or 401: these routes are a reader's own and nobody else's. */
const signedIn = createMiddleware<ReaderEnv>(async (c, next) => {
  const reader = c.get("reader");
  if (!reader) {
    throw new ApiError("unauthorized", "sign in: this route needs the reader's token (Authorization: Bearer)", {
      headers: { "WWW-Authenticate": 'Bearer realm="readers"' },
    });
  }
  c.set("signedIn", reader);
  await next();
});

export const meRoutes = new Hono<ReaderEnv>()
  .use(signedIn)
  .get("/sessions", rateLimit("READ_RATE_LIMITER"), validate("query", readerSessionsQuerySchema), async (c) => {
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
  })
  .post(
    "/sessions/claim",
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
  .get("/export", rateLimit("READ_RATE_LIMITER"), async (c) => {
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
  .delete("/", rateLimit("SESSION_RATE_LIMITER"), async (c) => {
    const erased = await eraseReader(c.var.db, c.get("signedIn"));
    return c.json({ sessions_erased: erased }, 200);
  });
