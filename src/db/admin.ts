/**
 * The admin API's reads (routes/admin.ts): the list of sessions, one session's whole
 * conversation, and the search of every message. The operators' requests are rare, so they trade
 * a little CPU in the database for one statement each; docs/benchmarks.md has what each costs on
 * 100,000 messages. Their optional filters are written `(value is null or condition)`: the
 * statements run unnamed, so PostgreSQL plans each with its values and drops the filters a request
 * leaves out, which keeps the indexes usable for those it sets.
 */
import { and, asc, desc, eq, gte, sql } from "drizzle-orm";
import type { Sender } from "../conversation";
import type { Database } from "./client";
import { importedMessage, lastActivity, messageColumns, placeholder } from "./fragments";
import {
  fieldBytes,
  fieldsNamedAs,
  maxPageBytes,
  type PageQuery,
  pageMessages,
  pageStatements,
  pageValues,
  type Sized,
} from "./pages";
import { type ChatMessage, type ChatSession, chatMessages, chatSessions, readers, senderSearchVector } from "./schema";
import { statement } from "./statement";

/** A session in the admin list: the row, when it was last active, its first question and counts. */
export type AdminSessionRow = {
  session: ChatSession;
  activity: Date;
  /** The first question, cut to `titleLength + 1` characters so the caller can tell it was cut. */
  title: string | null;
  incomplete: number;
  unanswered: number;
  up: number;
  down: number;
  /** The opaque reference (readers.reference) of the reader it belongs to; null: anonymous. */
  reader: string | null;
};

export type AdminSessionsQuery = {
  /** Last activity at or after this time. */
  from: Date | null;
  /** Last activity before this time. */
  to: Date | null;
  minMessages: number;
  hasFailures: boolean;
  hasNegativeFeedback: boolean;
  /** Only the sessions of the reader with this reference (readers.reference). */
  reader: string | null;
  /** Only sessions after this one in the list's order (activity, then id, both descending). */
  after: { activity: Date; id: number } | null;
  limit: number;
  titleLength: number;
};

const adminSessionsStatement = statement("admin_sessions", (db) => {
  // Imported messages are no failures, as in the statistics (readStats): a transcript's
  // unanswered question or cut answer happened elsewhere.
  const native = sql`not ${importedMessage(chatMessages)}`;
  const counts = db
    .select({
      incomplete: sql<number>`(count(*) filter (where ${chatMessages.status} = 'incomplete' and ${native}))::int`.as(
        "incomplete",
      ),
      // Every bot message answers one question of its session (reply_to_id, unique), so the
      // questions without an answer are the questions less the answers. An imported answer
      // answers an imported question, and an answer stored here a question asked here (a turn is
      // found again only by its client_message_id, which imported questions lack), so the native
      // ones subtract the same way.
      unanswered:
        sql<number>`(count(*) filter (where ${chatMessages.sender} = 'user' and ${native}) - count(*) filter (where ${chatMessages.sender} = 'bot' and ${native}))::int`.as(
          "unanswered",
        ),
      up: sql<number>`(count(*) filter (where ${chatMessages.feedbackRating} = 'up'))::int`.as("up"),
      down: sql<number>`(count(*) filter (where ${chatMessages.feedbackRating} = 'down'))::int`.as("down"),
    })
    .from(chatMessages)
    .where(eq(chatMessages.sessionId, chatSessions.id))
    .as("counts");
  // Its column is not named `title`: the name would be ambiguous beside chat_sessions.title.
  const firstQuestion = db
    .select({
      title: sql<string>`left(${chatMessages.message}, ${placeholder("titleChars")})`.as("first_question_text"),
    })
    .from(chatMessages)
    .where(and(eq(chatMessages.sessionId, chatSessions.id), eq(chatMessages.sender, "user")))
    .orderBy(asc(chatMessages.seq))
    .limit(1)
    .as("first_question");
  const from = sql`${placeholder("from")}::timestamptz`;
  const to = sql`${placeholder("to")}::timestamptz`;
  const afterId = sql`${placeholder("afterId")}::bigint`;
  const reader = sql`${placeholder("reader")}::uuid`;
  // The reader is found first, by its reference, so that their sessions are read in order from
  // chat_sessions_reader_activity_idx, as the unfiltered list reads chat_sessions_activity_idx.
  const readerId = sql`(select ${readers.id} from ${readers} where ${readers.reference} = ${reader})`;
  return db
    .select({
      session: chatSessions,
      activity: sql<Date>`${lastActivity}`.mapWith(chatSessions.createdAt),
      title: firstQuestion.title,
      incomplete: counts.incomplete,
      unanswered: counts.unanswered,
      up: counts.up,
      down: counts.down,
      reader: readers.reference,
    })
    .from(chatSessions)
    .leftJoin(readers, eq(readers.id, chatSessions.readerId))
    .innerJoinLateral(counts, sql`true`)
    .leftJoinLateral(firstQuestion, sql`true`)
    .where(
      and(
        sql`(${reader} is null or ${chatSessions.readerId} = ${readerId})`,
        sql`(${from} is null or ${lastActivity} >= ${from})`,
        sql`(${to} is null or ${lastActivity} < ${to})`,
        gte(chatSessions.messageCount, placeholder("minMessages")),
        // The session's counters, which equal its counts below (schema.ts): written this way, a set
        // filter is the predicate of its partial index, read in the list's order.
        sql`(not ${placeholder("hasFailures")}::boolean or ${chatSessions.failures} > 0)`,
        sql`(not ${placeholder("hasNegativeFeedback")}::boolean or ${chatSessions.ratedDown} > 0)`,
        sql`(${afterId} is null or (${lastActivity}, ${chatSessions.id}) < (${placeholder("afterActivity")}::timestamptz, ${afterId}))`,
      ),
    )
    .orderBy(desc(lastActivity), desc(chatSessions.id))
    .limit(placeholder("limit"));
});

/**
 * One page of sessions, newest activity first, with one more to tell whether more follow. The
 * sessions are read in the order of chat_sessions_activity_idx (or, filtered to failures or
 * answers rated down, of that filter's partial index) and each one's messages are counted as it
 * is read, so a page costs its own sessions' messages, and a filter on activity, messages or
 * reader that few sessions pass costs the sessions read until the page is full.
 */
export async function listAdminSessions(db: Database, query: AdminSessionsQuery): Promise<AdminSessionRow[]> {
  return adminSessionsStatement(db).execute({
    from: query.from?.toISOString() ?? null,
    to: query.to?.toISOString() ?? null,
    minMessages: query.minMessages,
    hasFailures: query.hasFailures,
    hasNegativeFeedback: query.hasNegativeFeedback,
    reader: query.reader,
    afterActivity: query.after?.activity.toISOString() ?? null,
    afterId: query.after?.id ?? null,
    limit: query.limit + 1,
    titleChars: query.titleLength + 1,
  });
}

const conversationPage = pageStatements("admin_conversation", { withMetadata: true }, (db, page, inOrder) =>
  db
    .select({
      session: chatSessions,
      reader: readers.reference,
      message: fieldsNamedAs(page, messageColumns),
      pageBytes: page.pageBytes,
    })
    .from(chatSessions)
    .leftJoin(readers, eq(readers.id, chatSessions.readerId))
    .leftJoinLateral(page, sql`true`)
    .where(eq(chatSessions.sessionUuid, placeholder("sessionUuid")))
    .orderBy(inOrder),
);

/**
 * One page of a session's messages with everything stored about them, in the order and paging of
 * the history (listMessages), cut short by size the same way, and the session itself with its
 * reader's opaque reference. Null: no such session.
 */
export async function readConversation(
  db: Database,
  query: PageQuery,
): Promise<{ session: ChatSession; reader: string | null; messages: Sized<ChatMessage>[] } | null> {
  const rows = await conversationPage(query)(db).execute(pageValues(query));
  const [first] = rows;
  if (!first) return null;
  return { session: first.session, reader: first.reader, messages: pageMessages(rows) };
}

/** Marks that PostgreSQL's ts_headline puts around each match; taken out of the text first. */
export const matchStart = "\u0001";
export const matchEnd = "\u0002";
const marks = `StartSel=${matchStart}, StopSel=${matchEnd}`;
const fragmentOptions = `${marks}, MaxFragments=2, MaxWords=24, MinWords=10, FragmentDelimiter=" … "`;
/**
 * A message of at most this many characters is its own snippet, every match marked. Two fragments
 * of up to 24 words run to about 300 characters, so a text this short is never longer than a long
 * text's snippet, and a question cut to its middle words no longer reads as what was asked.
 */
export const wholeSnippetLength = 200;

/**
 * How many messages, newest first, the search reads before it turns to the GIN index, per hit the
 * page asks for. A word in more than 1 of 500 of the newest messages fills the page within this
 * walk; a rarer one is read through the index, where it costs what its matches cost. That is
 * little unless the word was common in older messages, or the sender filter drops most of them.
 */
const walkedPerHit = 500;

export type SearchQuery = {
  /** What the operator typed, read by websearch_to_tsquery: words, "phrases", or, -not. */
  text: string;
  /** Only questions ("user") or only answers ("bot"); absent or null: both. */
  sender?: Sender | null;
  /** Only messages with a smaller id (newest first). */
  beforeId: number | null;
  limit: number;
};

export type SearchHitRow = Sized<
  Pick<ChatMessage, "id" | "seq" | "sender" | "status" | "timestamp"> & {
    sessionUuid: string;
    /** The matches between matchStart and matchEnd, in the message's text, not escaped. */
    headline: string;
  }
>;

const hitColumns = {
  id: chatMessages.id,
  seq: chatMessages.seq,
  sender: chatMessages.sender,
  status: chatMessages.status,
  timestamp: chatMessages.timestamp,
  sessionUuid: chatSessions.sessionUuid,
  headline: sql<string>`headline`.as("headline"),
  pageBytes: sql<number>`page_bytes`.mapWith(Number).as("page_bytes"),
};

/**
 * The search over every message, or (`bySender`) over one sender's (placeholder `sender`), which
 * matches on that sender's own indexed expression (schema.ts, senderSearchVector): the planner
 * then prices the GIN path by the statistics of that sender's messages alone.
 */
const searchStatementOf = (bySender: boolean) =>
  statement(bySender ? "admin_search_by_sender" : "admin_search", (db) => {
    const tsquery = sql`websearch_to_tsquery('english', ${placeholder("text")})`;
    const beforeId = sql`${placeholder("beforeId")}::bigint`;
    const limit = placeholder("limit");
    const m = chatMessages;
    const wanted = bySender
      ? sql`${senderSearchVector(m)} @@ ${tsquery} and ${m.sender} = ${placeholder("sender")}::text`
      : sql`${m.searchVector} @@ ${tsquery}`;
    // Two ways to the newest matches, and the statement takes the cheaper without a round trip.
    // `walked` reads the newest messages through the primary key, testing each, and stops at a page
    // of hits or after `walkRows`: a common word fills the page within a few dozen rows, where
    // reading its every match through the GIN index cost 0.3 s on 1,000,000 messages. Only when the
    // walk falls short, `matches` finds the rarer word's every match through the GIN index;
    // materialized, so that the planner cannot turn it into a walk of the whole table. Either gives
    // the same rows: the walk reads every message between the cursor and its last row, so a full
    // page from it is the newest matches.
    const hits = db.$with("hits", hitColumns).as(sql`
    with walked as materialized (
      select id from (
        select ${m.id} as id, ${m.searchVector}, ${m.sender} from ${chatMessages}
        where ${beforeId} is null or ${m.id} < ${beforeId}
        order by ${m.id} desc limit ${placeholder("walkRows")}
      ) as ${chatMessages}
      where ${wanted}
      order by id desc
      limit ${limit}
    ),
    matches as materialized (
      select ${m.id} as id from ${chatMessages}
      where ${wanted} and (${beforeId} is null or ${m.id} < ${beforeId})
    ),
    newest as (
      select id from walked where (select count(*) from walked) = ${limit}
      union all
      (select id from matches where (select count(*) from walked) < ${limit} order by id desc limit ${limit})
    ),
    headlined as (
      select ${m.id}, ${m.seq}, ${m.sender}, ${m.status}, ${m.timestamp}, ${chatSessions.sessionUuid},
        case when char_length(${m.message}) <= ${wholeSnippetLength}
          then ts_headline('english', translate(${m.message}, ${matchStart + matchEnd}, ''), ${tsquery}, ${`${marks}, HighlightAll=true`})
          else ts_headline('english', translate(${m.message}, ${matchStart + matchEnd}, ''), ${tsquery}, ${fragmentOptions})
        end as headline
      from newest
      join ${chatMessages} on ${m.id} = newest.id
      join ${chatSessions} on ${chatSessions.id} = ${m.sessionId}
    ),
    -- A headline is as long as the words around the matches, and a "word" of punctuation or
    -- emoji can be a whole message: the page is cut by size as a history's is (sizedPage).
    sized as (
      select headlined.*, ${fieldBytes} + octet_length(headline) as size,
        sum(${fieldBytes} + octet_length(headline)) over newest_first as page_bytes,
        row_number() over newest_first as place
      from headlined
      window newest_first as (order by id desc)
    )
    select id, seq, sender, status, timestamp, session_uuid, headline, page_bytes
    from sized
    where place <= 2 or page_bytes - size <= ${placeholder("maxBytes")}`);
    return db.with(hits).select().from(hits).orderBy(desc(hits.id));
  });
const searchStatement = searchStatementOf(false);
const searchBySenderStatement = searchStatementOf(true);

/**
 * Messages whose text matches the query, newest first, with one more to tell whether more follow,
 * cut short by the size of their headlines as a history page is (pages.ts). One statement: a
 * bounded walk of the newest messages, or, for a rare word, its matches through the GIN index on
 * the stored search vector; PostgreSQL computes the headlines only for the rows of the page.
 */
export async function searchMessages(db: Database, query: SearchQuery): Promise<SearchHitRow[]> {
  const limit = query.limit + 1;
  const sender = query.sender ?? null;
  return (sender === null ? searchStatement : searchBySenderStatement)(db).execute({
    text: query.text,
    sender,
    beforeId: query.beforeId,
    limit,
    walkRows: limit * walkedPerHit,
    maxBytes: maxPageBytes,
  });
}
