/**
 * A ranked list a page at a time: rows grouped by a name, most counted first (the frequent
 * questions, the cited sources). What the two share: the order, the cursor's condition and the
 * cut by size. The order is the count descending, then the name's first 200 characters, then the
 * MD5 of the row's whole identity, which only rows whose names begin alike reach: a cursor holds
 * those three (schemas/cursor.ts), not a name that may run to thousands of characters.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Database } from "./client";
import { placeholder } from "./fragments";
import { maxPageBytes } from "./pages";
import { foldStats } from "./stats-fold";

/** The position of a row in a ranked list: what a cursor holds to go on after it. */
export type RankedCursor = { count: number; prefix: string; hash: string };

/** What a page of a ranked list over the hourly rollups is asked for. */
export type RankedQuery = {
  /** Start of the period, inclusive, a whole hour. */
  from: Date;
  /** End of the period, exclusive, a whole hour. */
  to: Date;
  /** Only the rows after this one in the list's order; null for the first page. */
  after: RankedCursor | null;
  limit: number;
};

/** How many characters of a row's name its position holds. */
export const rankedPrefixLength = 200;

/** The columns every ranked page has, beside its own. */
export const rankedPageColumns = {
  count: sql<number>`count`.mapWith(Number).as("count"),
  rankPrefix: sql<string>`rank_prefix`.as("rank_prefix"),
  rankHash: sql<string>`rank_hash`.as("rank_hash"),
  pageBytes: sql<number>`page_bytes`.mapWith(Number).as("page_bytes"),
};

/**
 * The page after the cursor (placeholders afterCount, afterPrefix, afterHash; all null for the
 * first page) of `grouped`, a select whose rows have `count`, `name`, `identity` (text that tells
 * two rows apart) and `size` (what the row adds to the page's body, in bytes): at most `limit` rows
 * (the page and one more), none after the first one that passes `maxBytes` but the second, as a
 * history page is cut (db/pages.ts). Every column of `grouped` is kept, with rank_prefix,
 * rank_hash and page_bytes.
 */
export function rankedPage(grouped: SQL): SQL {
  const afterCount = sql`${placeholder("afterCount")}::int`;
  // The prefix's length is written into the text, not sent as a value: so the order is the one
  // an index on left(question, 200) holds (schema.ts, stats_period_questions_rank_idx).
  return sql`
    with grouped as (${grouped}),
    ranked as (
      select grouped.*, left(name, ${sql.raw(String(rankedPrefixLength))}) as rank_prefix, md5(identity) as rank_hash from grouped
    ),
    page as (
      select * from ranked
      where ${afterCount} is null or count < ${afterCount}
        or (count = ${afterCount} and (rank_prefix, rank_hash) > (${placeholder("afterPrefix")}::text, ${placeholder("afterHash")}::text))
      order by count desc, rank_prefix, rank_hash
      limit ${placeholder("limit")}
    ),
    sized as (
      select page.*, sum(size) over in_order as page_bytes, row_number() over in_order as place
      from page
      window in_order as (order by count desc, rank_prefix, rank_hash)
    )
    select * from sized where place <= 2 or page_bytes - size <= ${placeholder("maxBytes")}`;
}

/**
 * One page of a ranked list over the period's hourly rollups, with one more row to tell whether
 * more follow, cut short before 1 MiB. Two statements: the fold that brings the rollups up to date
 * (db/stats-fold.ts), then `page` (rankedRows).
 */
export async function readRankedPage<Row extends RankedRow>(
  db: Database,
  page: RankedStatement<Row>,
  query: RankedQuery,
): Promise<RankedPageRow<Row>[]> {
  await foldStats(db, { from: query.from, to: query.to });
  return rankedRows(db, page, query);
}

/** What a ranked statement's rows have beside their own columns. */
type RankedRow = { count: number; rankPrefix: string; rankHash: string };
/** A statement built on rankedPage, as `statement` (db/statement.ts) makes it. */
export type RankedStatement<Row extends RankedRow> = (db: Database) => {
  execute(values?: Record<string, unknown>): Promise<Row[]>;
};
/** A row of a ranked page: its count and its position (`rank`) for the cursor. */
export type RankedPageRow<Row extends RankedRow> = Omit<Row, "rankPrefix" | "rankHash"> & { rank: RankedCursor };

/**
 * The rows of `page`, a statement built on rankedPage over rollups already brought up to date,
 * for the query, with `values` for its own placeholders.
 */
export async function rankedRows<Row extends RankedRow>(
  db: Database,
  page: RankedStatement<Row>,
  query: RankedQuery,
  values: Record<string, unknown> = {},
): Promise<RankedPageRow<Row>[]> {
  const rows = await page(db).execute({
    ...values,
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    afterCount: query.after?.count ?? null,
    afterPrefix: query.after?.prefix ?? null,
    afterHash: query.after?.hash ?? null,
    limit: query.limit + 1,
    maxBytes: maxPageBytes,
  });
  return rows.map(({ rankPrefix, rankHash, ...row }) => ({
    ...row,
    rank: { count: row.count, prefix: rankPrefix, hash: rankHash },
  }));
}
