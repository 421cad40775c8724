/**
 * An admin list as a CSV download (docs/api.md §13.12): the list's own pages, read one statement
 * at a time with its own cursor and written as they come, so the download costs what its pages
 * cost and a Worker holds one page at a time. Each page may wait on the database as long as a
 * request may (DB_TIMEOUT_MS), and runs under the 4 s statement_timeout as a JSON page does.
 */
import { type Database, renewDatabaseWait } from "../db/client";
import { pageOf } from "../schemas/cursor";
import { type CsvValue, csvCutMarker, csvRecord } from "./csv";
import { textStream } from "./text-stream";

/** A page of a list in the API's shape, the cursor after it, and the query that reads on from there. */
export type ListPage<Query, Row> = {
  rows: Row[];
  /** The JSON list's next_cursor; null on the last page. */
  nextCursor: string | null;
  nextQuery: Query | null;
};

/**
 * A list's page from the rows its query read (schemas/cursor.ts pageOf: the page, cut by count
 * and bytes, and one more row when more follow), in the API's shape. `position` is where the list
 * goes on after a row: the JSON cursor encodes it, and `resume` puts it into the query an export
 * reads next, so the two can never disagree.
 */
export function listPageOf<Query, Source extends object, Row, Position>(
  rows: Source[],
  query: Query & { limit: number },
  list: {
    position: (row: Source) => Position;
    cursor: (position: Position) => string;
    resume: (query: Query, position: Position) => Query;
    row: (row: Source) => Row;
  },
): ListPage<Query, Row> {
  const page = pageOf(rows, query.limit, (last) => list.cursor(list.position(last)));
  const last = page.rows.at(-1);
  return {
    rows: page.rows.map(list.row),
    nextCursor: page.nextCursor,
    nextQuery: page.nextCursor !== null && last ? list.resume(query, list.position(last)) : null,
  };
}

/**
 * What a list gives its export. `page` is the JSON route's own page, so the CSV holds the same
 * rows in the same order as the JSON pages do, filters and all.
 */
export type ExportedList<Query extends { limit: number }, Row> = {
  /** Names the file: `<name>-<time>.csv`. */
  name: string;
  /** How many rows the export asks for a page: the JSON list's largest limit, bounded in bytes as there. */
  pageSize: number;
  /** The columns in order: the header's name, and the row's value under it. */
  columns: Record<string, (row: Row) => CsvValue>;
  page: (db: Database, query: Query) => Promise<ListPage<Query, Row>>;
  /**
   * The most pages a download reads, for a list whose page costs a subrequest (the passages never
   * cited: a scroll of Qdrant's collection); then the cut line, as at maxExportRows. None: no bound
   * but the rows.
   */
  maxPages?: number;
};

/**
 * The most rows one export writes. Each page is one statement under the 4 s statement_timeout,
 * and the whole export must stay within a Worker's CPU limit (docs/api.md §13.12).
 */
export const maxExportRows = 100_000;

export const csvMediaType = "text/csv; charset=utf-8; header=present";

/** `<list>-<UTC time to the second>.csv`, e.g. sessions-20261207T174000Z.csv: no character a file system refuses. */
export function csvFileName(list: { name: string }, exportedAt: Date): string {
  return `${list.name}-${exportedAt.toISOString().replace(/[-:]/g, "").slice(0, 15)}Z.csv`;
}

/**
 * The list as CSV from `query` on. The first page is read before this returns, so a failure
 * there is still the request's own problem (a 503 with Retry-After); `onError` hears of one on a
 * later page, and the stream then breaks.
 */
export async function listCsvStream<Query extends { limit: number }, Row>(
  db: Database,
  list: ExportedList<Query, Row>,
  query: Query,
  onError: (error: unknown) => void,
): Promise<ReadableStream<Uint8Array>> {
  const first = await list.page(db, { ...query, limit: Math.min(list.pageSize, maxExportRows) });
  return textStream(csvChunks(db, list, first), onError);
}

/**
 * A byte order mark and the header, then a page at a time. The mark: Excel reads a CSV file
 * without one in the system's legacy code page, and the book's questions are not all ASCII;
 * LibreOffice, Google Sheets and Python's `utf-8-sig` take it off. At maxExportRows (or the list's
 * maxPages) with more to come, a last line `#cut,<rows>,<cursor>` says so: the same request with
 * that cursor goes on.
 */
async function* csvChunks<Query extends { limit: number }, Row>(
  db: Database,
  list: ExportedList<Query, Row>,
  first: ListPage<Query, Row>,
): AsyncGenerator<string> {
  const fields = Object.values(list.columns);
  yield `\uFEFF${csvRecord(Object.keys(list.columns))}`;
  let page = first;
  let written = 0;
  for (let pages = 1; ; pages++) {
    yield page.rows.map((row) => csvRecord(fields.map((field) => field(row)))).join("");
    written += page.rows.length;
    if (page.nextQuery === null || page.nextCursor === null) return;
    if (written >= maxExportRows || pages >= (list.maxPages ?? Number.POSITIVE_INFINITY)) {
      // Written as it is: csvRecord would guard the marker's `#`. A cursor is base64url, no quoting.
      yield `${csvCutMarker},${written},${page.nextCursor}\r\n`;
      return;
    }
    renewDatabaseWait(db);
    page = await list.page(db, { ...page.nextQuery, limit: Math.min(list.pageSize, maxExportRows - written) });
  }
}
