/**
 * The admin lists (docs/api.md §13), each as one page in the API's shape and as what its CSV
 * export reads (./list-export.ts): the JSON route and the export call the same `page`.
 */
import type { z } from "zod";
import { type AdminSessionRow, listAdminSessions, searchMessages } from "../db/admin";
import { listFrequentQuestions } from "../db/admin-frequent";
import { listContentGaps } from "../db/admin-gaps";
import { listRatedDown } from "../db/admin-rated-down";
import { listCitedSources } from "../db/admin-sources";
import type { Database } from "../db/client";
import type {
  adminContentGapsQuerySchema,
  adminFrequentQuestionsQuerySchema,
  adminRatedDownQuerySchema,
  adminSearchQuerySchema,
  adminSessionsQuerySchema,
  adminSourcesQuerySchema,
} from "../schemas/admin";
import {
  encodeRankedCursor,
  encodeSearchCursor,
  encodeSessionsCursor,
  encodeTimeCursor,
  pageOf,
} from "../schemas/cursor";
import {
  type AdminSession,
  type CitedSource,
  type ContentGap,
  type FrequentQuestion,
  type RatedDownAnswer,
  type SearchHit,
  toAdminSession,
  toCitedSource,
  toContentGap,
  toFrequentQuestion,
  toRatedDownAnswer,
  toSearchHit,
} from "../schemas/responses";
import type { ExportedList, ListPage } from "./list-export";

type SessionsQuery = z.output<typeof adminSessionsQuerySchema>;
type SearchQuery = z.output<typeof adminSearchQuerySchema>;
type ContentGapsQuery = z.output<typeof adminContentGapsQuerySchema>;
type RatedDownQuery = z.output<typeof adminRatedDownQuerySchema>;
type FrequentQuestionsQuery = z.output<typeof adminFrequentQuestionsQuerySchema>;
type CitedSourcesQuery = z.output<typeof adminSourcesQuerySchema>;

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

/**
 * GET /api/admin/gaps (§13.7): one row per question, its newest gap's conversation and ids. A page
 * also says from when its counts start (`countedFrom`: the period's start, or later when it holds
 * more gaps than a request counts), which the JSON answer carries and a CSV row does not.
 */
export const contentGapsList: Omit<ExportedList<ContentGapsQuery, ContentGap>, "page"> & {
  page: (
    db: Database,
    query: ContentGapsQuery,
  ) => Promise<ListPage<ContentGapsQuery, ContentGap> & { countedFrom: Date }>;
} = {
  name: "content-gaps",
  pageSize: 200,
  async page(db: Database, query: ContentGapsQuery) {
    const rows = await listContentGaps(db, query);
    const page = pageOf(rows, query.limit, (last) =>
      encodeTimeCursor("gaps", { at: last.answeredAt, id: last.answerId }),
    );
    const last = page.rows.at(-1);
    return {
      rows: page.rows.map(toContentGap),
      countedFrom: rows[0]?.countedFrom ?? query.from,
      nextCursor: page.nextCursor,
      nextQuery:
        page.nextCursor !== null && last ? { ...query, after: { at: last.answeredAt, id: last.answerId } } : null,
    };
  },
  columns: {
    question: (gap) => gap.question,
    asked: (gap) => gap.asked,
    best_score: (gap) => gap.best_score,
    last_asked_at: (gap) => gap.last_asked_at,
    session_uuid: (gap) => gap.session_uuid,
    question_id: (gap) => gap.question_id,
    answer_id: (gap) => gap.answer_id,
  },
};

/**
 * GET /api/admin/rated-down (§13.8). A cell holds one value: the cited passages are one field,
 * each `title <url> (score)`, separated by "; ".
 */
export const ratedDownList: ExportedList<RatedDownQuery, RatedDownAnswer> = {
  name: "rated-down",
  pageSize: 200,
  async page(db: Database, query: RatedDownQuery) {
    const rows = await listRatedDown(db, query);
    const page = pageOf(rows, query.limit, (last) =>
      encodeTimeCursor("rated-down", { at: last.ratedAt, id: last.answerId }),
    );
    const last = page.rows.at(-1);
    return {
      rows: page.rows.map(toRatedDownAnswer),
      nextCursor: page.nextCursor,
      nextQuery: page.nextCursor !== null && last ? { ...query, after: { at: last.ratedAt, id: last.answerId } } : null,
    };
  },
  columns: {
    rated_at: (answer) => answer.rated_at,
    comment: (answer) => answer.comment,
    question: (answer) => answer.question,
    answer: (answer) => answer.answer,
    sources: (answer) =>
      answer.sources
        .map((source) => `${source.title ?? ""}${source.url ? ` <${source.url}>` : ""} (${source.score})`)
        .join("; "),
    answered_at: (answer) => answer.answered_at,
    session_uuid: (answer) => answer.session_uuid,
    question_id: (answer) => answer.question_id,
    answer_id: (answer) => answer.answer_id,
    answer_seq: (answer) => answer.answer_seq,
    imported: (answer) => answer.imported,
  },
};

/** GET /api/admin/frequent-questions (§13.9). */
export const frequentQuestionsList: ExportedList<FrequentQuestionsQuery, FrequentQuestion> = {
  name: "frequent-questions",
  pageSize: 200,
  async page(db: Database, query: FrequentQuestionsQuery) {
    const page = pageOf(await listFrequentQuestions(db, query), query.limit, (last) =>
      encodeRankedCursor("q", last.rank),
    );
    const last = page.rows.at(-1);
    return {
      rows: page.rows.map(toFrequentQuestion),
      nextCursor: page.nextCursor,
      nextQuery: page.nextCursor !== null && last ? { ...query, after: last.rank } : null,
    };
  },
  columns: {
    question: (question) => question.question,
    example: (question) => question.example,
    asked: (question) => question.asked,
    "ratings.up": (question) => question.ratings.up,
    "ratings.down": (question) => question.ratings.down,
    rated_up_share: (question) => question.rated_up_share,
    rated_down_share: (question) => question.rated_down_share,
  },
};

/** GET /api/admin/sources (§13.10). */
export const citedSourcesList: ExportedList<CitedSourcesQuery, CitedSource> = {
  name: "sources",
  pageSize: 200,
  async page(db: Database, query: CitedSourcesQuery) {
    const page = pageOf(await listCitedSources(db, query), query.limit, (last) => encodeRankedCursor("c", last.rank));
    const last = page.rows.at(-1);
    return {
      rows: page.rows.map(toCitedSource),
      nextCursor: page.nextCursor,
      nextQuery: page.nextCursor !== null && last ? { ...query, after: last.rank } : null,
    };
  },
  columns: {
    title: (source) => source.title,
    url: (source) => source.url,
    answers: (source) => source.answers,
  },
};
