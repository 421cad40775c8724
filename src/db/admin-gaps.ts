/**
 * The content gaps (docs/api.md §13.7): the questions the book did not answer well, being the
 * answers whose retrieval found no passage, or none scoring contentGapScore (schema.ts), grouped by
 * normalized_question() (migration 0006) so that a question asked again is one row. One statement.
 */
import { desc, sql } from "drizzle-orm";
import type { Database } from "./client";
import { placeholder } from "./fragments";
import { fieldBytes, maxPageBytes, type Sized } from "./pages";
import { chatMessages, chatSessions, contentGap } from "./schema";
import { statement } from "./statement";

/**
 * At most this many gaps, the newest of the period, are read and grouped: each costs two rows
 * read at random (the answer, its question), about 0.03 ms warm and 0.07 ms cold on 1,000,000
 * messages (docs/api.md §13.7), so a request stays well within the statement_timeout whatever
 * the period holds. A period with more says from when its counts start (countedFrom).
 */
export const maxGapsRead = 5000;

export type ContentGapsQuery = {
  /** Gaps answered at or after this time. */
  from: Date;
  /** Gaps answered before this time. */
  to: Date;
  /** Only gaps whose best passage scores under this (at most contentGapScore); null: contentGapScore. */
  below: number | null;
  /** Only groups after this one in the list's order (latest answer's time, then its id, both descending). */
  after: { at: Date; id: number } | null;
  limit: number;
};

/** A question that recurred as a gap in the period: its newest wording, and its newest gap. */
export type ContentGapRow = Sized<{
  /** The question as it was last asked in the period. */
  question: string;
  /** How many answers in the period were gaps for this question (normalized_question). */
  asked: number;
  /** The best passage score of all those answers; null: none of them cited any passage. */
  bestScore: number | null;
  /** The newest of those answers, its question and its session. */
  answerId: number;
  questionId: number;
  answeredAt: Date;
  sessionUuid: string;
  /** The period's start, or, when it held more than maxGapsRead gaps, the oldest gap read. */
  countedFrom: Date;
}>;

const gapColumns = {
  question: sql<string>`question`.as("question"),
  asked: sql<number>`asked`.as("asked"),
  bestScore: sql<number | null>`best_score`.as("best_score"),
  answerId: sql<number>`answer_id`.mapWith(Number).as("answer_id"),
  questionId: sql<number>`question_id`.mapWith(Number).as("question_id"),
  answeredAt: sql<Date>`answered_at`.mapWith(chatMessages.timestamp).as("answered_at"),
  sessionUuid: sql<string>`session_uuid`.as("session_uuid"),
  countedFrom: sql<Date>`counted_from`.mapWith(chatMessages.timestamp).as("counted_from"),
  pageBytes: sql<number>`page_bytes`.mapWith(Number).as("page_bytes"),
};

const contentGapsStatement = statement("admin_content_gaps", (db) => {
  const answer = chatMessages;
  const from = sql`${placeholder("from")}::timestamptz`;
  const to = sql`${placeholder("to")}::timestamptz`;
  const below = sql`${placeholder("below")}::double precision`;
  const afterId = sql`${placeholder("afterId")}::bigint`;
  // `read_gaps` reads chat_messages_content_gaps_idx backwards, whose predicate is contentGap() word
  // for word: only the gaps in the period, newest first, each with its question's key, and at
  // most maxGapsRead of them. The groups need every gap they count (a question's count and best
  // score), so the work is the gaps read, and the page is cut from the groups after that; the
  // cursor is the newest gap of the page's last group, which no later page can change.
  const rows = db.$with("content_gaps", gapColumns).as(sql`
    with read_gaps as materialized (
      select ${answer.id} as answer_id, ${answer.timestamp} as answered_at,
        best_source_score(${answer.sources}) as best_score,
        normalized_question((select question.message from ${chatMessages} as question where question.id = ${answer.replyToId})) as question_key
      from ${chatMessages}
      where ${contentGap(answer)}
        and ${answer.timestamp} >= ${from} and ${answer.timestamp} < ${to}
        and (${below} is null or coalesce(best_source_score(${answer.sources}), 0) < ${below})
      order by ${answer.timestamp} desc, ${answer.id} desc
      limit ${placeholder("maxGaps")}::int + 1
    ),
    gaps as (
      select * from read_gaps order by answered_at desc, answer_id desc limit ${placeholder("maxGaps")}
    ),
    -- Where the counts start: the period's start, or the oldest gap read when there were more.
    counted as (
      select case when (select count(*) from read_gaps) > ${placeholder("maxGaps")}::int
        then (select min(answered_at) from gaps) else ${from} end as counted_from
    ),
    groups as (
      select count(*)::int as asked, max(best_score) as best_score,
        (array_agg(answer_id order by answered_at desc, answer_id desc))[1] as answer_id,
        max(answered_at) as answered_at
      from gaps
      group by question_key
    ),
    -- The page's groups first, and only then their question and session: a join before the limit
    -- would read them for every group of the period.
    newest as (
      select * from groups
      where ${afterId} is null or (answered_at, answer_id) < (${placeholder("afterAt")}::timestamptz, ${afterId})
      order by answered_at desc, answer_id desc
      limit ${placeholder("limit")}
    ),
    page as (
      select newest.*, question.id as question_id, question.message as question, ${chatSessions.sessionUuid} as session_uuid
      from newest
      join ${chatMessages} as latest on latest.id = newest.answer_id
      join ${chatMessages} as question on question.id = latest.reply_to_id
      join ${chatSessions} on ${chatSessions.id} = latest.session_id
    ),
    -- A question can be long: the page is cut by size as a history's is (pages.ts).
    sized as (
      select page.*, ${fieldBytes} + octet_length(question) as size,
        sum(${fieldBytes} + octet_length(question)) over newest_first as page_bytes,
        row_number() over newest_first as place
      from page
      window newest_first as (order by answered_at desc, answer_id desc)
    )
    select question, asked, best_score, answer_id, question_id, answered_at, session_uuid, counted_from, page_bytes
    from sized, counted
    where place <= 2 or page_bytes - size <= ${placeholder("maxBytes")}`);
  return db.with(rows).select().from(rows).orderBy(desc(rows.answeredAt), desc(rows.answerId));
});

/**
 * One page of content gaps, newest gap first, with one more to tell whether more follow, cut
 * short by size. Costs the gaps of the period (the partial index holds nothing else), at most
 * maxGapsRead of them, not its messages; docs/api.md §13.7 has the figures.
 */
export async function listContentGaps(db: Database, query: ContentGapsQuery): Promise<ContentGapRow[]> {
  return contentGapsStatement(db).execute({
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    below: query.below,
    afterAt: query.after?.at.toISOString() ?? null,
    afterId: query.after?.id ?? null,
    limit: query.limit + 1,
    maxGaps: maxGapsRead,
    maxBytes: maxPageBytes,
  });
}
