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
import { and, asc, desc, eq, fillPlaceholders, getTableColumns, gt, lt, type SQL, sql } from "drizzle-orm";
import { alias, type PgColumn } from "drizzle-orm/pg-core";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import type { HistoryMessage, MessageStatus, Sender, Source } from "../conversation";
import type { Database } from "./client";
import { isUniqueViolation } from "./errors";
import { type ChatMessage, type ChatSession, chatMessages, chatSessions, lastActivity } from "./schema";
import { statement } from "./statement";

const value = sql.placeholder;

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
};

/** A message as the API shows it, before it is put in the API's shape (schemas/responses.ts). */
export type ShownMessage = Pick<ChatMessage, keyof typeof shownColumns>;

/**
 * How many days a session is kept after its last activity (config.ts, SESSION_RETENTION_DAYS);
 * null keeps every session.
 */
export type RetentionDays = number | null;

/**
 * True for a session that has not expired, with the retention period as the `retentionDays`
 * value (null: none expires). An expired session is gone for every request from the moment it
 * expires, whether or not the hourly purge (lifecycle/retention.ts) has deleted it yet, so no
 * request ever sees part of a session that is being deleted in batches.
 */
const unexpired = sql<boolean>`(${value("retentionDays")}::int is null
  or ${lastActivity} >= now() - make_interval(days => ${value("retentionDays")}::int))`;

export async function pingDatabase(db: Database): Promise<void> {
  await db.execute(sql`select 1`);
}

const createSessionStatement = statement("create_session", (db) =>
  db
    .insert(chatSessions)
    .values({ sessionUuid: value("sessionUuid") })
    .returning(),
);

export async function createSession(db: Database, sessionUuid: string): Promise<ChatSession> {
  const [created] = await createSessionStatement(db).execute({ sessionUuid });
  return created!;
}

const findSessionStatement = statement("find_session", (db) =>
  db
    .select()
    .from(chatSessions)
    .where(and(eq(chatSessions.sessionUuid, value("sessionUuid")), unexpired)),
);

/** The session, unless there is none or it has expired. */
export async function findSession(
  db: Database,
  sessionUuid: string,
  retentionDays: RetentionDays,
): Promise<ChatSession | null> {
  const [found] = await findSessionStatement(db).execute({ sessionUuid, retentionDays });
  return found ?? null;
}

const deleteSessionStatement = statement("delete_session", (db) =>
  db
    .delete(chatSessions)
    .where(eq(chatSessions.sessionUuid, value("sessionUuid")))
    .returning({ live: unexpired }),
);

/**
 * Deletes the session and, by cascade, its messages: "live" when it had not expired, "expired"
 * when it had (it is erased all the same, without waiting for the purge), null when there was no
 * such session.
 */
export async function deleteSession(
  db: Database,
  sessionUuid: string,
  retentionDays: RetentionDays,
): Promise<"live" | "expired" | null> {
  const [deleted] = await deleteSessionStatement(db).execute({ sessionUuid, retentionDays });
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
function name(column: PgColumn): ReturnType<typeof sql.identifier> {
  return sql.identifier(column.name);
}

/** The new user message and, for the model's memory, up to `historyLimit` messages before it. */
export type StoredQuestion = { question: ChatMessage; history: HistoryMessage[] };

type QuestionInput = {
  sessionUuid: string;
  question: string;
  clientMessageId: string | null;
  historyLimit: number;
  /** An expired session takes no more messages: it is gone, and a message would revive it. */
  retentionDays: RetentionDays;
};

/**
 * Inserts the question numbered by `numberedBy` (a statement returning the session's id, counter
 * and clock) and reads the model's memory in the same statement. The memory's snapshot predates
 * the insert, so it holds the messages before the question (a turn racing on the same session may
 * be missing from it, as it would be from a separate read). No row: `numberedBy` numbered nothing.
 */
function questionStatement(statementName: string, numberedBy: SQL) {
  return statement(statementName, (db: PostgresJsDatabase) => {
    const numbered = db.$with("numbered", numberedColumns).as(numberedBy);
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
      .$with("stored", { ...getTableColumns(chatMessages), history: sql<HistoryMessage[]>`history`.as("history") })
      .as(sql`
        insert into ${chatMessages}
          (${name(chatMessages.sessionId)}, ${name(chatMessages.seq)}, ${name(chatMessages.sender)},
           ${name(chatMessages.message)}, ${name(chatMessages.timestamp)}, ${name(chatMessages.clientMessageId)})
        select ${numbered.sessionId}, ${numbered.seq}, 'user', ${value("question")}, ${numbered.at},
          ${value("clientMessageId")}::uuid
        from ${numbered}
        returning *, ${history} as history`);
    return db.with(numbered, stored).select().from(stored);
  });
}

async function insertQuestion(
  numberedQuestion: ReturnType<typeof questionStatement>,
  db: Database,
  input: QuestionInput,
): Promise<StoredQuestion | null> {
  const [row] = await numberedQuestion(db).execute(input);
  if (!row) return null;
  const { history, ...question } = row;
  return { question, history };
}

const startSessionStatement = questionStatement(
  "start_session_with_question",
  sql`insert into ${chatSessions} (${name(chatSessions.sessionUuid)}, ${name(chatSessions.messageCount)}, ${name(chatSessions.lastMessageAt)})
    values (${value("sessionUuid")}, 1, clock_timestamp())
    ${returningNumbered}`,
);

/** Creates a session together with its first message, so a failed request leaves no empty session. */
export async function startSessionWithQuestion(db: Database, input: QuestionInput): Promise<StoredQuestion> {
  return (await insertQuestion(startSessionStatement, db, input))!;
}

const appendQuestionStatement = questionStatement(
  "append_question",
  sql`update ${chatSessions}
    set ${name(chatSessions.messageCount)} = ${chatSessions.messageCount} + 1,
      ${name(chatSessions.lastMessageAt)} = clock_timestamp()
    where ${chatSessions.sessionUuid} = ${value("sessionUuid")}
      and ${unexpired}
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
    .select({ sessionId: chatSessions.id, question, answer })
    .from(chatSessions)
    .leftJoin(
      question,
      and(eq(question.sessionId, chatSessions.id), eq(question.clientMessageId, value("clientMessageId"))),
    )
    .leftJoin(answer, eq(answer.replyToId, question.id))
    .where(and(eq(chatSessions.sessionUuid, value("sessionUuid")), unexpired));
});

/** The user message stored under a client_message_id and its answer, if any. Null: no session (or expired). */
export async function findTurn(
  db: Database,
  sessionUuid: string,
  clientMessageId: string,
  retentionDays: RetentionDays,
): Promise<StoredTurn | null> {
  const [row] = await findTurnStatement(db).execute({ sessionUuid, clientMessageId, retentionDays });
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
  const stored = db.$with("stored", getTableColumns(chatMessages)).as(sql`
    insert into ${chatMessages}
      (${name(chatMessages.sessionId)}, ${name(chatMessages.seq)}, ${name(chatMessages.sender)},
       ${name(chatMessages.message)}, ${name(chatMessages.timestamp)}, ${name(chatMessages.status)},
       ${name(chatMessages.replyToId)}, ${name(chatMessages.sources)}, ${name(chatMessages.metadata)})
    select ${numbered.sessionId}, ${numbered.seq}, 'bot', ${value("text")}, ${numbered.at}, ${value("status")},
      ${value("replyToId")}, ${value("sources")}::jsonb, ${value("metadata")}::jsonb
    from ${numbered}
    returning *`);
  return db.with(numbered, stored).select().from(stored);
});

const answerToStatement = statement("answer_to", (db) =>
  db
    .select()
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
  retentionDays: RetentionDays;
};

/** A page of a session's messages in one order, from its start or after a seq. */
function pageStatement(order: "asc" | "desc", fromStart: boolean) {
  return statement(`list_messages_${order}${fromStart ? "" : "_after"}`, (db) => {
    const ascending = order === "asc";
    const after = fromStart ? undefined : (ascending ? gt : lt)(chatMessages.seq, value("afterSeq"));
    // A left join, so that a session without messages (one row of nulls) differs from no session.
    return db
      .select({ message: shownColumns })
      .from(chatSessions)
      .leftJoin(chatMessages, and(eq(chatMessages.sessionId, chatSessions.id), after))
      .where(and(eq(chatSessions.sessionUuid, value("sessionUuid")), unexpired))
      .orderBy((ascending ? asc : desc)(chatMessages.seq))
      .limit(value("limit"));
  });
}

const pageStatements = {
  asc: { fromStart: pageStatement("asc", true), after: pageStatement("asc", false) },
  desc: { fromStart: pageStatement("desc", true), after: pageStatement("desc", false) },
};

/**
 * One page of a session's messages in seq order, with one extra message to tell whether more
 * follow. Null: no such session, or it has expired. A seq is taken under the session's row lock and committed with
 * it, so any committed message has every smaller seq committed too: keyset pages over seq can
 * neither skip nor repeat a message while others are appended.
 */
export async function listMessages(db: Database, query: HistoryPageQuery): Promise<ShownMessage[] | null> {
  const page = pageStatements[query.order][query.afterSeq === null ? "fromStart" : "after"];
  const rows = await page(db).execute({
    sessionUuid: query.sessionUuid,
    afterSeq: query.afterSeq,
    limit: query.limit + 1,
    retentionDays: query.retentionDays,
  });
  if (rows.length === 0) return null;
  return rows.flatMap((row) => (row.message ? [row.message] : []));
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
};

export type SessionImport = {
  sessionUuid: string;
  importId: string;
  importHash: string;
  messages: ImportedMessage[];
  /** Stored with every message, so that an operator tells imported messages from asked ones. */
  metadata: Record<string, unknown>;
};

const importSessionStatement = statement("import_session", (db) => {
  const created = db.$with("created", getTableColumns(chatSessions)).as(sql`
    insert into ${chatSessions}
      (${name(chatSessions.sessionUuid)}, ${name(chatSessions.messageCount)}, ${name(chatSessions.lastMessageAt)},
       ${name(chatSessions.importId)}, ${name(chatSessions.importHash)})
    values (${value("sessionUuid")}, ${value("messageCount")}, clock_timestamp(), ${value("importId")}::uuid, ${value("importHash")})
    on conflict (${name(chatSessions.importId)}) do nothing
    returning *`);
  const transcript = sql`jsonb_to_recordset(${value("messages")}::jsonb)
    as transcript(seq integer, sender text, message text, at timestamptz, status text, sources jsonb, "replyToSeq" integer)`;
  // Timestamps go no later than the import itself, so later messages never go back in time.
  const at = sql`least(coalesce(transcript.at, ${created.lastMessageAt}), ${created.lastMessageAt})`;
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
       ${name(chatMessages.replyToId)}, ${name(chatMessages.sources)}, ${name(chatMessages.metadata)})
    select ${created.id}, transcript.seq, 'bot', transcript.message, ${at}, transcript.status,
      ${questions.id}, transcript.sources, ${metadata}
    from ${created}, ${transcript}
    join ${questions} on ${questions.seq} = transcript."replyToSeq"
    where transcript.sender = 'bot'
    returning ${chatMessages.id}`);
  return db.with(created, questions, answers).select().from(created);
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
  });
  return row ?? null;
}

const findImportedSessionStatement = statement("find_imported_session", (db) =>
  db
    .select({ session: chatSessions, live: unexpired })
    .from(chatSessions)
    .where(eq(chatSessions.importId, value("importId"))),
);

/** The session an import_id made, and whether it is still live (not expired). Null: none. */
export async function findImportedSession(
  db: Database,
  importId: string,
  retentionDays: RetentionDays,
): Promise<{ session: ChatSession; live: boolean } | null> {
  const [found] = await findImportedSessionStatement(db).execute({ importId, retentionDays });
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
