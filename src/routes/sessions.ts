import { Hono } from "hono";
import type { AppEnv } from "../context";
import { createSession, deleteSession, findSession, listMessages } from "../db/queries";
import { sessionNotFound } from "../http/problem";
import { validate } from "../http/validate";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { nameSession, session } from "../middleware/session";
import { toPage } from "../schemas/cursor";
import { historyQuerySchema } from "../schemas/history";
import { toMessage, toSessionSummary } from "../schemas/responses";
import { sessionPathSchema } from "../schemas/session";

const sessionPath = validate("param", sessionPathSchema);

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
  );
