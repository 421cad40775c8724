/**
 * Every statement the service runs, one named function each. Each function runs one statement
 * (storeAnswer a second one only after losing a race); none opens a transaction, because each
 * statement is atomic on its own: a message and the session counter that numbers it are written
 * by the same statement. docs/benchmarks.md counts the round trips.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Message, SessionSummary, Source } from "../schemas/responses";
import type { Database } from "./client";
import { isUniqueViolation } from "./errors";
import type { MessageStatus, Sender } from "./schema";

export type { Message, SessionSummary } from "../schemas/responses";

/** A message as the model's memory holds it. */
export type HistoryMessage = { sender: Sender; message: string };

/** RFC 3339 UTC with milliseconds, as the API promises; the columns are stored at ms precision. */
function rfc3339(column: SQL): SQL {
  return sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** The API's message object (messageSchema, docs/api.md §3), built from the chat_messages row `alias`. */
function messageJson(alias: "m" | "question" | "answer"): SQL {
  const m = sql.raw(alias);
  return sql`json_build_object(
    'id', ${m}.id, 'seq', ${m}.seq, 'sender', ${m}.sender, 'message', ${m}.message,
    'timestamp', ${rfc3339(sql`${m}.timestamp`)}, 'status', ${m}.status,
    'client_message_id', ${m}.client_message_id, 'sources', ${m}.sources)`;
}

const sessionSummaryColumns = sql`session_uuid, ${rfc3339(sql`created_at`)} as created_at,
  ${rfc3339(sql`last_message_at`)} as last_message_at, message_count`;

// Each message takes the next seq from its session's counter in the statement that inserts it.
// Row locks on the session serialise concurrent turns, and a statement that fails rolls the
// counter back with it, so seq values are distinct and without gaps. clock_timestamp() is read
// after the lock is granted, so timestamps do not go backwards as seq goes up.

export async function pingDatabase(db: Database): Promise<void> {
  await db.execute(sql`select 1`);
}

export async function createSession(db: Database, sessionUuid: string): Promise<SessionSummary> {
  const rows = await db.execute<SessionSummary>(sql`
    insert into chat_sessions (session_uuid) values (${sessionUuid})
    returning ${sessionSummaryColumns}`);
  return rows[0]!;
}

export async function findSession(db: Database, sessionUuid: string): Promise<SessionSummary | null> {
  const rows = await db.execute<SessionSummary>(sql`
    select ${sessionSummaryColumns} from chat_sessions where session_uuid = ${sessionUuid}`);
  return rows[0] ?? null;
}

/** Deletes the session and, by cascade, its messages. False when there was no such session. */
export async function deleteSession(db: Database, sessionUuid: string): Promise<boolean> {
  const rows = await db.execute(sql`
    delete from chat_sessions where session_uuid = ${sessionUuid} returning id`);
  return rows.length > 0;
}

/** The new user message and, for the model's memory, up to `historyLimit` messages before it. */
export type StoredQuestion = { sessionId: number; question: Message; history: HistoryMessage[] };

type QuestionInput = {
  sessionUuid: string;
  question: string;
  clientMessageId: string | null;
  historyLimit: number;
};

type StoredQuestionRow = { session_id: string; question: Message; history: HistoryMessage[] };

/**
 * The tail of a statement whose `session` CTE returned the session row and the seq to use. The
 * history is read in the same statement, saving a round trip per turn; its snapshot predates the
 * insert, so it holds the messages before the question (a turn racing on the same session may be
 * missing from it, as it would be from a separate read).
 */
function insertQuestionFromSession(input: QuestionInput): SQL {
  return sql`m as (
      insert into chat_messages (session_id, seq, sender, message, timestamp, client_message_id)
      select id, message_count, 'user', ${input.question}, last_message_at, ${input.clientMessageId}::uuid
      from session
      returning *
    )
    select m.session_id, ${messageJson("m")} as question, ${historyBefore(sql`m.session_id`, null, input.historyLimit)} as history
    from m`;
}

function toStoredQuestion(row: StoredQuestionRow): StoredQuestion {
  return { sessionId: Number(row.session_id), question: row.question, history: row.history };
}

/** The last `limit` messages of a session (before seq `beforeSeq`, if given), oldest first, as JSON. */
function historyBefore(sessionId: SQL, beforeSeq: number | null, limit: number): SQL {
  const bound = beforeSeq === null ? sql`` : sql`and seq < ${beforeSeq}`;
  return sql`(
      select coalesce(json_agg(json_build_object('sender', recent.sender, 'message', recent.message) order by recent.seq), '[]'::json)
      from (
        select seq, sender, message from chat_messages
        where session_id = ${sessionId} ${bound}
        order by seq desc
        limit ${limit}
      ) recent)`;
}

/** Creates a session together with its first message, so a failed request leaves no empty session. */
export async function startSessionWithQuestion(db: Database, input: QuestionInput): Promise<StoredQuestion> {
  const rows = await db.execute<StoredQuestionRow>(sql`
    with session as (
      insert into chat_sessions (session_uuid, message_count, last_message_at)
      values (${input.sessionUuid}, 1, clock_timestamp())
      returning id, message_count, last_message_at
    ), ${insertQuestionFromSession(input)}`);
  return toStoredQuestion(rows[0]!);
}

/**
 * Appends a user message to an existing session. Null when the session does not exist or
 * already holds a message with this client_message_id (a replay; see `findTurn`).
 */
export async function appendQuestion(db: Database, input: QuestionInput): Promise<StoredQuestion | null> {
  try {
    const rows = await db.execute<StoredQuestionRow>(sql`
      with session as (
        update chat_sessions
        set message_count = message_count + 1, last_message_at = clock_timestamp()
        where session_uuid = ${input.sessionUuid}
          and not exists (
            select 1 from chat_messages
            where session_id = chat_sessions.id and client_message_id = ${input.clientMessageId}::uuid)
        returning id, message_count, last_message_at
      ), ${insertQuestionFromSession(input)}`);
    const row = rows[0];
    return row ? toStoredQuestion(row) : null;
  } catch (error) {
    // A concurrent duplicate committed first; the statement rolled back as a whole.
    if (isUniqueViolation(error, "chat_messages_session_client_message_id_unique")) return null;
    throw error;
  }
}

export type StoredTurn = { sessionId: number; question: Message | null; answer: Message | null };

/** The user message stored under a client_message_id and its answer, if any. Null: no session. */
export async function findTurn(db: Database, sessionUuid: string, clientMessageId: string): Promise<StoredTurn | null> {
  const rows = await db.execute<{ session_id: string; question: Message | null; answer: Message | null }>(sql`
    select s.id as session_id,
      case when question.id is null then null else ${messageJson("question")} end as question,
      case when answer.id is null then null else ${messageJson("answer")} end as answer
    from chat_sessions s
    left join chat_messages question
      on question.session_id = s.id and question.client_message_id = ${clientMessageId}::uuid
    left join chat_messages answer on answer.reply_to_id = question.id
    where s.session_uuid = ${sessionUuid}`);
  const row = rows[0];
  return row ? { sessionId: Number(row.session_id), question: row.question, answer: row.answer } : null;
}

export type AnswerInput = {
  sessionId: number;
  replyToId: number;
  text: string;
  status: MessageStatus;
  sources: Source[];
  metadata: Record<string, unknown> | null;
};

/**
 * Stores the bot's answer to a question. When another request already answered the same
 * question (a raced retry), that stored answer is returned instead. Null: the session is gone.
 */
export async function storeAnswer(db: Database, input: AnswerInput): Promise<Message | null> {
  try {
    const rows = await db.execute<{ answer: Message }>(sql`
      with session as (
        update chat_sessions
        set message_count = message_count + 1, last_message_at = clock_timestamp()
        where id = ${input.sessionId}
        returning id, message_count, last_message_at
      ), m as (
        insert into chat_messages
          (session_id, seq, sender, message, timestamp, status, reply_to_id, sources, metadata)
        select id, message_count, 'bot', ${input.text}, last_message_at, ${input.status},
          ${input.replyToId}, ${JSON.stringify(input.sources)}::jsonb,
          ${input.metadata === null ? null : JSON.stringify(input.metadata)}::jsonb
        from session
        returning *
      )
      select ${messageJson("m")} as answer from m`);
    return rows[0]?.answer ?? null;
  } catch (error) {
    if (!isUniqueViolation(error, "chat_messages_reply_to_id_unique")) throw error;
    const rows = await db.execute<{ answer: Message }>(sql`
      select ${messageJson("m")} as answer from chat_messages m where m.reply_to_id = ${input.replyToId}`);
    return rows[0]?.answer ?? null;
  }
}

/** The last `limit` messages before seq `beforeSeq`, oldest first: the model's memory of the session. */
export async function recentMessages(
  db: Database,
  sessionId: number,
  beforeSeq: number,
  limit: number,
): Promise<HistoryMessage[]> {
  const rows = await db.execute<{ history: HistoryMessage[] }>(
    sql`select ${historyBefore(sql`${sessionId}`, beforeSeq, limit)} as history`,
  );
  return rows[0]!.history;
}

export type HistoryPageQuery = {
  sessionUuid: string;
  order: "asc" | "desc";
  /** Only messages after this seq in the page's order (exclusive); null for the first page. */
  afterSeq: number | null;
  limit: number;
};

/**
 * One page of a session's messages in seq order, with one extra message to tell whether more
 * follow. Null: no such session. A seq is taken under the session's row lock and committed with
 * it, so any committed message has every smaller seq committed too: keyset pages over seq can
 * neither skip nor repeat a message while others are appended.
 */
export async function listMessages(db: Database, query: HistoryPageQuery): Promise<Message[] | null> {
  const direction = sql.raw(query.order === "asc" ? "asc" : "desc");
  const after =
    query.afterSeq === null
      ? sql``
      : query.order === "asc"
        ? sql`and m.seq > ${query.afterSeq}`
        : sql`and m.seq < ${query.afterSeq}`;
  const rows = await db.execute<{ messages: Message[] }>(sql`
    select coalesce((
      select json_agg(page.message order by page.seq ${direction})
      from (
        select m.seq, ${messageJson("m")} as message
        from chat_messages m
        where m.session_id = s.id ${after}
        order by m.seq ${direction}
        limit ${query.limit + 1}
      ) page
    ), '[]'::json) as messages
    from chat_sessions s
    where s.session_uuid = ${query.sessionUuid}`);
  return rows[0]?.messages ?? null;
}
