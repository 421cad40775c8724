/**
 * The admin statistics (GET /api/admin/stats, docs/api.md §13.5): one statement over a time
 * range, per bucket and for the whole range; readStats says what each figure counts.
 */
import { sql } from "drizzle-orm";
import { alias, type PgColumn } from "drizzle-orm/pg-core";
import type { Database } from "./client";
import { importedMessage, placeholder } from "./fragments";
import { chatMessages, chatSessions } from "./schema";
import { statement } from "./statement";

export type StatsQuery = {
  /** Start of the range, inclusive. */
  from: Date;
  /** End of the range, exclusive. */
  to: Date;
  bucket: "day" | "hour";
  topSources: number;
};

export type CitedSource = { title: string | null; url: string | null; answers: number };

/** One bucket's figures, or (bucket null) the whole range's, which also names the most cited sources. */
export type StatsRow = {
  bucket: Date | null;
  sessions: number;
  importedSessions: number;
  importedMessages: number;
  questions: number;
  readers: number;
  complete: number;
  incomplete: number;
  unanswered: number;
  cutShort: number;
  latencyP50: number | null;
  latencyP95: number | null;
  tokens: number | null;
  tokensP50: number | null;
  tokensP95: number | null;
  up: number;
  down: number;
  topSources: CitedSource[] | null;
};

const count = (column: string) => sql<number>`${sql.identifier(column)}`.mapWith(Number).as(column);
const measure = (column: string) => sql<number | null>`${sql.identifier(column)}`.as(column);
const statsColumns = {
  bucket: sql<Date | null>`bucket`.mapWith(chatMessages.timestamp).as("bucket"),
  sessions: count("sessions"),
  importedSessions: count("imported_sessions"),
  importedMessages: count("imported_messages"),
  questions: count("questions"),
  readers: count("readers"),
  complete: count("complete"),
  incomplete: count("incomplete"),
  unanswered: count("unanswered"),
  cutShort: count("cut_short"),
  latencyP50: measure("latency_p50"),
  latencyP95: measure("latency_p95"),
  tokens: measure("tokens"),
  tokensP50: measure("tokens_p50"),
  tokensP95: measure("tokens_p95"),
  up: count("up"),
  down: count("down"),
  topSources: sql<CitedSource[] | null>`top_sources`.as("top_sources"),
};

const statsStatement = statement("admin_stats", (db) => {
  const from = sql`${placeholder("from")}::timestamptz`;
  const to = sql`${placeholder("to")}::timestamptz`;
  const bucketOf = (time: PgColumn) => sql`date_trunc(${placeholder("unit")}::text, ${time}, 'UTC')`;
  const answer = alias(chatMessages, "answer");
  const m = chatMessages;
  const native = sql`not in_range.imported`;
  const stats = db.$with("stats", statsColumns).as(sql`
    with
      in_range as (
        select ${bucketOf(m.timestamp)} as bucket, ${m.sender} as sender, ${m.status} as status,
          ${importedMessage(m)} as imported,
          -- Only a question's reader is counted: its session's, looked up for questions alone.
          case when ${m.sender} = 'user' then (
            select ${chatSessions.readerId} from ${chatSessions} where ${chatSessions.id} = ${m.sessionId}) end as reader_id,
          ${m.sender} = 'user' and not exists (
            select 1 from ${chatMessages} ${answer} where ${answer.replyToId} = ${m.id}) as unanswered,
          coalesce(${m.metadata} ? 'cut_short', false) as cut_short,
          case when jsonb_typeof(${m.metadata} -> 'latency_ms') = 'number'
            then (${m.metadata} ->> 'latency_ms')::float8 end as latency_ms,
          case when jsonb_typeof(${m.metadata} #> '{usage,total_tokens}') = 'number'
            then (${m.metadata} #>> '{usage,total_tokens}')::float8 end as tokens
        from ${chatMessages}
        where ${m.timestamp} >= ${from} and ${m.timestamp} < ${to}
      ),
      message_stats as (
        select coalesce(bucket, '-infinity') as bucket,
          count(*) filter (where sender = 'user' and ${native}) as questions,
          count(distinct reader_id) filter (where sender = 'user' and ${native}) as readers,
          count(*) filter (where sender = 'bot' and ${native} and status = 'complete') as complete,
          count(*) filter (where sender = 'bot' and ${native} and status = 'incomplete') as incomplete,
          count(*) filter (where unanswered and ${native}) as unanswered,
          count(*) filter (where sender = 'bot' and cut_short and ${native}) as cut_short,
          percentile_cont(0.5) within group (order by latency_ms) filter (where sender = 'bot' and ${native}) as latency_p50,
          percentile_cont(0.95) within group (order by latency_ms) filter (where sender = 'bot' and ${native}) as latency_p95,
          sum(tokens) filter (where sender = 'bot' and ${native}) as tokens,
          percentile_cont(0.5) within group (order by tokens) filter (where sender = 'bot' and ${native}) as tokens_p50,
          percentile_cont(0.95) within group (order by tokens) filter (where sender = 'bot' and ${native}) as tokens_p95
        from in_range
        group by grouping sets ((bucket), ())
      ),
      session_stats as (
        select coalesce(bucket, '-infinity') as bucket, count(*) as sessions
        from (
          select ${bucketOf(chatSessions.createdAt)} as bucket
          from ${chatSessions}
          where ${chatSessions.createdAt} >= ${from} and ${chatSessions.createdAt} < ${to}
            and ${chatSessions.importId} is null
        ) created
        group by grouping sets ((bucket), ())
      ),
      import_stats as (
        select coalesce(bucket, '-infinity') as bucket, count(*) as imported_sessions, sum(messages) as imported_messages
        from (
          select ${bucketOf(chatSessions.createdAt)} as bucket,
            (select count(*) from ${chatMessages}
              where ${m.sessionId} = ${chatSessions.id} and ${m.metadata} -> 'imported' = 'true'::jsonb) as messages
          from ${chatSessions}
          where ${chatSessions.createdAt} >= ${from} and ${chatSessions.createdAt} < ${to}
            and ${chatSessions.importId} is not null
        ) imports
        group by grouping sets ((bucket), ())
      ),
      rating_stats as (
        select coalesce(bucket, '-infinity') as bucket,
          count(*) filter (where rating = 'up') as up,
          count(*) filter (where rating = 'down') as down
        from (
          select ${bucketOf(m.feedbackAt)} as bucket, ${m.feedbackRating} as rating
          from ${chatMessages}
          where ${m.feedbackAt} >= ${from} and ${m.feedbackAt} < ${to}
            and not (coalesce(${m.metadata} -> 'imported' = 'true'::jsonb, false) and ${m.feedbackAt} <= (
              select ${chatSessions.createdAt} from ${chatSessions} where ${chatSessions.id} = ${m.sessionId}))
        ) rated
        group by grouping sets ((bucket), ())
      ),
      cited as (
        select source ->> 'title' as title, source ->> 'url' as url, count(distinct ${m.id})::int as answers
        from ${chatMessages} cross join jsonb_array_elements(${m.sources}) as source
        where ${m.timestamp} >= ${from} and ${m.timestamp} < ${to} and ${m.sender} = 'bot'
          and jsonb_typeof(source) = 'object'
          and not ${importedMessage(m)}
        group by 1, 2
        order by 3 desc, 1, 2
        limit ${placeholder("topSources")}
      ),
      buckets as (
        select generate_series(date_trunc(${placeholder("unit")}::text, ${from}, 'UTC'), ${to} - interval '1 millisecond',
          ${placeholder("step")}::interval) as bucket
        union all
        select '-infinity'
      )
    select nullif(buckets.bucket, '-infinity') as bucket,
      coalesce(session_stats.sessions, 0) as sessions,
      coalesce(import_stats.imported_sessions, 0) as imported_sessions,
      coalesce(import_stats.imported_messages, 0) as imported_messages,
      coalesce(message_stats.questions, 0) as questions,
      coalesce(message_stats.readers, 0) as readers,
      coalesce(message_stats.complete, 0) as complete,
      coalesce(message_stats.incomplete, 0) as incomplete,
      coalesce(message_stats.unanswered, 0) as unanswered,
      coalesce(message_stats.cut_short, 0) as cut_short,
      message_stats.latency_p50, message_stats.latency_p95,
      message_stats.tokens, message_stats.tokens_p50, message_stats.tokens_p95,
      coalesce(rating_stats.up, 0) as up,
      coalesce(rating_stats.down, 0) as down,
      case when buckets.bucket = '-infinity'
        then (select coalesce(json_agg(cited), '[]'::json) from cited) end as top_sources
    from buckets
    left join message_stats on message_stats.bucket = buckets.bucket
    left join session_stats on session_stats.bucket = buckets.bucket
    left join import_stats on import_stats.bucket = buckets.bucket
    left join rating_stats on rating_stats.bucket = buckets.bucket`);
  return db.with(stats).select().from(stats).orderBy(sql`${stats.bucket} nulls last`);
});

/**
 * The admin statistics of a time range (docs/api.md §13.5), per day or hour (UTC) and for the
 * whole range, in one statement: one pass over the range's messages (by chat_messages_timestamp_idx)
 * for the questions, the readers who asked them, answers, failures, latencies and tokens; the
 * sessions created in the range;
 * the ratings given in it (by chat_messages_feedback_at_idx); and the sources the range's answers
 * cite. A SQL template, because generate_series, grouping sets and percentile_cont have no form in
 * Drizzle's builder; tables and columns are still named through the schema's objects.
 *
 * Messages marked `metadata.imported` (brought in by POST /api/sessions/import, not asked here) are
 * left out of every message figure, and sessions made by an import out of `sessions`: they are
 * counted apart, by when they were imported (the session's created_at), as imported sessions and
 * the messages each brought in. The ratings an import brought are left out too (importSession
 * dates them no later than the session's created_at); one given here since counts. A failure is a
 * question without an answer
 * (nothing is stored when the model fails before any text; see chat/turn.ts) or an answer cut
 * short (`metadata.cut_short`, status incomplete). `readers` counts the distinct signed-in readers
 * whose sessions hold a question asked in the bucket: a session's reader as it is now, so a
 * session claimed later counts for its reader in the buckets of its earlier questions too.
 */
export async function readStats(db: Database, query: StatsQuery): Promise<StatsRow[]> {
  return statsStatement(db).execute({
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    unit: query.bucket,
    step: query.bucket === "day" ? "24 hours" : "1 hour",
    topSources: query.topSources,
  });
}
