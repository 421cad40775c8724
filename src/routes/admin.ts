import { Hono } from "hono";
import { type RetrievalConfig, readConfig } from "../config";
import type { AppEnv } from "../context";
import { readConversation } from "../db/admin";
import { addedUpQuestionsLimit } from "../db/admin-frequent";
import { readStats } from "../db/admin-stats";
import { contentGapScore } from "../db/schema";
import { sessionNotFound } from "../http/problem";
import {
  citedSourcesList,
  contentGapsList,
  frequentQuestionsList,
  ratedDownList,
  searchList,
  sessionsList,
} from "../lifecycle/admin-lists";
import { maxExportRows } from "../lifecycle/list-export";
import { maxUncitedPagesPerDownload, readUncitedPassages, uncitedPassagesList } from "../lifecycle/uncited-passages";
import { sessionPath } from "../middleware/session";
import { validate } from "../middleware/validate";
import { describeRoute } from "../openapi/declarations";
import { headers } from "../openapi/headers";
import { json, schemaRef } from "../openapi/schemas";
import {
  adminContentGapsQuerySchema,
  adminFrequentQuestionsQuerySchema,
  adminRatedDownQuerySchema,
  adminSearchQuerySchema,
  adminSessionsQuerySchema,
  adminSourcesQuerySchema,
  adminStatsQuerySchema,
  adminUncitedPassagesQuerySchema,
  maxPassagesLooked,
} from "../schemas/admin";
import { toPage } from "../schemas/cursor";
import { historyQuerySchema } from "../schemas/history";
import { toAdminMessage, toSessionSummary, toStats } from "../schemas/responses";
import { csvDownload } from "./csv-download";

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

/**
 * A list's CSV download: the same query parameters as its JSON route, validated by the same
 * schema, so the two cannot differ in their filters (docs/api.md §13.12).
 */
const adminCsv = (list: string, example: string) => ({
  description: `The ${list}, as an attachment: a header row, then one row each; streamed a page at a time`,
  headers: headers("Cache-Control", "Content-Disposition"),
  content: { "text/csv": { schema: { type: "string" }, example } },
});

const csvDescription = (list: string) =>
  `The ${list} of the JSON route, every page of them from \`cursor\` on, as CSV (RFC 4180, UTF-8 with a byte order mark, CRLF), ` +
  "streamed a page at a time (docs/api.md §13.12). Same query parameters and rules; `limit` has no effect. " +
  "A text field starting with = + - @ # ' tab or CR gets a leading ' (no spreadsheet runs it as a formula). " +
  `At most ${maxExportRows} rows: with more to come, a last line \`#cut,${maxExportRows},<cursor>\` says where the same request goes on. ` +
  "A failure after the first page breaks the download rather than ending it early. The admin rate limit counts one request.";

const exportSessionsDoc = describeRoute(() => ({
  operationId: "exportAdminSessions",
  tags: ["admin"],
  summary: "The sessions list, filtered as GET /api/admin/sessions, as a CSV download",
  description: csvDescription("sessions"),
  responses: {
    "200": adminCsv(
      "sessions",
      "\uFEFFsession_uuid,created_at,last_activity_at,message_count,title,unanswered_questions,incomplete_answers,ratings.up,ratings.down,imported,reader\r\n" +
        '6f1c1a52-3b7e-4c1d-9a0f-2e8d5b7c4a19,2026-10-01T09:00:00.000Z,2026-10-01T09:00:02.000Z,2,"What is a ZMP, and why?",0,0,1,0,false,\r\n',
    ),
  },
}));

const exportSearchDoc = describeRoute(() => ({
  operationId: "exportSearchHits",
  tags: ["admin"],
  summary: "The hits of a search, as GET /api/admin/search finds them, as a CSV download",
  description: csvDescription("hits"),
  responses: {
    "200": adminCsv(
      "hits",
      "\uFEFFsession_uuid,message_id,seq,sender,status,timestamp,snippet.text\r\n" +
        "6f1c1a52-3b7e-4c1d-9a0f-2e8d5b7c4a19,1234,1,user,complete,2026-10-01T09:00:00.000Z,How does the ZMP move when it walks?\r\n",
    ),
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

const listFrequentQuestionsDoc = describeRoute(() => ({
  operationId: "listFrequentQuestions",
  tags: ["admin"],
  summary:
    "The questions asked most often in a period (case, punctuation and whitespace aside), with their ratings, a page at a time",
  description:
    "The last 7, 30, 90 and 365 days up to the end of the current UTC hour are kept counted: a page costs its rows. " +
    "Any other period is added up from the hourly rollups, and one holding more than " +
    `${addedUpQuestionsLimit.toLocaleString("en")} questions is refused (400 validation_error naming from).`,
  responses: {
    "200": adminJson("One page of questions, most asked first", "FrequentQuestionsPage"),
  },
}));

const listCitedSourcesDoc = describeRoute(() => ({
  operationId: "listCitedSources",
  tags: ["admin"],
  summary: "The sources the answers of a period cite, most cited first, a page at a time",
  responses: {
    "200": adminJson("One page of sources, most cited first", "CitedSourcesPage"),
  },
}));

const listUncitedPassagesDoc = describeRoute(() => ({
  operationId: "listUncitedPassages",
  tags: ["admin"],
  summary:
    "The passages of Qdrant's collection whose source no answer of a period cites, a page of the collection at a time",
  responses: {
    "200": adminJson("The points looked at that no answer cites", "UncitedPassagesPage"),
  },
  problems: ["retrieval_unavailable"],
}));

const exportUncitedPassagesDoc = describeRoute(() => ({
  operationId: "exportUncitedPassages",
  tags: ["admin"],
  summary: `The passages never cited in a period, as GET /api/admin/sources/uncited lists them, as a CSV download: at most ${maxUncitedPagesPerDownload} pages of ${maxPassagesLooked.toLocaleString("en")} points, then a line #cut,<rows>,<cursor> with more to come`,
  description: csvDescription("passages"),
  responses: {
    "200": adminCsv("passages", "\uFEFFid,title,url\r\n812,Chapter 9: Falling safely,https://book.example/ch9\r\n"),
  },
  problems: ["retrieval_unavailable"],
}));

const exportContentGapsDoc = describeRoute(() => ({
  operationId: "exportContentGaps",
  tags: ["admin"],
  summary: "The content gaps, as GET /api/admin/gaps lists them, as a CSV download",
  description: csvDescription("content gaps"),
  responses: {
    "200": adminCsv(
      "content gaps",
      "\uFEFFquestion,asked,best_score,last_asked_at,session_uuid,question_id,answer_id\r\n" +
        "what is zmp,3,0.42,2026-10-01T09:00:02.000Z,6f1c1a52-3b7e-4c1d-9a0f-2e8d5b7c4a19,1233,1234\r\n",
    ),
  },
}));

const exportRatedDownDoc = describeRoute(() => ({
  operationId: "exportRatedDown",
  tags: ["admin"],
  summary: "The answers rated down, as GET /api/admin/rated-down lists them, as a CSV download",
  description: csvDescription("answers rated down"),
  responses: {
    "200": adminCsv(
      "answers rated down",
      "\uFEFFrated_at,comment,question,answer,sources,answered_at,session_uuid,question_id,answer_id,answer_seq,imported\r\n" +
        "2026-10-01T09:05:00.000Z,Not what I asked.,What is a servo?,The servo …,Chapter 3 <https://book.example/ch3> (0.61),2026-10-01T09:00:02.000Z,6f1c1a52-3b7e-4c1d-9a0f-2e8d5b7c4a19,1233,1234,2,false\r\n",
    ),
  },
}));

const exportFrequentQuestionsDoc = describeRoute(() => ({
  operationId: "exportFrequentQuestions",
  tags: ["admin"],
  summary: "The frequent questions of a period, as GET /api/admin/frequent-questions lists them, as a CSV download",
  description: csvDescription("questions"),
  responses: {
    "200": adminCsv(
      "questions",
      "\uFEFFquestion,example,asked,ratings.up,ratings.down,rated_up_share,rated_down_share\r\n" +
        "what is the zmp,What is the ZMP?,14,5,2,0.357,0.143\r\n",
    ),
  },
}));

const exportCitedSourcesDoc = describeRoute(() => ({
  operationId: "exportCitedSources",
  tags: ["admin"],
  summary: "The sources cited in a period, as GET /api/admin/sources lists them, as a CSV download",
  description: csvDescription("sources"),
  responses: {
    "200": adminCsv("sources", "\uFEFFtitle,url,answers\r\nChapter 3: Balance,https://book.example/ch3,14\r\n"),
  },
}));

/** The collection the passages never cited are listed from; null with no Qdrant configured. */
function retrievalOf(env: AppEnv["Bindings"]): RetrievalConfig | null {
  const answer = readConfig(env).answer;
  return answer.kind === "rag" ? answer.retrieval : null;
}

export const adminRoutes = new Hono<AppEnv>()
  .get("/sessions", listAdminSessionsDoc, validate("query", adminSessionsQuerySchema), async (c) => {
    const page = await sessionsList.page(c.var.db, c.req.valid("query"));
    return c.json({ sessions: page.rows, next_cursor: page.nextCursor }, 200);
  })
  .get("/sessions.csv", exportSessionsDoc, validate("query", adminSessionsQuerySchema), (c) =>
    csvDownload(c, sessionsList, c.req.valid("query")),
  )
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
    const page = await searchList.page(c.var.db, c.req.valid("query"));
    return c.json({ hits: page.rows, next_cursor: page.nextCursor }, 200);
  })
  .get("/search.csv", exportSearchDoc, validate("query", adminSearchQuerySchema), (c) =>
    csvDownload(c, searchList, c.req.valid("query")),
  )
  .get("/stats", readStatsDoc, validate("query", adminStatsQuerySchema), async (c) => {
    const query = c.req.valid("query");
    return c.json(toStats(query, await readStats(c.var.db, query)), 200);
  })
  .get("/gaps", listContentGapsDoc, validate("query", adminContentGapsQuerySchema), async (c) => {
    const query = c.req.valid("query");
    const page = await contentGapsList.page(c.var.db, query);
    return c.json(
      {
        from: query.from.toISOString(),
        to: query.to.toISOString(),
        below: query.below ?? contentGapScore,
        counted_from: page.countedFrom.toISOString(),
        gaps: page.rows,
        next_cursor: page.nextCursor,
      },
      200,
    );
  })
  .get("/gaps.csv", exportContentGapsDoc, validate("query", adminContentGapsQuerySchema), (c) =>
    csvDownload(c, contentGapsList, c.req.valid("query")),
  )
  .get("/rated-down", listRatedDownDoc, validate("query", adminRatedDownQuerySchema), async (c) => {
    const page = await ratedDownList.page(c.var.db, c.req.valid("query"));
    return c.json({ answers: page.rows, next_cursor: page.nextCursor }, 200);
  })
  .get("/rated-down.csv", exportRatedDownDoc, validate("query", adminRatedDownQuerySchema), (c) =>
    csvDownload(c, ratedDownList, c.req.valid("query")),
  )
  .get(
    "/frequent-questions",
    listFrequentQuestionsDoc,
    validate("query", adminFrequentQuestionsQuerySchema),
    async (c) => {
      const query = c.req.valid("query");
      const page = await frequentQuestionsList.page(c.var.db, query);
      return c.json(
        {
          from: query.from.toISOString(),
          to: query.to.toISOString(),
          questions: page.rows,
          next_cursor: page.nextCursor,
        },
        200,
      );
    },
  )
  .get(
    "/frequent-questions.csv",
    exportFrequentQuestionsDoc,
    validate("query", adminFrequentQuestionsQuerySchema),
    (c) => csvDownload(c, frequentQuestionsList, c.req.valid("query")),
  )
  .get("/sources", listCitedSourcesDoc, validate("query", adminSourcesQuerySchema), async (c) => {
    const query = c.req.valid("query");
    const page = await citedSourcesList.page(c.var.db, query);
    return c.json(
      {
        from: query.from.toISOString(),
        to: query.to.toISOString(),
        sources: page.rows,
        next_cursor: page.nextCursor,
      },
      200,
    );
  })
  .get("/sources.csv", exportCitedSourcesDoc, validate("query", adminSourcesQuerySchema), (c) =>
    csvDownload(c, citedSourcesList, c.req.valid("query")),
  )
  .get("/sources/uncited", listUncitedPassagesDoc, validate("query", adminUncitedPassagesQuerySchema), async (c) => {
    const query = c.req.valid("query");
    const retrieval = retrievalOf(c.env);
    const page = await readUncitedPassages(c.var.db, retrieval, query);
    return c.json(
      {
        from: query.from.toISOString(),
        to: query.to.toISOString(),
        collection: retrieval?.collection ?? null,
        looked_at: page.lookedAt,
        passages: page.rows,
        next_cursor: page.nextCursor,
      },
      200,
    );
  })
  .get("/sources/uncited.csv", exportUncitedPassagesDoc, validate("query", adminUncitedPassagesQuerySchema), (c) =>
    csvDownload(c, uncitedPassagesList(retrievalOf(c.env)), c.req.valid("query")),
  );
