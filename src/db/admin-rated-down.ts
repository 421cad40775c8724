/**
 * The answers readers rated down (docs/api.md §13.8), newest rating first, each with its comment,
 * its question and the passages it cited. One statement, read from chat_messages_rated_down_idx
 * (migration 0009), which holds the "down" ratings only: a page costs its own rows.
 */
import { and, desc, eq, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Source } from "../conversation";
import type { Database } from "./client";
import { importedMessage, placeholder } from "./fragments";
import { fieldBytes, maxPageBytes, type Sized } from "./pages";
import { chatMessages, chatSessions } from "./schema";
import { statement } from "./statement";

export type RatedDownQuery = {
  /** Ratings given at or after this time; null: from the first. */
  from: Date | null;
  /** Ratings given before this time; null: up to now. */
  to: Date | null;
  /** Only ratings after this one in the list's order (when given, then the answer's id, both descending). */
  after: { at: Date; id: number } | null;
  limit: number;
};

export type RatedDownRow = Sized<{
  answerId: number;
  answerSeq: number;
  answer: string;
  answeredAt: Date;
  sources: Source[];
  ratedAt: Date;
  comment: string | null;
  questionId: number;
  question: string;
  sessionUuid: string;
  /** Brought by POST /api/sessions/import: rated elsewhere. */
  imported: boolean;
}>;

const question = alias(chatMessages, "question");

const ratedDownStatement = statement("admin_rated_down", (db) => {
  const answer = chatMessages;
  const from = sql`${placeholder("from")}::timestamptz`;
  const to = sql`${placeholder("to")}::timestamptz`;
  const afterId = sql`${placeholder("afterId")}::bigint`;
  // What the page's rows weigh (pages.ts): both texts, the sources and the comment.
  const size = sql`(${fieldBytes} + octet_length(${answer.message}) + octet_length(${question.message})
    + octet_length(${answer.sources}::text) + coalesce(octet_length(${answer.feedbackComment}), 0))`;
  const inOrder = sql`order by ${answer.feedbackAt} desc, ${answer.id} desc`;
  const page = db
    .select({
      answerId: sql<number>`${answer.id}`.mapWith(Number).as("answer_id"),
      answerSeq: sql<number>`${answer.seq}`.as("answer_seq"),
      answer: sql<string>`${answer.message}`.as("answer"),
      answeredAt: sql<Date>`${answer.timestamp}`.mapWith(answer.timestamp).as("answered_at"),
      sources: sql<Source[]>`${answer.sources}`.as("sources"),
      ratedAt: sql<Date>`${answer.feedbackAt}`.mapWith(answer.timestamp).as("rated_at"),
      comment: sql<string | null>`${answer.feedbackComment}`.as("comment"),
      questionId: sql<number>`${question.id}`.mapWith(Number).as("question_id"),
      question: sql<string>`${question.message}`.as("question"),
      sessionUuid: sql<string>`${chatSessions.sessionUuid}`.as("session_uuid"),
      imported: sql<boolean>`${importedMessage(answer)}`.as("imported"),
      size: sql<number>`${size}`.mapWith(Number).as("size"),
      pageBytes: sql<number>`(sum(${size}) over (${inOrder}))::bigint`.mapWith(Number).as("page_bytes"),
      place: sql<number>`row_number() over (${inOrder})`.mapWith(Number).as("place"),
    })
    .from(answer)
    .innerJoin(question, eq(question.id, answer.replyToId))
    .innerJoin(chatSessions, eq(chatSessions.id, answer.sessionId))
    .where(
      and(
        // The predicate of chat_messages_rated_down_idx, which the scan reads backwards.
        sql`${answer.feedbackRating} = 'down'`,
        sql`(${from} is null or ${answer.feedbackAt} >= ${from})`,
        sql`(${to} is null or ${answer.feedbackAt} < ${to})`,
        sql`(${afterId} is null or (${answer.feedbackAt}, ${answer.id}) < (${placeholder("afterAt")}::timestamptz, ${afterId}))`,
      ),
    )
    .orderBy(desc(answer.feedbackAt), desc(answer.id))
    .limit(placeholder("limit"))
    .as("page");
  return db
    .select({
      answerId: page.answerId,
      answerSeq: page.answerSeq,
      answer: page.answer,
      answeredAt: page.answeredAt,
      sources: page.sources,
      ratedAt: page.ratedAt,
      comment: page.comment,
      questionId: page.questionId,
      question: page.question,
      sessionUuid: page.sessionUuid,
      imported: page.imported,
      pageBytes: page.pageBytes,
    })
    .from(page)
    .where(sql`${page.place} <= 2 or ${page.pageBytes} - ${page.size} <= ${placeholder("maxBytes")}`)
    .orderBy(desc(page.ratedAt), desc(page.answerId));
});

/**
 * One page of the answers rated down, newest rating first, with one more to tell whether more
 * follow, cut short by size as a history page is (pages.ts).
 */
export async function listRatedDown(db: Database, query: RatedDownQuery): Promise<RatedDownRow[]> {
  return ratedDownStatement(db).execute({
    from: query.from?.toISOString() ?? null,
    to: query.to?.toISOString() ?? null,
    afterAt: query.after?.at.toISOString() ?? null,
    afterId: query.after?.id ?? null,
    limit: query.limit + 1,
    maxBytes: maxPageBytes,
  });
}
