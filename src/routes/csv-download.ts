/** The answer of an admin list's `.csv` route (docs/api.md §13.12): the list, streamed as CSV. */
import type { Context } from "hono";
import type { AppEnv } from "../context";
import { toApiError } from "../http/error-handler";
import { logStreamFailure } from "../http/request-log";
import { csvFileName, csvMediaType, type ExportedList, listCsvStream } from "../lifecycle/list-export";

/**
 * A list's rows from `query` on, as an attachment named after the list and the time. A failure
 * on the first page is the request's problem; on a later one, the download breaks and one log
 * line says why.
 */
export async function csvDownload<Query extends { limit: number }, Row>(
  c: Context<AppEnv>,
  list: ExportedList<Query, Row>,
  query: Query,
): Promise<Response> {
  const startedAt = Date.now();
  const body = await listCsvStream(c.var.db, list, query, (error) => logStreamFailure(c, toApiError(error), startedAt));
  return c.body(body, 200, {
    "Content-Type": csvMediaType,
    "Content-Disposition": `attachment; filename="${csvFileName(list, new Date(startedAt))}"`,
  });
}
