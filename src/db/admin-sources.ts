/**
 * The cited sources (GET /api/admin/sources, docs/api.md §13.10): how many answers of a period
 * cite each source, added up from the hourly rollup the statistics keep (stats_hour_sources), one
 * statement after the rollup is brought up to date.
 */
import { sql } from "drizzle-orm";
import type { Database } from "./client";
import { placeholder } from "./fragments";
import { fieldBytes } from "./pages";
import { type RankedCursor, type RankedQuery, rankedPage, rankedPageColumns, readRankedPage } from "./ranked";
import { statsHourSources } from "./schema";
import { statement } from "./statement";
import { foldStats } from "./stats-fold";

export type CitedSourcesQuery = RankedQuery;

/** A source (title and url as the answers stored them) and the answers of the period citing it. */
export type CitedSourceRow = {
  title: string | null;
  url: string | null;
  answers: number;
  /** Its position in the list, for the cursor (schemas/cursor.ts). */
  rank: RankedCursor;
  pageBytes: number;
};

const sourcesStatement = statement("admin_cited_sources", (db) => {
  const s = statsHourSources;
  // A source is its title and url, either of which may be null: json_build_array tells
  // (null, url) from ("", url), as the group by does. Ties are ordered by title, then url.
  const grouped = sql`
    select ${s.title} as title, ${s.url} as url, sum(${s.answers})::int as count,
      concat_ws(' ', ${s.title}, ${s.url}) as name, json_build_array(${s.title}, ${s.url})::text as identity,
      ${fieldBytes} + coalesce(octet_length(${s.title}), 0) + coalesce(octet_length(${s.url}), 0) as size
    from ${s}
    where ${s.hour} >= ${placeholder("from")}::timestamptz and ${s.hour} < ${placeholder("to")}::timestamptz
    group by ${s.title}, ${s.url}
    having sum(${s.answers}) > 0`;
  const page = db
    .$with("page", {
      title: sql<string | null>`title`.as("title"),
      url: sql<string | null>`url`.as("url"),
      ...rankedPageColumns,
    })
    .as(rankedPage(grouped));
  return db.with(page).select().from(page).orderBy(sql`count desc, rank_prefix, rank_hash`);
});

/**
 * One page of the sources the period's answers cite, most cited first, with one more to tell
 * whether more follow, cut short before 1 MiB. Two statements: the fold that brings the rollup up
 * to date (db/stats-fold.ts), then the read, which costs the rollup rows of the period (the
 * distinct sources cited in each of its hours) whatever the page.
 */
export async function listCitedSources(db: Database, query: CitedSourcesQuery): Promise<CitedSourceRow[]> {
  const rows = await readRankedPage(db, sourcesStatement, query);
  return rows.map(({ count, ...row }) => ({ ...row, answers: count }));
}

export type SourceKey = { title: string | null; url: string | null };

const uncitedStatement = statement("admin_uncited_sources", (db) => {
  const s = statsHourSources;
  const given = sql`jsonb_array_elements(${placeholder("sources")}::jsonb) with ordinality as given(source, place)`;
  return db
    .select({ place: sql<number>`place`.mapWith(Number).as("place") })
    .from(sql`${given}`)
    .where(
      sql`not exists (
        select 1 from ${s}
        where ${s.hour} >= ${placeholder("from")}::timestamptz and ${s.hour} < ${placeholder("to")}::timestamptz
          and ${s.title} is not distinct from source ->> 'title' and ${s.url} is not distinct from source ->> 'url'
          and ${s.answers} > 0)`,
    )
    .orderBy(sql`place`);
});

/**
 * Which of `sources` no answer of the period cites: their indexes into `sources`. Two statements:
 * the fold (db/stats-fold.ts), then one read of the period's rollup rows of those sources.
 */
export async function uncitedSources(
  db: Database,
  query: { from: Date; to: Date; sources: SourceKey[] },
): Promise<number[]> {
  if (query.sources.length === 0) return [];
  await foldStats(db, { from: query.from, to: query.to });
  const rows = await uncitedStatement(db).execute({
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    sources: JSON.stringify(query.sources.map(({ title, url }) => ({ title, url }))),
  });
  return rows.map((row) => row.place - 1);
}
