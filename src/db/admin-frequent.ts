/**
 * The frequent questions (GET /api/admin/frequent-questions, docs/api.md §13.9): the questions
 * asked most often in a period: for the admin page's periods, from the questions the fold keeps
 * counted (stats_period_questions); for any other, added up from the hourly rollup of questions
 * that the statistics keep (stats_hour_questions). One statement after the rollups are brought up
 * to date.
 */
import { type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type { Database } from "./client";
import { placeholder } from "./fragments";
import { fieldBytes } from "./pages";
import { type RankedCursor, type RankedQuery, rankedPage, rankedPageColumns, rankedRows } from "./ranked";
import { questionKey, statsHourQuestions, statsHours, statsPeriodQuestions } from "./schema";
import { type Blueprints, statement } from "./statement";

export type FrequentQuestionsQuery = RankedQuery;

/** A question as normalized_question() writes it, with its figures over the period. */
export type FrequentQuestionRow = {
  question: string;
  asked: number;
  up: number;
  down: number;
  /** The newest wording it was asked in during the period. */
  example: string;
  /** Its position in the list, for the cursor (schemas/cursor.ts). */
  rank: RankedCursor;
  pageBytes: number;
};

/** The columns of a page of questions, whichever rows it is read from. */
const frequentPage = (db: Blueprints, grouped: SQL) =>
  db
    .$with("page", {
      question: sql<string>`question`.as("question"),
      up: sql<number>`up`.as("up"),
      down: sql<number>`down`.as("down"),
      example: sql<string>`example`.as("example"),
      ...rankedPageColumns,
    })
    .as(rankedPage(grouped));

const ofPeriod = (hour: PgColumn) =>
  sql`${hour} >= ${placeholder("from")}::timestamptz and ${hour} < ${placeholder("to")}::timestamptz`;

/** Any period: its hourly rows, grouped by question. */
const addedUpStatement = statement("admin_frequent_questions", (db) => {
  const q = statsHourQuestions;
  // Each hour keeps its newest wording: the newest hour's is the period's.
  const newestExample = sql`(array_agg(${q.example} order by ${q.hour} desc))[1]`;
  const grouped = sql`
    select ${q.question} as question, sum(${q.asked})::int as count, sum(${q.up})::int as up,
      sum(${q.down})::int as down, ${newestExample} as example,
      ${q.question} as name, ${q.question} as identity,
      ${fieldBytes} + octet_length(${q.question}) + octet_length(${newestExample}) as size
    from ${q}
    where ${ofPeriod(q.hour)}
    group by ${q.question}
    having sum(${q.asked}) > 0`;
  const page = frequentPage(db, grouped);
  return db.with(page).select().from(page).orderBy(sql`count desc, rank_prefix, rank_hash`);
});

/**
 * A kept period (placeholder `days`): its counted questions, read in the order of their index, and
 * for each question of the page alone, its newest wording: the period's newest hourly row of it,
 * found through stats_hour_questions_question_idx (the plan may read that question's hours of the
 * period and keep the newest: 26 rows a question for 90 days at 3,000,000 messages).
 */
const keptStatement = statement("admin_frequent_questions_kept", (db) => {
  const p = statsPeriodQuestions;
  const h = statsHourQuestions;
  const grouped = sql`
    select ${p.question} as question, ${p.asked} as count, ${p.up} as up, ${p.down} as down, worded.example,
      ${p.question} as name, ${p.question} as identity,
      ${fieldBytes} + octet_length(${p.question}) + octet_length(worded.example) as size
    from ${p}
    cross join lateral (
      select ${h.example} as example from ${h}
      where ${questionKey(h.question)} = ${questionKey(p.question)} and ${h.question} = ${p.question} and ${ofPeriod(h.hour)}
      order by ${questionKey(h.question)} desc, ${h.hour} desc
      limit 1
    ) worded
    where ${p.days} = ${placeholder("days")}::int and ${p.asked} > 0`;
  const page = frequentPage(db, grouped);
  return db.with(page).select().from(page).orderBy(sql`count desc, rank_prefix, rank_hash`);
});

/**
 * The most questions (as the statistics count them, stats_hours.questions) a period that is not kept
 * may hold: adding one up costs its hourly rows, at most one a question, about 2 µs each (95,000
 * took p50 200 ms, p95 238 and 310 ms in two runs at 1,000,000 messages, docs/benchmarks.md), so
 * half that keeps the read well inside the admin reads' 300 ms, and far from the statement_timeout,
 * at any size.
 */
export const addedUpQuestionsLimit = 50_000;

/**
 * Folds the period's marked hours, having moved the kept periods to the end of the current hour
 * (drizzle/0010), and names the kept period that the query's is, if any; if none, how many
 * questions the period holds (the subquery runs only then). That count is read in the statement's
 * snapshot, taken before its fold: as of the previous fold (the Cron's, at most a minute before),
 * which is close enough for a bound.
 */
const periodQuestions = sql`(select coalesce(sum(${statsHours.questions}), 0) from ${statsHours}
  where ${ofPeriod(statsHours.hour)})`;
const foldForPeriodStatement = statement("stats_fold_for_period", (db) =>
  db
    .select({
      days: sql<number | null>`days`,
      questions: sql<number | null>`case when days is null then ${periodQuestions} end`.mapWith(Number),
    })
    .from(sql`stats_fold_for_period(${placeholder("from")}::timestamptz, ${placeholder("to")}::timestamptz) as days`),
);

/** A period not kept that holds more than addedUpQuestionsLimit questions: how many it holds. */
export class PeriodTooLarge extends Error {
  constructor(readonly questions: number) {
    super(
      `the period holds ${questions} questions, over the ${addedUpQuestionsLimit} a period not kept is added up to`,
    );
    this.name = "PeriodTooLarge";
  }
}

/**
 * One page of the period's questions, most asked first, with one more to tell whether more follow,
 * cut short before 1 MiB. Two statements: the fold that brings the rollups up to date, then the
 * read. For the periods the admin page offers (the last 7, 30, 90 or 365 days up to the end of
 * this hour) the read costs its page's rows, from the questions the fold keeps counted; for any
 * other, the rollup rows of the period (about the distinct questions of each of its hours), which
 * is refused (PeriodTooLarge) past addedUpQuestionsLimit questions.
 */
export async function listFrequentQuestions(
  db: Database,
  query: FrequentQuestionsQuery,
): Promise<FrequentQuestionRow[]> {
  const [period] = await foldForPeriodStatement(db).execute({
    from: query.from.toISOString(),
    to: query.to.toISOString(),
  });
  const days = period?.days ?? null;
  const questions = period?.questions ?? 0;
  if (days === null && questions > addedUpQuestionsLimit) throw new PeriodTooLarge(questions);
  const rows =
    days === null
      ? await rankedRows(db, addedUpStatement, query)
      : await rankedRows(db, keptStatement, query, { days });
  return rows.map(({ count, ...row }) => ({ ...row, asked: count }));
}
