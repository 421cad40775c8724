/**
 * The admin lists (docs/api.md §13), each as one page in the API's shape and as what its CSV
 * export reads (./list-export.ts): the JSON route and the export call the same `page`.
 */
import type { z } from "zod";
import { type AdminSessionRow, listAdminSessions, searchMessages } from "../db/admin";
import type { Database } from "../db/client";
import type { adminSearchQuerySchema, adminSessionsQuerySchema } from "../schemas/admin";
import { encodeSearchCursor, encodeSessionsCursor, pageOf } from "../schemas/cursor";
import { type AdminSession, type SearchHit, toAdminSession, toSearchHit } from "../schemas/responses";
import type { ExportedList } from "./list-export";

type SessionsQuery = z.output<typeof adminSessionsQuerySchema>;
type SearchQuery = z.output<typeof adminSearchQuerySchema>;

/** Where the sessions list goes on after a session: its activity, then its id (both descending). */
const positionOf = (row: AdminSessionRow) => ({ activity: row.activity, id: row.session.id });

/** GET /api/admin/sessions (§13.2). */
export const sessionsList: ExportedList<SessionsQuery, AdminSession> = {
  name: "sessions",
  pageSize: 200,
  async page(db: Database, query: SessionsQuery) {
    const page = pageOf(await listAdminSessions(db, query), query.limit, (last) =>
      encodeSessionsCursor(positionOf(last)),
    );
    const last = page.rows.at(-1);
    return {
      rows: page.rows.map((row) => toAdminSession(row, query.titleLength)),
      nextCursor: page.nextCursor,
      nextQuery: page.nextCursor !== null && last ? { ...query, after: positionOf(last) } : null,
    };
  },
  columns: {
    session_uuid: (session) => session.session_uuid,
    created_at: (session) => session.created_at,
    last_activity_at: (session) => session.last_activity_at,
    message_count: (session) => session.message_count,
    title: (session) => session.title,
    unanswered_questions: (session) => session.unanswered_questions,
    incomplete_answers: (session) => session.incomplete_answers,
    "ratings.up": (session) => session.ratings.up,
    "ratings.down": (session) => session.ratings.down,
    imported: (session) => session.imported,
    reader: (session) => session.reader,
  },
};

/** GET /api/admin/search (§13.4). A spreadsheet shows no marks: the CSV has the snippet's text, not its highlights. */
export const searchList: ExportedList<SearchQuery, SearchHit> = {
  name: "search",
  pageSize: 100,
  async page(db: Database, query: SearchQuery) {
    const page = pageOf(await searchMessages(db, query), query.limit, (last) => encodeSearchCursor(last.id));
    const last = page.rows.at(-1);
    return {
      rows: page.rows.map(toSearchHit),
      nextCursor: page.nextCursor,
      nextQuery: page.nextCursor !== null && last ? { ...query, beforeId: last.id } : null,
    };
  },
  columns: {
    session_uuid: (hit) => hit.session_uuid,
    message_id: (hit) => hit.message_id,
    seq: (hit) => hit.seq,
    sender: (hit) => hit.sender,
    status: (hit) => hit.status,
    timestamp: (hit) => hit.timestamp,
    "snippet.text": (hit) => hit.snippet.text,
  },
};
