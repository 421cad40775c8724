import type { Context } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../context";
import { listMessages } from "../db/sessions";
import { sessionNotFound } from "../http/problem";
import { nameSession, sessionAccess } from "../middleware/session";
import { toPage } from "../schemas/cursor";
import type { historyQuerySchema } from "../schemas/history";

/**
 * The page of the request's session that a history query asks for, read the one way both
 * histories (docs/api.md §5 and §12.5) read it: an unknown or expired session, or another
 * reader's, is 404, and a found
 * one is named in X-Session-Id.
 */
export async function readHistoryPage(c: Context<AppEnv>, query: z.output<typeof historyQuerySchema>) {
  const sessionUuid = c.get("session").uuid;
  const found = await listMessages(c.var.db, {
    sessionUuid,
    ...query,
    access: sessionAccess(c),
  });
  if (!found) throw sessionNotFound();
  nameSession(c, sessionUuid);
  return { sessionUuid, ...toPage(found, query) };
}
