/**
 * The statements of a chat turn (chat/turn.ts): the question stored with the model's memory, the
 * turn found again by its client_message_id, and the answer stored. Each is one statement
 * (storeAnswer a second one only after losing a race); none opens a transaction, because each
 * statement is atomic on its own.
 *
 * The writes that number a message are SQL templates: the session's counter, the insert and (for
 * a question) the model's memory are one statement, and Drizzle's insert-select cannot leave out
 * the identity column. They still name every table and column through the schema's objects, and
 * their rows are typed and decoded by the columns that `$with` declares for them.
 */
import { and, desc, eq, getTableColumns, lt, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import type { HistoryMessage, MessageStatus, Source } from "../conversation";
import type { Database } from "./client";
import { isUniqueViolation } from "./errors";
import {
  accessValues,
  columnNames,
  columns,
  messageColumns,
  messageColumnsOf,
  name,
  placeholder,
  type ReaderRow,
  readerRow,
  returningMessage,
  type SessionAccess,
  usable,
} from "./fragments";
import { type ChatMessage, chatMessages, chatSessions } from "./schema";
import { statement } from "./statement";

// Each message takes the next seq from its session's counter in the statement that inserts it.
// Row locks on the session serialise concurrent turns, and a statement that fails rolls the
// counter back with it, so seq values are distinct and without gaps. clock_timestamp() is read
// after the lock is granted, so timestamps do not go backwards as seq goes up.

/** The session row a message is numbered from, as the statement's `numbered` step returns it. */
const numberedColumns = { sessionId: chatSessions.id, seq: chatSessions.messageCount, at: chatSessions.lastMessageAt };
const returningNumbered = sql`returning ${columns(chatSessions, "id", "messageCount", "lastMessageAt")}`;

/**
 * Takes the next seq from the counter of the session that `where` picks (none: nothing numbered),
 * and adds `failuresChange` to its failures (schema.ts, chat_sessions.failures) in the same update:
 * the message and the count of it commit or roll back together, at no cost of a statement.
 */
function nextSeq(where: SQL, failuresChange: SQL): SQL {
  return sql`update ${chatSessions}
    set ${name(chatSessions.messageCount)} = ${chatSessions.messageCount} + 1,
      ${name(chatSessions.lastMessageAt)} = clock_timestamp(),
      ${name(chatSessions.failures)} = ${chatSessions.failures} + ${failuresChange}
    where ${where}
    ${returningNumbered}`;
}

// A question stored here is unanswered, a failure, until its answer is stored. A complete answer
// ends that failure; an answer cut short ends it and is one itself, so the count stays.
const questionFailures = sql`1`;
const answerFailures = sql`case when ${placeholder("status")} = 'complete' then -1 else 0 end`;

/** The new user message and, for the model's memory, up to `historyLimit` messages before it. */
export type StoredQuestion = { question: ChatMessage; history: HistoryMessage[] };

export type QuestionInput = {
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
        limit ${placeholder("historyLimit")}
      ) recent)`;
    const stored = db
      .$with("stored", { ...messageColumns, history: sql<HistoryMessage[]>`history`.as("history") })
      .as(sql`
        insert into ${chatMessages}
          (${columnNames(chatMessages, "sessionId", "seq", "sender", "message", "timestamp", "clientMessageId")})
        select ${numbered.sessionId}, ${numbered.seq}, 'user', ${placeholder("question")}, ${numbered.at},
          ${placeholder("clientMessageId")}::uuid
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
      (${columnNames(chatSessions, "sessionUuid", "messageCount", "lastMessageAt", "readerId", "failures")})
    values (${placeholder("sessionUuid")}, 1, clock_timestamp(), (select ${reader.id} from ${reader}), ${questionFailures})
    ${returningNumbered}`,
  true,
);

/** Creates a session together with its first message, so a failed request leaves no empty session. */
export async function startSessionWithQuestion(db: Database, input: QuestionInput): Promise<StoredQuestion> {
  return (await insertQuestion(startSessionStatement, db, input))!;
}

const appendQuestionStatement = questionStatement("append_question", () =>
  nextSeq(
    sql`${chatSessions.sessionUuid} = ${placeholder("sessionUuid")}
      and ${usable}
      and not exists (
        select 1 from ${chatMessages}
        where ${chatMessages.sessionId} = ${chatSessions.id}
          and ${chatMessages.clientMessageId} = ${placeholder("clientMessageId")}::uuid)`,
    questionFailures,
  ),
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
      and(eq(question.sessionId, chatSessions.id), eq(question.clientMessageId, placeholder("clientMessageId"))),
    )
    .leftJoin(answer, eq(answer.replyToId, question.id))
    .where(and(eq(chatSessions.sessionUuid, placeholder("sessionUuid")), usable));
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
  const numbered = db
    .$with("numbered", numberedColumns)
    .as(nextSeq(sql`${chatSessions.id} = ${placeholder("sessionId")}`, answerFailures));
  const stored = db.$with("stored", messageColumns).as(sql`
    insert into ${chatMessages}
      (${columnNames(chatMessages, "sessionId", "seq", "sender", "message", "timestamp", "status", "replyToId", "sources", "metadata")})
    select ${numbered.sessionId}, ${numbered.seq}, 'bot', ${placeholder("text")}, ${numbered.at}, ${placeholder("status")},
      ${placeholder("replyToId")}, ${placeholder("sources")}::jsonb, ${placeholder("metadata")}::jsonb
    from ${numbered}
    ${returningMessage}`);
  return db.with(numbered, stored).select().from(stored);
});

const answerToStatement = statement("answer_to", (db) =>
  db
    .select(messageColumns)
    .from(chatMessages)
    .where(eq(chatMessages.replyToId, placeholder("replyToId"))),
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
    .where(and(eq(chatMessages.sessionId, placeholder("sessionId")), lt(chatMessages.seq, placeholder("beforeSeq"))))
    .orderBy(desc(chatMessages.seq))
    .limit(placeholder("limit")),
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
