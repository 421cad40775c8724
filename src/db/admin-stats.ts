/**
 * The admin statistics (GET /api/admin/stats, docs/api.md §13.5): a fold of the range's marked
 * hours, then one statement over the range's hourly rollups, per bucket and for the whole range;
 * readStats says what each figure counts, and drizzle/0008 how each rollup is computed.
 */
import { type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type { Database } from "./client";
import { placeholder } from "./fragments";
import {
  chatMessages,
  statsDayBins,
  statsDays,
  statsDayValues,
  statsHourBins,
  statsHourReaders,
  statsHourSources,
  statsHours,
  statsHourValues,
} from "./schema";
import { statement } from "./statement";
import { foldStats } from "./stats-fold";

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
  // [wholeFrom, wholeTo): the range's whole hours, read from the rollups; the slices before and
  // after it (less than an hour each) are computed from their rows. [dayFrom, dayTo): the whole
  // days among them, whose latencies and token counts are read from the daily histograms when
  // the buckets are days (empty otherwise). See readStats.
  const wholeFrom = sql`${placeholder("wholeFrom")}::timestamptz`;
  const wholeTo = sql`${placeholder("wholeTo")}::timestamptz`;
  const dayFrom = sql`${placeholder("dayFrom")}::timestamptz`;
  const dayTo = sql`${placeholder("dayTo")}::timestamptz`;
  const unit = sql`${placeholder("unit")}::text`;
  const step = sql`${placeholder("step")}::interval`;
  const bucketOf = (time: SQL) => sql`date_trunc(${unit}, ${time}, 'UTC')`;
  const wholeHour = (hour: PgColumn) => sql`${hour} >= ${wholeFrom} and ${hour} < ${wholeTo}`;
  const inWholeDays = (hour: PgColumn) => sql`${hour} >= ${dayFrom} and ${hour} < ${dayTo}`;
  const stats = db.$with("stats", statsColumns).as(sql`
    with
      slices as materialized (
        select lo, hi from (values (${from}, ${wholeFrom}), (${wholeTo}, ${to})) as slice (lo, hi) where lo < hi
      ),
      counted as (
        select ${bucketOf(sql`${statsHours.hour}`)} as bucket, ${statsHours.sessions} as sessions,
          ${statsHours.importedSessions} as imported_sessions, ${statsHours.importedMessages} as imported_messages,
          ${statsHours.questions} as questions, ${statsHours.complete} as complete, ${statsHours.incomplete} as incomplete,
          ${statsHours.unanswered} as unanswered, ${statsHours.cutShort} as cut_short, ${statsHours.tokens} as tokens,
          ${statsHours.up} as up, ${statsHours.down} as down
        from ${statsHours} where ${wholeHour(statsHours.hour)}
        union all
        select ${bucketOf(sql`slices.lo`)}, c.sessions, c.imported_sessions, c.imported_messages, c.questions,
          c.complete, c.incomplete, c.unanswered, c.cut_short, c.tokens, c.up, c.down
        from slices cross join lateral stats_window_counts(slices.lo, slices.hi) as c
      ),
      count_stats as (
        select coalesce(bucket, '-infinity') as bucket, sum(sessions) as sessions,
          sum(imported_sessions) as imported_sessions, sum(imported_messages) as imported_messages,
          sum(questions) as questions, sum(complete) as complete, sum(incomplete) as incomplete,
          sum(unanswered) as unanswered, sum(cut_short) as cut_short, sum(tokens) as tokens,
          sum(up) as up, sum(down) as down
        from counted
        group by grouping sets ((bucket), ())
      ),
      reader_stats as (
        select coalesce(bucket, '-infinity') as bucket, count(distinct reader_id) as readers
        from (
          select ${bucketOf(sql`${statsHourReaders.hour}`)} as bucket, ${statsHourReaders.readerId} as reader_id
          from ${statsHourReaders} where ${wholeHour(statsHourReaders.hour)}
          union all
          select ${bucketOf(sql`slices.lo`)}, r.reader_id
          from slices cross join lateral stats_window_readers(slices.lo, slices.hi) as r
        ) asked
        group by grouping sets ((bucket), ())
      ),
      -- The percentiles. A whole bucket (a whole day by day, a whole hour by hour) reads its own,
      -- which the fold computed. The others, and the whole range's, exactly as percentile_cont
      -- computes them over their values: the position p * (N - 1), and the values at its floor
      -- and ceiling ranks, interpolated. Each rank's bin is found from the bins' counts (per day
      -- for whole days, else per hour, or from the rows); then its value among that bin's values.
      whole_percentiles as (
        select ${statsDays.day} as bucket, ${statsDays.latencyP50} as latency_p50, ${statsDays.latencyP95} as latency_p95,
          ${statsDays.tokensP50} as tokens_p50, ${statsDays.tokensP95} as tokens_p95
        from ${statsDays} where ${inWholeDays(statsDays.day)}
        union all
        select ${statsHours.hour}, ${statsHours.latencyP50}, ${statsHours.latencyP95}, ${statsHours.tokensP50}, ${statsHours.tokensP95}
        from ${statsHours} where ${unit} = 'hour' and ${wholeHour(statsHours.hour)}
      ),
      slice_values as materialized (
        select ${bucketOf(sql`slices.lo`)} as bucket, v.measure, v.value, v.n, stats_value_bin(v.value) as bin
        from slices cross join lateral stats_window_values(slices.lo, slices.hi) as v
      ),
      bin_rows as materialized (
        select ${statsDayBins.day} as bucket, true as whole, ${statsDayBins.measure} as measure, ${statsDayBins.bin} as bin,
          ${statsDayBins.n} as n
        from ${statsDayBins} where ${inWholeDays(statsDayBins.day)}
        union all
        select ${bucketOf(sql`${statsHourBins.hour}`)}, ${unit} = 'hour', ${statsHourBins.measure}, ${statsHourBins.bin},
          ${statsHourBins.n}
        from ${statsHourBins} where ${wholeHour(statsHourBins.hour)} and not (${inWholeDays(statsHourBins.hour)})
        union all
        select bucket, false, measure, bin, n from slice_values
      ),
      bin_counts as (
        select '-infinity'::timestamptz as bucket, measure, bin, sum(n) as n from bin_rows group by measure, bin
        union all
        select bucket, measure, bin, sum(n) from bin_rows where not whole group by bucket, measure, bin
      ),
      ranked_bins as (
        select bucket, measure, bin, n,
          sum(n) over (partition by bucket, measure order by bin) - n as before,
          sum(n) over (partition by bucket, measure) as total
        from bin_counts
      ),
      targets as (
        select ranked_bins.bucket, ranked_bins.measure, fractions.fraction, positions.position, ranks.which,
          ranked_bins.bin, ranks.rank - ranked_bins.before as rank_in_bin,
          case when ranked_bins.bucket = '-infinity' then '-infinity' else ranked_bins.bucket end as lo,
          case when ranked_bins.bucket = '-infinity' then 'infinity' else ranked_bins.bucket + ${step} end as hi
        from ranked_bins
        cross join (values (0.5::float8), (0.95::float8)) as fractions (fraction)
        cross join lateral (select fractions.fraction * (ranked_bins.total - 1)::float8 as position) as positions
        cross join lateral (values ('first', floor(positions.position)::bigint), ('second', ceil(positions.position)::bigint))
          as ranks (which, rank)
        where ranks.rank >= ranked_bins.before and ranks.rank < ranked_bins.before + ranked_bins.n
      ),
      wanted as (select distinct bucket, measure, bin, lo, hi from targets),
      bin_values as (
        select wanted.bucket, wanted.measure, wanted.bin, found.value,
          sum(sum(found.n)) over (partition by wanted.bucket, wanted.measure, wanted.bin order by found.value) - sum(found.n) as before,
          sum(found.n) as n
        from wanted cross join lateral (
          select ${statsDayValues.value} as value, ${statsDayValues.n} as n from ${statsDayValues}
          where ${statsDayValues.measure} = wanted.measure and ${statsDayValues.bin} = wanted.bin
            and ${statsDayValues.day} >= greatest(${dayFrom}, wanted.lo) and ${statsDayValues.day} < least(${dayTo}, wanted.hi)
          union all
          -- The whole hours outside the whole days: before them, and after them.
          select ${statsHourValues.value}, ${statsHourValues.n} from ${statsHourValues}
          where ${statsHourValues.measure} = wanted.measure and ${statsHourValues.bin} = wanted.bin
            and ${statsHourValues.hour} >= greatest(${wholeFrom}, wanted.lo) and ${statsHourValues.hour} < least(${dayFrom}, wanted.hi)
          union all
          select ${statsHourValues.value}, ${statsHourValues.n} from ${statsHourValues}
          where ${statsHourValues.measure} = wanted.measure and ${statsHourValues.bin} = wanted.bin
            and ${statsHourValues.hour} >= greatest(${dayTo}, wanted.lo) and ${statsHourValues.hour} < least(${wholeTo}, wanted.hi)
          union all
          select slice_values.value, slice_values.n from slice_values
          where slice_values.measure = wanted.measure and slice_values.bin = wanted.bin
            and (wanted.bucket = '-infinity' or slice_values.bucket = wanted.bucket)
        ) as found
        group by wanted.bucket, wanted.measure, wanted.bin, found.value
      ),
      ranked_values as (
        select targets.bucket, targets.measure, targets.fraction, targets.position, targets.which, bin_values.value
        from targets join bin_values on bin_values.bucket = targets.bucket and bin_values.measure = targets.measure
          and bin_values.bin = targets.bin
          and targets.rank_in_bin >= bin_values.before and targets.rank_in_bin < bin_values.before + bin_values.n
      ),
      percentiles as (
        select bucket, measure, fraction,
          case when ceil(position) > floor(position)
            then first + (position - floor(position)) * (second - first) else first end as value
        from (
          select bucket, measure, fraction, position,
            min(value) filter (where which = 'first') as first, min(value) filter (where which = 'second') as second
          from ranked_values group by bucket, measure, fraction, position
        ) neighbours
      ),
      percentile_stats as (
        select bucket,
          min(value) filter (where measure = 'latency' and fraction = 0.5) as latency_p50,
          min(value) filter (where measure = 'latency' and fraction = 0.95) as latency_p95,
          min(value) filter (where measure = 'tokens' and fraction = 0.5) as tokens_p50,
          min(value) filter (where measure = 'tokens' and fraction = 0.95) as tokens_p95
        from percentiles group by bucket
        union all
        select * from whole_percentiles
      ),
      cited as (
        select title, url, sum(answers)::int as answers
        from (
          select ${statsHourSources.title} as title, ${statsHourSources.url} as url, ${statsHourSources.answers} as answers
          from ${statsHourSources} where ${wholeHour(statsHourSources.hour)}
          union all
          select s.title, s.url, s.answers from slices cross join lateral stats_window_sources(slices.lo, slices.hi) as s
        ) sourced
        group by 1, 2
        order by 3 desc, 1, 2
        limit ${placeholder("topSources")}
      ),
      buckets as (
        select generate_series(date_trunc(${unit}, ${from}, 'UTC'), ${to} - interval '1 millisecond', ${step}) as bucket
        union all
        select '-infinity'
      )
    select nullif(buckets.bucket, '-infinity') as bucket,
      coalesce(count_stats.sessions, 0) as sessions,
      coalesce(count_stats.imported_sessions, 0) as imported_sessions,
      coalesce(count_stats.imported_messages, 0) as imported_messages,
      coalesce(count_stats.questions, 0) as questions,
      coalesce(reader_stats.readers, 0) as readers,
      coalesce(count_stats.complete, 0) as complete,
      coalesce(count_stats.incomplete, 0) as incomplete,
      coalesce(count_stats.unanswered, 0) as unanswered,
      coalesce(count_stats.cut_short, 0) as cut_short,
      percentile_stats.latency_p50, percentile_stats.latency_p95,
      count_stats.tokens, percentile_stats.tokens_p50, percentile_stats.tokens_p95,
      coalesce(count_stats.up, 0) as up,
      coalesce(count_stats.down, 0) as down,
      case when buckets.bucket = '-infinity'
        then (select coalesce(json_agg(cited), '[]'::json) from cited) end as top_sources
    from buckets
    left join count_stats on count_stats.bucket = buckets.bucket
    left join reader_stats on reader_stats.bucket = buckets.bucket
    left join percentile_stats on percentile_stats.bucket = buckets.bucket`);
  return db.with(stats).select().from(stats).orderBy(sql`${stats.bucket} nulls last`);
});

const hourMs = 3_600_000;
const dayMs = 86_400_000;
const floorTo = (time: Date, unitMs: number) => new Date(Math.floor(time.getTime() / unitMs) * unitMs);
const ceilTo = (time: Date, unitMs: number) => new Date(Math.ceil(time.getTime() / unitMs) * unitMs);
const earliest = (a: Date, b: Date) => (a < b ? a : b);
const latest = (a: Date, b: Date) => (a > b ? a : b);

/**
 * How readStats splits [from, to): the whole hours [wholeFrom, wholeTo) it reads from the
 * rollups, less than an hour on each side computed from the rows, and among the whole hours the
 * whole days [dayFrom, dayTo) whose histograms are read per day (day buckets only; else empty).
 */
function rangeParts(query: StatsQuery) {
  const wholeFrom = earliest(ceilTo(query.from, hourMs), query.to);
  const wholeTo = latest(floorTo(query.to, hourMs), wholeFrom);
  const dayFrom = ceilTo(wholeFrom, dayMs);
  const dayTo = floorTo(wholeTo, dayMs);
  const days = query.bucket === "day" && dayFrom < dayTo;
  return { wholeFrom, wholeTo, dayFrom: days ? dayFrom : wholeFrom, dayTo: days ? dayTo : wholeFrom };
}

/**
 * The admin statistics of a time range (docs/api.md §13.5), per day or hour (UTC) and for the
 * whole range. First the range's marked hours are folded (db/stats-fold.ts, its own statement),
 * so the rollups hold exactly what the rows do as the second statement starts. That statement
 * reads the range's whole hours from the rollups (stats_hours, stats_hour_readers,
 * stats_hour_sources; the latencies' and token counts' histograms per day and per hour), and
 * computes what falls in the less than an hour before the first whole hour and after the last
 * from the rows, with the same stats_window_* functions that compute the rollups: its cost is
 * the range's hours and buckets, not its messages. A SQL template, because generate_series,
 * grouping sets and window functions have no form in Drizzle's builder; tables and columns are
 * still named through the schema's objects.
 *
 * What each figure counts (drizzle/0008's stats_window_* functions write it out in SQL):
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
  const { wholeFrom, wholeTo, dayFrom, dayTo } = rangeParts(query);
  await foldStats(db, { from: wholeFrom, to: wholeTo });
  return statsStatement(db).execute({
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    wholeFrom: wholeFrom.toISOString(),
    wholeTo: wholeTo.toISOString(),
    dayFrom: dayFrom.toISOString(),
    dayTo: dayTo.toISOString(),
    unit: query.bucket,
    step: query.bucket === "day" ? "24 hours" : "1 hour",
    topSources: query.topSources,
  });
}
