/**
 * A session's messages a page at a time, cut short by size: what the history (./sessions.ts) and
 * the admin conversation (./admin.ts) share, each selecting its own columns from the page.
 */
import { and, asc, desc, eq, gt, lt, type SQL, sql } from "drizzle-orm";
import type { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { messageColumns, placeholder } from "./fragments";
import { chatMessages, chatSessions } from "./schema";
import { type Prepared, statement } from "./statement";

/**
 * How large a page of messages may grow, in bytes of its body: a page stops before the message
 * that would take it past this (sizedPage counts them), and always holds at least one message, so
 * a long one cannot stall the paging. docs/api.md §5.
 */
export const maxPageBytes = 1_048_576;

/**
 * What a message adds to a page's body, counted by PostgreSQL from what is stored: the UTF-8
 * bytes of its text (octet_length takes a long text's length from its header, without reading
 * it), of its sources and feedback comment, of its metadata where the page shows it, and
 * `fieldBytes` for the fields around them (ids, times, names).
 */
export const fieldBytes = 512;

function messageBytes(message: typeof chatMessages, withMetadata: boolean): SQL<number> {
  const metadata = withMetadata ? sql` + coalesce(octet_length(${message.metadata}::text), 0)` : sql``;
  return sql<number>`(${fieldBytes} + octet_length(${message.message}) + octet_length(${message.sources}::text)
    + coalesce(octet_length(${message.feedbackComment}), 0)${metadata})`;
}

type Order = "asc" | "desc";

/**
 * The messages of the session row the statement reads (chat_sessions), in seq order from its
 * start or after `afterSeq`: at most `limit` of them (the page and one more), each with the running
 * size of the page up to it (`pageBytes`), and none after the first one that passes `maxBytes`
 * but the second (the page holds at least one message, and the one after it tells that more
 * follow). So the Worker never receives more than `maxBytes` and one message, however long the
 * messages are; pageOf (schemas/cursor.ts) cuts the page from these rows. A lateral subquery of
 * the session: the window runs over the rows the index gives in order, and stops with the limit.
 * Every column is in it; the statement sends only those it selects.
 */
function sizedPage(db: PostgresJsDatabase, order: Order, fromStart: boolean, size: SQL<number>) {
  const ascending = order === "asc";
  const after = fromStart ? undefined : (ascending ? gt : lt)(chatMessages.seq, placeholder("afterSeq"));
  const inOrder = sql`order by ${chatMessages.seq} ${ascending ? sql`asc` : sql`desc`}`;
  const sized = db
    .select({
      ...messageColumns,
      size: sql<number>`${size}`.as("size"),
      pageBytes: sql<number>`(sum(${size}) over (${inOrder}))::bigint`.mapWith(Number).as("page_bytes"),
      place: sql<number>`row_number() over (${inOrder})`.mapWith(Number).as("place"),
    })
    .from(chatMessages)
    .where(and(eq(chatMessages.sessionId, chatSessions.id), after))
    .orderBy((ascending ? asc : desc)(chatMessages.seq))
    .limit(placeholder("limit"))
    .as("sized");
  return db
    .select()
    .from(sized)
    .where(sql`${sized.place} <= 2 or ${sized.pageBytes} - ${sized.size} <= ${placeholder("maxBytes")}`)
    .as("page");
}

export type SizedPage = ReturnType<typeof sizedPage>;

/** The fields of a subquery that `columns` names: the same columns, read from the subquery. */
export function fieldsNamedAs<S extends object, K extends keyof S & string>(
  subquery: S,
  columns: Record<K, unknown>,
): Pick<S, K> {
  const names = Object.keys(columns) as K[];
  return Object.fromEntries(names.map((name) => [name, subquery[name]])) as Pick<S, K>;
}

/**
 * The four statements that read a page of a session's messages, one per order, from the start or
 * after a seq, named `${name}_asc`, `${name}_asc_after`, `${name}_desc`, `${name}_desc_after`.
 * `select` reads the session (chat_sessions) and `page` joined to it laterally, in `inOrder`; a left
 * join, so that a session without messages (one row of nulls) differs from no session.
 */
export function pageStatements<P extends Prepared>(
  name: string,
  sizes: { withMetadata: boolean },
  select: (db: PostgresJsDatabase, page: SizedPage, inOrder: SQL) => { prepare(name: string): P },
) {
  const pageIn = (order: Order, fromStart: boolean) =>
    statement(`${name}_${order}${fromStart ? "" : "_after"}`, (db) => {
      const page = sizedPage(db, order, fromStart, messageBytes(chatMessages, sizes.withMetadata));
      return select(db, page, (order === "asc" ? asc : desc)(page.seq));
    });
  const pages = {
    asc: { fromStart: pageIn("asc", true), after: pageIn("asc", false) },
    desc: { fromStart: pageIn("desc", true), after: pageIn("desc", false) },
  };
  return (query: PageQuery) => pages[query.order][query.afterSeq === null ? "fromStart" : "after"];
}

export type PageQuery = {
  sessionUuid: string;
  order: Order;
  /** Only messages after this seq in the page's order (exclusive); null for the first page. */
  afterSeq: number | null;
  limit: number;
};

/** A page statement's values for `query`: one message more than the page, to tell whether more follow. */
export function pageValues(query: PageQuery) {
  return { sessionUuid: query.sessionUuid, afterSeq: query.afterSeq, limit: query.limit + 1, maxBytes: maxPageBytes };
}

/** A message of a page, and the page's size in bytes up to and including it (see sizedPage). */
export type Sized<Row> = Row & { pageBytes: number };

/** The messages of a page's rows: none in the one row of a session without messages. */
export function pageMessages<Row>(rows: { message: Row | null; pageBytes: number }[]): Sized<Row>[] {
  return rows.flatMap((row) => (row.message ? [{ ...row.message, pageBytes: row.pageBytes }] : []));
}
