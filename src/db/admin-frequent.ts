/**
 * The frequent questions (GET /api/admin/frequent-questions, docs/api.md §13.9): the questions
 * asked most often in a period, added up from the hourly rollup of questions that the statistics
 * keep (stats_hour_questions), one statement after the rollup is brought up to date.
 */
import { sql } from "drizzle-orm";
import type { Database } from "./client";
import { placeholder } from "./fragments";
import { fieldBytes } from "./pages";
import { type RankedCursor, type RankedQuery, rankedPage, rankedPageColumns, readRankedPage } from "./ranked";
import { statsHourQuestions } from "./schema";
import { statement } from "./statement";

export type FrequentQuestionsQuery = RankedQuery;

/** A question as normalized_question() writes it, with its figures over the period. */
export type FrequentQuestionRow = {
  question: string;
  asked: number;
  up: number;
  down: number;
  /** One of the wordings it was asked in. */
  example: string;
  /** Its position in the list, for the cursor (schemas/cursor.ts). */
  rank: RankedCursor;
  pageBytes: number;
};

const frequentStatement = statement("admin_frequent_questions", (db) => {
  const q = statsHourQuestions;
  const grouped = sql`
    select ${q.question} as question, sum(${q.asked})::int as count, sum(${q.up})::int as up,
      sum(${q.down})::int as down, min(${q.example}) as example,
      ${q.question} as name, ${q.question} as identity,
      ${fieldBytes} + octet_length(${q.question}) + octet_length(min(${q.example})) as size
    from ${q}
    where ${q.hour} >= ${placeholder("from")}::timestamptz and ${q.hour} < ${placeholder("to")}::timestamptz
    group by ${q.question}
    having sum(${q.asked}) > 0`;
  const page = db
    .$with("page", {
      question: sql<string>`question`.as("question"),
      up: sql<number>`up`.as("up"),
      down: sql<number>`down`.as("down"),
      example: sql<string>`example`.as("example"),
      ...rankedPageColumns,
    })
    .as(rankedPage(grouped));
  return db.with(page).select().from(page).orderBy(sql`count desc, rank_prefix, rank_hash`);
});

/**
 * One page of the period's questions, most asked first, with one more to tell whether more follow,
 * cut short before 1 MiB. Two statements: the fold that brings the rollup up to date
 * (db/stats-fold.ts), then the read, which costs the rollup rows of the period (about the
 * distinct questions of each of its hours) whatever the page.
 */
export async function listFrequentQuestions(
  db: Database,
  query: FrequentQuestionsQuery,
): Promise<FrequentQuestionRow[]> {
  const rows = await readRankedPage(db, frequentStatement, query);
  return rows.map(({ count, ...row }) => ({ ...row, asked: count }));
}
