/**
 * Every statement the service runs, one named function each, typed from the tables of schema.ts.
 * Each function runs one statement (storeAnswer a second one only after losing a race); none opens
 * a transaction, because each statement is atomic on its own. docs/benchmarks.md counts them.
 *
 * Reads use Drizzle's query builder. The writes that number a message are SQL templates: the
 * session's counter, the insert and (for a question) the model's memory are one statement, and
 * Drizzle's insert-select cannot leave out the identity column. They still name every table and
 * column through the schema's objects, and their rows are typed and decoded by the columns that
 * `$with` declares for them. Every statement's text is built once per isolate (./statement.ts),
 * with `sql.placeholder`s for the values; the retention period is one of them (`unexpired`).
 */
import { and, asc, desc, eq, fillPlaceholders, getTableColumns, gt, gte, lt, type SQL, sql } from "drizzle-orm";
import { alias, type PgColumn } from "drizzle-orm/pg-core";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import type { Reader } from "../auth/reader";
import type { FeedbackRating, HistoryMessage, MessageStatus, Sender, Source } from "../conversation";
import { maxPageBytes } from "../schemas/cursor";
import type { Database } from "./client";
import { isUniqueViolation } from "./errors";
import { type ChatMessage, type ChatSession, chatMessages, chatSessions, readers, sessionActivity } from "./schema";
import { statement } from "./statement";

const value = sql.placeholder;

/**
 * A message's columns but its search vector, in a table or an alias of it. Only the admin search
 * reads the vector, in SQL: any other statement that named it would send it over the wire (it is
 * as big as the text) for nothing.
 */
function messageColumnsOf<T extends { searchVector: unknown }>(columns: T): Omit<T, "searchVector"> {
  const { searchVector: _, ...rest } = columns;
  return rest;
}

/** Every column of a message a statement reads or returns (ChatMessage). */
const messageColumns = messageColumnsOf(getTableColumns(chatMessages));

/** RETURNING of a statement that writes a message: messageColumns, in the same order. */
const returningMessage = sql`returning ${sql.join(Object.values(messageColumns), sql`, `)}`;

/** The columns of a message that the API shows (its metadata is for operators only). */
const shownColumns = {
  id: chatMessages.id,
  seq: chatMessages.seq,
  sender: chatMessages.sender,
  message: chatMessages.message,
  timestamp: chatMessages.timestamp,
  status: chatMessages.status,
  clientMessageId: chatMessages.clientMessageId,
  sources: chatMessages.sources,
  // An answer's UI message id is named after its question (schemas/responses.ts, uiAnswerId).
  replyToId: chatMessages.replyToId,
  feedbackRating: chatMessages.feedbackRating,
  feedbackComment: chatMessages.feedbackComment,
  feedbackAt: chatMessages.feedbackAt,
};

/** A message as the API shows it, before it is put in the API's shape (schemas/responses.ts). */
export type ShownMessage = Pick<ChatMessage, keyof typeof shownColumns>;

/**
 * How many days a session is kept after its last activity (config.ts, SESSION_RETENTION_DAYS);
 * null keeps every session.
 */
export type RetentionDays = number | null;

/**
 * True for a message brought in by POST /api/sessions/import (lifecycle/import.ts marks each one),
 * not asked here: the admin figures leave it out of questions, answers and failures.
 */
function importedMessage(message: { metadata: PgColumn }): SQL<boolean> {
  return sql<boolean>`coalesce(${message.metadata} -> 'imported' = 'true'::jsonb, false)`;
}

/** When a session was last active, as chat_sessions_activity_idx has it. */
export const lastActivity = sessionActivity(chatSessions);

/**
 * True for a session that has not expired, with the retention period as the `retentionDays`
 * value (null: none expires). An expired session is gone for every request from the moment it
 * expires, whether or not the hourly purge (lifecycle/retention.ts) has deleted it yet, so no
 * request ever sees part of a session that is being deleted in batches.
 */
export const unexpired = sql<boolean>`(${value("retentionDays")}::int is null
  or ${lastActivity} >= now() - make_interval(days => ${value("retentionDays")}::int))`;

/**
 * Who asks for a session by its UUID, and so what they may use: a live session (retentionDays)
 * that is anonymous or the signed-in reader's own (reader, null for an anonymous request).
 */
export type SessionAccess = { retentionDays: RetentionDays; reader: Reader | null };

/** A statement's values for SessionAccess: the placeholders `unexpired` and `requestReaderId` read. */
export function accessValues(access: SessionAccess) {
  return {
    retentionDays: access.retentionDays,
    readerIssuer: access.reader?.issuer ?? null,
    readerSubject: access.reader?.subject ?? null,
  };
}

/** The readers row of the request's signed-in reader; null for an anonymous request, or a new reader. */
export const requestReaderId = sql<number | null>`(select ${readers.id} from ${readers}
  where ${readers.issuer} = ${value("readerIssuer")}::text and ${readers.subject} = ${value("readerSubject")}::text)`;

/**
 * True for a session the request may use: anonymous, or the signed-in reader's own. To anyone
 * else a session a reader owns is what a session that does not exist is (404 session_not_found),
 * so that holding its UUID alone is no longer enough, and an owned session cannot be probed.
 */
const ownedByRequest = sql<boolean>`(${chatSessions.readerId} is null or ${chatSessions.readerId} = ${requestReaderId})`;

/** A session the request may use by its UUID: live and ownedByRequest. */
export const usable = sql<boolean>`(${unexpired} and ${ownedByRequest})`;

/**
 * The request's signed-in reader as a readers row, made on first use: a data-modifying WITH step
 * for the statements that create a session, which take `(select id from reader_row)` as its
 * owner (null for an anonymous request). DO UPDATE, not DO NOTHING, so that the row is returned
 * also when another request inserted it concurrently.
 */
type ReaderRow = ReturnType<typeof readerRow>;

export function readerRow(db: PostgresJsDatabase) {
  return db.$with("reader_row", { id: readers.id }).as(sql`
    insert into ${readers} (${name(readers.issuer)}, ${name(readers.subject)})
    select ${value("readerIssuer")}::text, ${value("readerSubject")}::text
    where ${value("readerSubject")}::text is not null
    on conflict (${name(readers.issuer)}, ${name(readers.subject)})
      do update set ${name(readers.issuer)} = excluded.${name(readers.issuer)}
    returning ${readers.id}`);
}

export async function pingDatabase(db: Database): Promise<void> {
  await db.execute(sql`select 1`);
}

const createSessionStatement = statement("create_session", (db) => {
  const reader = readerRow(db);
  return db
    .with(reader)
    .insert(chatSessions)
    .values({ sessionUuid: value("sessionUuid"), readerId: sql`(select ${reader.id} from ${reader})` })
    .returning();
});

/** An empty session, the signed-in reader's when `reader` is not null. */
export async function createSession(
  db: Database,
  sessionUuid: string,
  reader: Reader | null = null,
): Promise<ChatSession> {
  const [created] = await createSessionStatement(db).execute({
    sessionUuid,
    ...accessValues({ retentionDays: null, reader }),
  });
  return created!;
}

const findSessionStatement = statement("find_session", (db) =>
  db
    .select()
    .from(chatSessions)
    .where(and(eq(chatSessions.sessionUuid, value("sessionUuid")), usable)),
);

/** The session, unless there is none, it has expired, or it is another reader's. */
export async function findSession(
  db: Database,
  sessionUuid: string,
  access: SessionAccess,
): Promise<ChatSession | null> {
  const [found] = await findSessionStatement(db).execute({ sessionUuid, ...accessValues(access) });
  return found ?? null;
}

const deleteSessionStatement = statement("delete_session", (db) =>
  db
    .delete(chatSessions)
    .where(and(eq(chatSessions.sessionUuid, value("sessionUuid")), ownedByRequest))
    .returning({ live: unexpired }),
);

/**
 * Deletes the session and, by cascade, its messages: "live" when it had not expired, "expired"
 * when it had (it is erased all the same, without waiting for the purge), null when there was no
 * such session (or it is another reader's, which is left as it is).
 */
export async function deleteSession(
  db: Database,
  sessionUuid: string,
  access: SessionAccess,
): Promise<"live" | "expired" | null> {
  const [deleted] = await deleteSessionStatement(db).execute({ sessionUuid, ...accessValues(access) });
  return deleted ? (deleted.live ? "live" : "expired") : null;
}

// Each message takes the next seq from its session's counter in the statement that inserts it.
// Row locks on the session serialise concurrent turns, and a statement that fails rolls the
// counter back with it, so seq values are distinct and without gaps. clock_timestamp() is read
// after the lock is granted, so timestamps do not go backwards as seq goes up.

/** The session row a message is numbered from, as the statement's `numbered` step returns it. */
const numberedColumns = { sessionId: chatSessions.id, seq: chatSessions.messageCount, at: chatSessions.lastMessageAt };
const returningNumbered = sql`returning ${chatSessions.id}, ${chatSessions.messageCount}, ${chatSessions.lastMessageAt}`;

/** A column's bare name, for the places SQL does not take a qualified one (SET, INSERT's list). */
export function name(column: PgColumn): ReturnType<typeof sql.identifier> {
  return sql.identifier(column.name);
}

/** The new user message and, for the model's memory, up to `historyLimit` messages before it. */
export type StoredQuestion = { question: ChatMessage; history: HistoryMessage[] };

type QuestionInput = {
  sessionUuid: string;
  question: string;
  clientMessageId: string | null;
  historyLimit: number;
  /**
   * An expired session takes no more messages: it is gone, and a message would revive it; nor does
   * another reader's. A session started here is the signed-in reader's.
   */
  access: SessionAccess;
};

/**
 * Inserts the question numbered by `numberedBy` (a statement returning the session's id, counter
 * and clock) and reads the model's memory in the same statement. The memory's snapshot predates
 * the insert, so it holds the messages before the question (a turn racing on the same session may
 * be missing from it, as it would be from a separate read). No row: `numberedBy` numbered nothing.
 */
function questionStatement(statementName: string, numberedBy: (reader: ReaderRow) => SQL, startsSession = false) {
  return statement(statementName, (db: PostgresJsDatabase) => {
    const reader = readerRow(db);
    const numbered = db.$with("numbered", numberedColumns).as(numberedBy(reader));
    const earlier = alias(chatMessages, "earlier");
    const history = sql<HistoryMessage[]>`(
      select coalesce(json_agg(json_build_object('sender', recent.sender, 'message', recent.message) order by recent.seq), '[]'::json)
      from (
        select ${earlier.seq} as seq, ${earlier.sender} as sender, ${earlier.message} as message
        from ${chatMessages} ${earlier}
        where ${earlier.sessionId} = ${chatMessages.sessionId} and ${earlier.seq} < ${chatMessages.seq}
        order by ${earlier.seq} desc
        limit ${value("historyLimit")}
      ) recent)`;
    const stored = db
      .$with("stored", { ...messageColumns, history: sql<HistoryMessage[]>`history`.as("history") })
      .as(sql`
        insert into ${chatMessages}
          (${name(chatMessages.sessionId)}, ${name(chatMessages.seq)}, ${name(chatMessages.sender)},
           ${name(chatMessages.message)}, ${name(chatMessages.timestamp)}, ${name(chatMessages.clientMessageId)})
        select ${numbered.sessionId}, ${numbered.seq}, 'user', ${value("question")}, ${numbered.at},
          ${value("clientMessageId")}::uuid
        from ${numbered}
        ${returningMessage}, ${history} as history`);
    // Only a new session needs its reader's row: a data-modifying step runs even when unread.
    return (startsSession ? db.with(reader, numbered, stored) : db.with(numbered, stored)).select().from(stored);
  });
}

async function insertQuestion(
  numberedQuestion: ReturnType<typeof questionStatement>,
  db: Database,
  input: QuestionInput,
): Promise<StoredQuestion | null> {
  const { access, ...values } = input;
  const [row] = await numberedQuestion(db).execute({ ...values, ...accessValues(access) });
  if (!row) return null;
  const { history, ...question } = row;
  return { question, history };
}

const startSessionStatement = questionStatement(
  "start_session_with_question",
  (reader) => sql`insert into ${chatSessions}
      (${name(chatSessions.sessionUuid)}, ${name(chatSessions.messageCount)}, ${name(chatSessions.lastMessageAt)},
       ${name(chatSessions.readerId)})
    values (${value("sessionUuid")}, 1, clock_timestamp(), (select ${reader.id} from ${reader}))
    ${returningNumbered}`,
  true,
);

/** Creates a session together with its first message, so a failed request leaves no empty session. */
export async function startSessionWithQuestion(db: Database, input: QuestionInput): Promise<StoredQuestion> {
  return (await insertQuestion(startSessionStatement, db, input))!;
}

const appendQuestionStatement = questionStatement(
  "append_question",
  () => sql`update ${chatSessions}
    set ${name(chatSessions.messageCount)} = ${chatSessions.messageCount} + 1,
      ${name(chatSessions.lastMessageAt)} = clock_timestamp()
    where ${chatSessions.sessionUuid} = ${value("sessionUuid")}
      and ${usable}
      and not exists (
        select 1 from ${chatMessages}
        where ${chatMessages.sessionId} = ${chatSessions.id}
          and ${chatMessages.clientMessageId} = ${value("clientMessageId")}::uuid)
    ${returningNumbered}`,
);

/**
 * Appends a user message to an existing session. Null when the session does not exist or
 * already holds a message with this client_message_id (a replay; see `findTurn`).
 */
export async function appendQuestion(db: Database, input: QuestionInput): Promise<StoredQuestion | null> {
  try {
    return await insertQuestion(appendQuestionStatement, db, input);
  } catch (error) {
    // A concurrent duplicate committed first; the statement rolled back as a whole.
    if (isUniqueViolation(error, "chat_messages_session_client_message_id_unique")) return null;
    throw error;
  }
}

export type StoredTurn = { sessionId: number; question: ChatMessage | null; answer: ChatMessage | null };

const findTurnStatement = statement("find_turn", (db) => {
  const question = alias(chatMessages, "question");
  const answer = alias(chatMessages, "answer");
  return db
    .select({
      sessionId: chatSessions.id,
      question: messageColumnsOf(getTableColumns(question)),
      answer: messageColumnsOf(getTableColumns(answer)),
    })
    .from(chatSessions)
    .leftJoin(
      question,
      and(eq(question.sessionId, chatSessions.id), eq(question.clientMessageId, value("clientMessageId"))),
    )
    .leftJoin(answer, eq(answer.replyToId, question.id))
    .where(and(eq(chatSessions.sessionUuid, value("sessionUuid")), usable));
});

/**
 * The user message stored under a client_message_id and its answer, if any. Null: no session (or
 * expired, or another reader's).
 */
export async function findTurn(
  db: Database,
  sessionUuid: string,
  clientMessageId: string,
  access: SessionAccess,
): Promise<StoredTurn | null> {
  const [row] = await findTurnStatement(db).execute({ sessionUuid, clientMessageId, ...accessValues(access) });
  return row ?? null;
}

export type AnswerInput = {
  sessionId: number;
  replyToId: number;
  text: string;
  status: MessageStatus;
  sources: Source[];
  metadata: Record<string, unknown> | null;
};

const storeAnswerStatement = statement("store_answer", (db) => {
  const numbered = db.$with("numbered", numberedColumns).as(sql`
    update ${chatSessions}
    set ${name(chatSessions.messageCount)} = ${chatSessions.messageCount} + 1,
      ${name(chatSessions.lastMessageAt)} = clock_timestamp()
    where ${chatSessions.id} = ${value("sessionId")}
    ${returningNumbered}`);
  const stored = db.$with("stored", messageColumns).as(sql`
    insert into ${chatMessages}
      (${name(chatMessages.sessionId)}, ${name(chatMessages.seq)}, ${name(chatMessages.sender)},
       ${name(chatMessages.message)}, ${name(chatMessages.timestamp)}, ${name(chatMessages.status)},
       ${name(chatMessages.replyToId)}, ${name(chatMessages.sources)}, ${name(chatMessages.metadata)})
    select ${numbered.sessionId}, ${numbered.seq}, 'bot', ${value("text")}, ${numbered.at}, ${value("status")},
      ${value("replyToId")}, ${value("sources")}::jsonb, ${value("metadata")}::jsonb
    from ${numbered}
    ${returningMessage}`);
  return db.with(numbered, stored).select().from(stored);
});

const answerToStatement = statement("answer_to", (db) =>
  db
    .select(messageColumns)
    .from(chatMessages)
    .where(eq(chatMessages.replyToId, value("replyToId"))),
);

/**
 * Stores the bot's answer to a question. When another request already answered the same
 * question (a raced retry), that stored answer is returned instead. Null: the session is gone.
 */
export async function storeAnswer(db: Database, input: AnswerInput): Promise<ChatMessage | null> {
  try {
    const [row] = await storeAnswerStatement(db).execute({
      ...input,
      sources: JSON.stringify(input.sources),
      metadata: input.metadata === null ? null : JSON.stringify(input.metadata),
    });
    return row ?? null;
  } catch (error) {
    if (!isUniqueViolation(error, "chat_messages_reply_to_id_unique")) throw error;
    const [raced] = await answerToStatement(db).execute({ replyToId: input.replyToId });
    return raced ?? null;
  }
}

const recentMessagesStatement = statement("recent_messages", (db) =>
  db
    .select({ sender: chatMessages.sender, message: chatMessages.message })
    .from(chatMessages)
    .where(and(eq(chatMessages.sessionId, value("sessionId")), lt(chatMessages.seq, value("beforeSeq"))))
    .orderBy(desc(chatMessages.seq))
    .limit(value("limit")),
);

/** The last `limit` messages before seq `beforeSeq`, oldest first: the model's memory of the session. */
export async function recentMessages(
  db: Database,
  sessionId: number,
  beforeSeq: number,
  limit: number,
): Promise<HistoryMessage[]> {
  const newestFirst = await recentMessagesStatement(db).execute({ sessionId, beforeSeq, limit });
  return newestFirst.reverse();
}

export type HistoryPageQuery = {
  sessionUuid: string;
  order: "asc" | "desc";
  /** Only messages after this seq in the page's order (exclusive); null for the first page. */
  afterSeq: number | null;
  limit: number;
  access: SessionAccess;
};

/**
 * What a message adds to a page's body, counted by PostgreSQL from what is stored: the UTF-8
 * bytes of its text (octet_length takes a long text's length from its header, without reading
 * it), of its sources and feedback comment, of its metadata where the page shows it, and
 * `fieldBytes` for the fields around them (ids, times, names).
 */
const fieldBytes = 512;

function messageBytes(message: typeof chatMessages, withMetadata: boolean): SQL<number> {
  const metadata = withMetadata ? sql` + coalesce(octet_length(${message.metadata}::text), 0)` : sql``;
  return sql<number>`(${fieldBytes} + octet_length(${message.message}) + octet_length(${message.sources}::text)
    + coalesce(octet_length(${message.feedbackComment}), 0)${metadata})`;
}

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
function sizedPage(db: PostgresJsDatabase, order: "asc" | "desc", fromStart: boolean, size: SQL<number>) {
  const ascending = order === "asc";
  const after = fromStart ? undefined : (ascending ? gt : lt)(chatMessages.seq, value("afterSeq"));
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
    .limit(value("limit"))
    .as("sized");
  return db
    .select()
    .from(sized)
    .where(sql`${sized.place} <= 2 or ${sized.pageBytes} - ${sized.size} <= ${value("maxBytes")}`)
    .as("page");
}

/** The fields of a subquery that `columns` names: the same columns, read from the subquery. */
function fieldsNamedAs<S extends object, K extends keyof S & string>(
  subquery: S,
  columns: Record<K, unknown>,
): Pick<S, K> {
  const names = Object.keys(columns) as K[];
  return Object.fromEntries(names.map((name) => [name, subquery[name]])) as Pick<S, K>;
}

/** A page of a session's messages in one order, from its start or after a seq. */
function pageStatement(order: "asc" | "desc", fromStart: boolean) {
  return statement(`list_messages_${order}${fromStart ? "" : "_after"}`, (db) => {
    const page = sizedPage(db, order, fromStart, messageBytes(chatMessages, false));
    // A left join, so that a session without messages (one row of nulls) differs from no session.
    return db
      .select({ message: fieldsNamedAs(page, shownColumns), pageBytes: page.pageBytes })
      .from(chatSessions)
      .leftJoinLateral(page, sql`true`)
      .where(and(eq(chatSessions.sessionUuid, value("sessionUuid")), usable))
      .orderBy((order === "asc" ? asc : desc)(page.seq));
  });
}

const pageStatements = {
  asc: { fromStart: pageStatement("asc", true), after: pageStatement("asc", false) },
  desc: { fromStart: pageStatement("desc", true), after: pageStatement("desc", false) },
};

/** A message of a page, and the page's size in bytes up to and including it (see sizedPage). */
export type Sized<Row> = Row & { pageBytes: number };

/**
 * One page of a session's messages in seq order, with one extra message to tell whether more
 * follow, cut short by size (sizedPage). Null: no such session, it has expired, or it is another
 * reader's. A seq is taken
 * under the session's row lock and committed with it, so any committed message has every smaller
 * seq committed too: keyset pages over seq can neither skip nor repeat a message while others
 * are appended.
 */
export async function listMessages(db: Database, query: HistoryPageQuery): Promise<Sized<ShownMessage>[] | null> {
  const page = pageStatements[query.order][query.afterSeq === null ? "fromStart" : "after"];
  const rows = await page(db).execute({
    sessionUuid: query.sessionUuid,
    afterSeq: query.afterSeq,
    limit: query.limit + 1,
    maxBytes: maxPageBytes,
    ...accessValues(query.access),
  });
  if (rows.length === 0) return null;
  return rows.flatMap((row) => (row.message ? [{ ...row.message, pageBytes: row.pageBytes }] : []));
}

/** A message of an imported transcript, numbered, as importSession stores it. */
export type ImportedMessage = {
  seq: number;
  sender: Sender;
  message: string;
  /** Null: the import's own time. Never later than it. */
  at: string | null;
  status: MessageStatus;
  sources: Source[];
  /** For an answer, the seq of the question it answers. */
  replyToSeq: number | null;
  /** An answer's feedback; `at` null: the import's time. Never later than it. */
  feedback: { rating: FeedbackRating; comment: string | null; at: string | null } | null;
};

export type SessionImport = {
  sessionUuid: string;
  importId: string;
  importHash: string;
  messages: ImportedMessage[];
  /** Stored with every message, so that an operator tells imported messages from asked ones. */
  metadata: Record<string, unknown>;
  /** The signed-in reader the session is for; null: anonymous. */
  reader: Reader | null;
};

const importSessionStatement = statement("import_session", (db) => {
  const reader = readerRow(db);
  const created = db.$with("created", getTableColumns(chatSessions)).as(sql`
    insert into ${chatSessions}
      (${name(chatSessions.sessionUuid)}, ${name(chatSessions.messageCount)}, ${name(chatSessions.lastMessageAt)},
       ${name(chatSessions.importId)}, ${name(chatSessions.importHash)}, ${name(chatSessions.readerId)})
    values (${value("sessionUuid")}, ${value("messageCount")}, clock_timestamp(), ${value("importId")}::uuid, ${value("importHash")},
      (select ${reader.id} from ${reader}))
    on conflict (${name(chatSessions.importId)}) do nothing
    returning *`);
  const transcript = sql`jsonb_to_recordset(${value("messages")}::jsonb)
    as transcript(seq integer, sender text, message text, at timestamptz, status text, sources jsonb, "replyToSeq" integer, feedback jsonb)`;
  // Timestamps go no later than the import itself, so later messages never go back in time.
  const at = sql`least(coalesce(transcript.at, ${created.lastMessageAt}), ${created.lastMessageAt})`;
  // Feedback is dated no earlier than its answer and no later than the session's created_at, so
  // that any rating given here afterwards is later than it (readStats counts only those).
  const feedbackAt = sql`case when transcript.feedback ->> 'rating' is not null then
    least(greatest(coalesce((transcript.feedback ->> 'at')::timestamptz, ${created.createdAt}), ${at}), ${created.createdAt}) end`;
  const metadata = sql`${value("metadata")}::jsonb`;
  const questions = db.$with("questions", { id: chatMessages.id, seq: chatMessages.seq }).as(sql`
    insert into ${chatMessages}
      (${name(chatMessages.sessionId)}, ${name(chatMessages.seq)}, ${name(chatMessages.sender)},
       ${name(chatMessages.message)}, ${name(chatMessages.timestamp)}, ${name(chatMessages.metadata)})
    select ${created.id}, transcript.seq, 'user', transcript.message, ${at}, ${metadata}
    from ${created}, ${transcript}
    where transcript.sender = 'user'
    returning ${chatMessages.id}, ${chatMessages.seq}`);
  const answers = db.$with("answers", { id: chatMessages.id }).as(sql`
    insert into ${chatMessages}
      (${name(chatMessages.sessionId)}, ${name(chatMessages.seq)}, ${name(chatMessages.sender)},
       ${name(chatMessages.message)}, ${name(chatMessages.timestamp)}, ${name(chatMessages.status)},
       ${name(chatMessages.replyToId)}, ${name(chatMessages.sources)}, ${name(chatMessages.metadata)},
       ${name(chatMessages.feedbackRating)}, ${name(chatMessages.feedbackComment)}, ${name(chatMessages.feedbackAt)})
    select ${created.id}, transcript.seq, 'bot', transcript.message, ${at}, transcript.status,
      ${questions.id}, transcript.sources, ${metadata},
      transcript.feedback ->> 'rating', transcript.feedback ->> 'comment', ${feedbackAt}
    from ${created}, ${transcript}
    join ${questions} on ${questions.seq} = transcript."replyToSeq"
    where transcript.sender = 'bot'
    returning ${chatMessages.id}`);
  return db.with(reader, created, questions, answers).select().from(created);
});

/**
 * Creates a session holding a whole transcript, in one statement: the session, then its
 * questions, then its answers, each answer pointing at its question's new id. Either all of it is
 * stored or, when any of it fails, none of it. Null: a session with this import_id exists
 * already (a retry; see findImportedSession), also one that a concurrent import committed first,
 * which this statement waited for.
 */
export async function importSession(db: Database, input: SessionImport): Promise<ChatSession | null> {
  const [row] = await importSessionStatement(db).execute({
    sessionUuid: input.sessionUuid,
    messageCount: input.messages.length,
    importId: input.importId,
    importHash: input.importHash,
    messages: JSON.stringify(input.messages),
    metadata: JSON.stringify(input.metadata),
    ...accessValues({ retentionDays: null, reader: input.reader }),
  });
  return row ?? null;
}

const findImportedSessionStatement = statement("find_imported_session", (db) =>
  db
    .select({ session: chatSessions, live: unexpired, ownedByRequest })
    .from(chatSessions)
    .where(eq(chatSessions.importId, value("importId"))),
);

/**
 * The session an import_id made, whether it is still live (not expired), and whether this request
 * may use it (anonymous, or its signed-in reader's). Null: none.
 */
export async function findImportedSession(
  db: Database,
  importId: string,
  access: SessionAccess,
): Promise<{ session: ChatSession; live: boolean; ownedByRequest: boolean } | null> {
  const [found] = await findImportedSessionStatement(db).execute({ importId, ...accessValues(access) });
  return found ?? null;
}

export type ExpiredBatch = {
  /** Whether the last activity cut-off may still match sessions this batch left for the next one. */
  more: boolean;
  sessions: number;
  messages: number;
};

export type ExpiredBatchLimits = { before: Date; maxSessions: number; maxMessages: number };

function expiredBatch(db: PostgresJsDatabase) {
  const candidates = db.$with("candidates", { id: chatSessions.id }).as(sql`
    select ${chatSessions.id}, ${chatSessions.messageCount}, ${lastActivity} as at
    from ${chatSessions}
    where ${lastActivity} < ${value("before")}::timestamptz
    order by ${lastActivity}
    limit ${value("maxSessions")}
    for update skip locked`);
  const chosen = db.$with("chosen", { id: chatSessions.id }).as(sql`
    select id from (
      select id, message_count, sum(message_count) over (order by at, id) as running from ${candidates}
    ) ranked
    where running - message_count < ${value("maxMessages")}`);
  const deleted = db.$with("deleted", { id: chatSessions.id }).as(sql`
    delete from ${chatSessions} where ${chatSessions.id} in (select id from ${chosen})
    returning ${chatSessions.id}`);
  return db
    .with(candidates, chosen, deleted)
    .select({
      sessions: sql<number>`count(*)::int`,
      messages: sql<number>`(select count(*) from ${chatMessages} where ${chatMessages.sessionId} in (select id from ${chosen}))::int`,
      more: sql<boolean>`(select count(*) from ${candidates}) > count(*) or (select count(*) from ${candidates}) = ${value("maxSessions")}::int`,
    })
    .from(deleted);
}

const expiredBatchStatement = statement("delete_expired_sessions", expiredBatch);

function expiredBatchValues(limits: ExpiredBatchLimits) {
  return { ...limits, before: limits.before.toISOString() };
}

/**
 * Deletes one batch of the sessions whose last activity is before `before`, oldest first, with
 * their messages: at most `maxSessions` sessions, and no more sessions once `maxMessages` messages
 * are reached (the first session always goes, however long), so that one statement, and the row
 * locks it holds, stay short. Sessions another statement has locked (a turn being stored) are
 * skipped, and a session that received a message meanwhile no longer matches when its lock is
 * taken. Messages are counted in the statement's snapshot, before the cascade deletes them.
 */
export async function deleteExpiredSessions(db: Database, limits: ExpiredBatchLimits): Promise<ExpiredBatch> {
  const [row] = await expiredBatchStatement(db).execute(expiredBatchValues(limits));
  return row!;
}

/** deleteExpiredSessions' statement as SQL text and values, unsent: test/retention.test.ts shows its plan. */
export function expiredBatchSql(limits: ExpiredBatchLimits): { sql: string; params: unknown[] } {
  const query = expiredBatch(drizzle.mock()).toSQL();
  return { sql: query.sql, params: fillPlaceholders(query.params, expiredBatchValues(limits)) };
}

/** A reader's feedback on an answer; null takes it back. */
export type FeedbackInput = {
  sessionUuid: string;
  messageId: number;
  feedback: { rating: FeedbackRating; comment: string | null } | null;
  /** An expired session is gone: its answers take no feedback; nor another reader's. */
  access: SessionAccess;
};

/**
 * What writing feedback found. No row: no such session. `sender` null: the session holds no
 * message with this id. `message`: the answer as it now is (null unless `sender` is "bot").
 */
export type FeedbackWrite = { sender: Sender | null; message: ChatMessage | null };

const writeFeedbackStatement = statement("write_feedback", (db) => {
  const target = db.$with("target").as(
    db
      .select({ messageId: chatMessages.id, sender: chatMessages.sender })
      .from(chatSessions)
      .leftJoin(chatMessages, and(eq(chatMessages.sessionId, chatSessions.id), eq(chatMessages.id, value("messageId"))))
      .where(and(eq(chatSessions.sessionUuid, value("sessionUuid")), usable)),
  );
  const rated = db.$with("rated", messageColumns).as(sql`
    update ${chatMessages}
    set ${name(chatMessages.feedbackRating)} = ${value("rating")}::text,
      ${name(chatMessages.feedbackComment)} = ${value("comment")}::text,
      ${name(chatMessages.feedbackAt)} = case when ${value("rating")}::text is null then null else clock_timestamp() end
    from ${target}
    where ${chatMessages.id} = ${target.messageId} and ${target.sender} = 'bot'
    ${returningMessage}`);
  return db.with(target, rated).select().from(target).leftJoin(rated, sql`true`);
});

/**
 * Sets (or, with `feedback: null`, clears) the feedback of a bot message of a live session, in one
 * statement that also says why nothing was written: the session, the message and its sender are
 * read in the same snapshot as the update.
 */
export async function writeFeedback(db: Database, input: FeedbackInput): Promise<FeedbackWrite | null> {
  const [row] = await writeFeedbackStatement(db).execute({
    sessionUuid: input.sessionUuid,
    messageId: input.messageId,
    rating: input.feedback?.rating ?? null,
    comment: input.feedback?.comment ?? null,
    ...accessValues(input.access),
  });
  return row ? { sender: row.target.sender, message: row.rated } : null;
}

// The admin API's reads. The operators' requests are rare, so they trade a little CPU in the
// database for one statement each; docs/benchmarks.md has what each costs on 100,000 messages.
// Their optional filters are written `(value is null or condition)`: the statements run unnamed,
// so PostgreSQL plans each with its values and drops the filters a request leaves out, which
// keeps the indexes usable for those it sets.

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
  const activity = sessionActivity(chatSessions);
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
    .select({ title: sql<string>`left(${chatMessages.message}, ${value("titleChars")})`.as("first_question_text") })
    .from(chatMessages)
    .where(and(eq(chatMessages.sessionId, chatSessions.id), eq(chatMessages.sender, "user")))
    .orderBy(asc(chatMessages.seq))
    .limit(1)
    .as("first_question");
  const from = sql`${value("from")}::timestamptz`;
  const to = sql`${value("to")}::timestamptz`;
  const afterId = sql`${value("afterId")}::bigint`;
  const reader = sql`${value("reader")}::uuid`;
  // The reader is found first, by its reference, so that their sessions are read in order from
  // chat_sessions_reader_activity_idx, as the unfiltered list reads chat_sessions_activity_idx.
  const readerId = sql`(select ${readers.id} from ${readers} where ${readers.reference} = ${reader})`;
  return db
    .select({
      session: chatSessions,
      activity: sql<Date>`${activity}`.mapWith(chatSessions.createdAt),
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
        sql`(${from} is null or ${activity} >= ${from})`,
        sql`(${to} is null or ${activity} < ${to})`,
        gte(chatSessions.messageCount, value("minMessages")),
        sql`(not ${value("hasFailures")}::boolean or ${counts.incomplete} + ${counts.unanswered} > 0)`,
        sql`(not ${value("hasNegativeFeedback")}::boolean or ${counts.down} > 0)`,
        sql`(${afterId} is null or (${activity}, ${chatSessions.id}) < (${value("afterActivity")}::timestamptz, ${afterId}))`,
      ),
    )
    .orderBy(desc(activity), desc(chatSessions.id))
    .limit(value("limit"));
});

/**
 * One page of sessions, newest activity first, with one more to tell whether more follow. The
 * sessions are read in the order of chat_sessions_activity_idx and each one's messages are
 * counted as it is read, so a page costs its own sessions' messages, and a filter that few
 * sessions pass costs the sessions read until the page is full.
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

/** A page of a session's messages with everything stored about them, and the session. */
function conversationStatement(order: "asc" | "desc", fromStart: boolean) {
  return statement(`admin_conversation_${order}${fromStart ? "" : "_after"}`, (db) => {
    const page = sizedPage(db, order, fromStart, messageBytes(chatMessages, true));
    return db
      .select({
        session: chatSessions,
        reader: readers.reference,
        message: fieldsNamedAs(page, messageColumns),
        pageBytes: page.pageBytes,
      })
      .from(chatSessions)
      .leftJoin(readers, eq(readers.id, chatSessions.readerId))
      .leftJoinLateral(page, sql`true`)
      .where(eq(chatSessions.sessionUuid, value("sessionUuid")))
      .orderBy((order === "asc" ? asc : desc)(page.seq));
  });
}

const conversationStatements = {
  asc: { fromStart: conversationStatement("asc", true), after: conversationStatement("asc", false) },
  desc: { fromStart: conversationStatement("desc", true), after: conversationStatement("desc", false) },
};

/**
 * One page of a session's messages with everything stored about them, in the order and paging of
 * the history (listMessages), cut short by size the same way, and the session itself with its
 * reader's opaque reference. Null: no such session.
 */
export async function readConversation(
  db: Database,
  query: Omit<HistoryPageQuery, "access">,
): Promise<{ session: ChatSession; reader: string | null; messages: Sized<ChatMessage>[] } | null> {
  const page = conversationStatements[query.order][query.afterSeq === null ? "fromStart" : "after"];
  const rows = await page(db).execute({
    sessionUuid: query.sessionUuid,
    afterSeq: query.afterSeq,
    limit: query.limit + 1,
    maxBytes: maxPageBytes,
  });
  const [first] = rows;
  if (!first) return null;
  return {
    session: first.session,
    reader: first.reader,
    messages: rows.flatMap((row) => (row.message ? [{ ...row.message, pageBytes: row.pageBytes }] : [])),
  };
}

/** Marks that PostgreSQL's ts_headline puts around each match; taken out of the text first. */
export const matchStart = "\u0001";
export const matchEnd = "\u0002";
const headlineOptions = `StartSel=${matchStart}, StopSel=${matchEnd}, MaxFragments=2, MaxWords=24, MinWords=10, FragmentDelimiter=" … "`;

export type SearchQuery = {
  /** What the operator typed, read by websearch_to_tsquery: words, "phrases", or, -not. */
  text: string;
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

const searchStatement = statement("admin_search", (db) => {
  const tsquery = sql`websearch_to_tsquery('english', ${value("text")})`;
  const beforeId = sql`${value("beforeId")}::bigint`;
  const m = chatMessages;
  // `matches` is materialized so that it is found through the GIN index whatever the planner
  // guesses of the word's frequency. Left to choose, with the page's "newest first, 21 rows" in
  // view, it walks the primary key backwards testing every row, betting on a common word: on
  // 100,000 messages a rare or absent word then costs 120-140 ms, against under 1 ms through the
  // index (docs/benchmarks.md). This way a search costs what its matches cost, and the page takes
  // the newest of them: a word in every other message costs 0.3-0.4 s.
  const hits = db.$with("hits", hitColumns).as(sql`
    with matches as materialized (
      select ${m.id} as id from ${chatMessages}
      where ${m.searchVector} @@ ${tsquery} and (${beforeId} is null or ${m.id} < ${beforeId})
    ),
    newest as (select id from matches order by id desc limit ${value("limit")}),
    headlined as (
      select ${m.id}, ${m.seq}, ${m.sender}, ${m.status}, ${m.timestamp}, ${chatSessions.sessionUuid},
        ts_headline('english', translate(${m.message}, ${matchStart + matchEnd}, ''), ${tsquery}, ${headlineOptions})
          as headline
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
    where place <= 2 or page_bytes - size <= ${value("maxBytes")}`);
  return db.with(hits).select().from(hits).orderBy(desc(hits.id));
});

/**
 * Messages whose text matches the query, newest first, with one more to tell whether more follow,
 * cut short by the size of their headlines as a history page is (sizedPage).
 * The match reads the stored search vector through its GIN index; PostgreSQL computes the
 * headlines only for the rows of the page.
 */
export async function searchMessages(db: Database, query: SearchQuery): Promise<SearchHitRow[]> {
  return searchStatement(db).execute({
    text: query.text,
    beforeId: query.beforeId,
    limit: query.limit + 1,
    maxBytes: maxPageBytes,
  });
}

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
  const from = sql`${value("from")}::timestamptz`;
  const to = sql`${value("to")}::timestamptz`;
  const bucketOf = (time: PgColumn) => sql`date_trunc(${value("unit")}::text, ${time}, 'UTC')`;
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
        limit ${value("topSources")}
      ),
      buckets as (
        select generate_series(date_trunc(${value("unit")}::text, ${from}, 'UTC'), ${to} - interval '1 millisecond',
          ${value("step")}::interval) as bucket
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
