/**
 * The admin lists (docs/api.md §13), each as one page in the API's shape and as what its CSV
 * export reads (./list-export.ts): the JSON route and the export call the same `page`.
 */
import type { z } from "zod";
import { type AdminSessionRow, listAdminSessions, searchMessages } from "../db/admin";
import { addedUpQuestionsLimit, listFrequentQuestions, PeriodTooLarge } from "../db/admin-frequent";
import { listContentGaps } from "../db/admin-gaps";
import { listRatedDown } from "../db/admin-rated-down";
import { listCitedSources } from "../db/admin-sources";
import type { Database } from "../db/client";
import type { RankedCursor, RankedQuery } from "../db/ranked";
import { validationError } from "../http/problem";
import type {
  adminContentGapsQuerySchema,
  adminFrequentQuestionsQuerySchema,
  adminRatedDownQuerySchema,
  adminSearchQuerySchema,
  adminSessionsQuerySchema,
  adminSourcesQuerySchema,
} from "../schemas/admin";
import { encodeRankedCursor, encodeSearchCursor, encodeSessionsCursor, encodeTimeCursor } from "../schemas/cursor";
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
import { type ExportedList, type ListPage, listPageOf } from "./list-export";

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
  page: async (db: Database, query: SessionsQuery) =>
    listPageOf(await listAdminSessions(db, query), query, {
      position: positionOf,
      cursor: encodeSessionsCursor,
      resume: (query, after) => ({ ...query, after }),
      row: (row) => toAdminSession(row, query.titleLength),
    }),
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
  page: async (db: Database, query: SearchQuery) =>
    listPageOf(await searchMessages(db, query), query, {
      position: (row) => row.id,
      cursor: encodeSearchCursor,
      resume: (query, beforeId) => ({ ...query, beforeId }),
      row: toSearchHit,
    }),
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
    const page = listPageOf(rows, query, {
      position: (row) => ({ at: row.answeredAt, id: row.answerId }),
      cursor: (after) => encodeTimeCursor("gaps", after),
      resume: (query, after) => ({ ...query, after }),
      row: toContentGap,
    });
    return { ...page, countedFrom: rows[0]?.countedFrom ?? query.from };
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
  page: async (db: Database, query: RatedDownQuery) =>
    listPageOf(await listRatedDown(db, query), query, {
      position: (row) => ({ at: row.ratedAt, id: row.answerId }),
      cursor: (after) => encodeTimeCursor("rated-down", after),
      resume: (query, after) => ({ ...query, after }),
      row: toRatedDownAnswer,
    }),
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

/**
 * How a ranked list (db/ranked.ts) goes on after a row: from its rank, in a cursor that names the
 * list ("q" the frequent questions, "c" the cited sources), which the export's next query takes too.
 */
function rankedPaging(list: "q" | "c") {
  return {
    position: (row: { rank: RankedCursor }) => row.rank,
    cursor: (rank: RankedCursor) => encodeRankedCursor(list, rank),
    resume: (query: RankedQuery, after: RankedCursor): RankedQuery => ({ ...query, after }),
  };
}

/** The period's questions; one not kept that holds too many to add up is the caller's 400, naming `from`. */
async function frequentQuestionsOf(db: Database, query: FrequentQuestionsQuery) {
  try {
    return await listFrequentQuestions(db, query);
  } catch (error) {
    if (!(error instanceof PeriodTooLarge)) throw error;
    throw validationError([
      {
        path: "from",
        message:
          `the period holds ${error.questions.toLocaleString("en")} questions; one other than the last 7, 30, 90 or 365 days ` +
          `up to the end of this hour is added up only to ${addedUpQuestionsLimit.toLocaleString("en")}: choose one of those or a shorter period`,
      },
    ]);
  }
}

/** GET /api/admin/frequent-questions (§13.9). */
export const frequentQuestionsList: ExportedList<FrequentQuestionsQuery, FrequentQuestion> = {
  name: "frequent-questions",
  pageSize: 200,
  page: async (db: Database, query: FrequentQuestionsQuery) =>
    listPageOf(await frequentQuestionsOf(db, query), query, { ...rankedPaging("q"), row: toFrequentQuestion }),
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
  page: async (db: Database, query: CitedSourcesQuery) =>
    listPageOf(await listCitedSources(db, query), query, { ...rankedPaging("c"), row: toCitedSource }),
  columns: {
    title: (source) => source.title,
    url: (source) => source.url,
    answers: (source) => source.answers,
  },
};
