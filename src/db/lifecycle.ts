/**
 * The statements of a session's life outside a conversation: a whole transcript imported at once
 * (lifecycle/import.ts) and the expired sessions purged in batches (lifecycle/retention.ts).
 */
import { eq, getTableColumns, sql } from "drizzle-orm";
import type { FeedbackRating, MessageStatus, Sender, Source } from "../conversation";
import type { Reader } from "../reader";
import type { Database } from "./client";
import {
  accessValues,
  columnNames,
  lastActivity,
  ownedByRequest,
  placeholder,
  readerRow,
  type SessionAccess,
  unexpired,
} from "./fragments";
import { type ChatSession, chatMessages, chatSessions } from "./schema";
import { statement } from "./statement";

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
      (${columnNames(chatSessions, "sessionUuid", "messageCount", "lastMessageAt", "importId", "importHash", "readerId", "ratedDown")})
    values (${placeholder("sessionUuid")}, ${placeholder("messageCount")}, clock_timestamp(), ${placeholder("importId")}::uuid,
      ${placeholder("importHash")}, (select ${reader.id} from ${reader}), ${placeholder("ratedDown")})
    on conflict (${columnNames(chatSessions, "importId")}) do nothing
    returning *`);
  const transcript = sql`jsonb_to_recordset(${placeholder("messages")}::jsonb)
    as transcript(seq integer, sender text, message text, at timestamptz, status text, sources jsonb, "replyToSeq" integer, feedback jsonb)`;
  // Timestamps go no later than the import itself, so later messages never go back in time.
  const at = sql`least(coalesce(transcript.at, ${created.lastMessageAt}), ${created.lastMessageAt})`;
  // Feedback is dated no earlier than its answer and no later than the session's created_at, so
  // that any rating given here afterwards is later than it (readStats counts only those).
  const feedbackAt = sql`case when transcript.feedback ->> 'rating' is not null then
    least(greatest(coalesce((transcript.feedback ->> 'at')::timestamptz, ${created.createdAt}), ${at}), ${created.createdAt}) end`;
  const metadata = sql`${placeholder("metadata")}::jsonb`;
  const questions = db.$with("questions", { id: chatMessages.id, seq: chatMessages.seq }).as(sql`
    insert into ${chatMessages}
      (${columnNames(chatMessages, "sessionId", "seq", "sender", "message", "timestamp", "metadata")})
    select ${created.id}, transcript.seq, 'user', transcript.message, ${at}, ${metadata}
    from ${created}, ${transcript}
    where transcript.sender = 'user'
    returning ${chatMessages.id}, ${chatMessages.seq}`);
  const answers = db.$with("answers", { id: chatMessages.id }).as(sql`
    insert into ${chatMessages}
      (${columnNames(
        chatMessages,
        "sessionId",
        "seq",
        "sender",
        "message",
        "timestamp",
        "status",
        "replyToId",
        "sources",
        "metadata",
        "feedbackRating",
        "feedbackComment",
        "feedbackAt",
      )})
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
    // Imported messages are no failures (db/admin.ts), but their ratings count as any other.
    ratedDown: input.messages.filter((message) => message.feedback?.rating === "down").length,
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
    .where(eq(chatSessions.importId, placeholder("importId"))),
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

const expiredBatchStatement = statement("delete_expired_sessions", (db) => {
  const candidates = db.$with("candidates", { id: chatSessions.id }).as(sql`
    select ${chatSessions.id}, ${chatSessions.messageCount}, ${lastActivity} as at
    from ${chatSessions}
    where ${lastActivity} < ${placeholder("before")}::timestamptz
    order by ${lastActivity}
    limit ${placeholder("maxSessions")}
    for update skip locked`);
  const chosen = db.$with("chosen", { id: chatSessions.id }).as(sql`
    select id from (
      select id, message_count, sum(message_count) over (order by at, id) as running from ${candidates}
    ) ranked
    where running - message_count < ${placeholder("maxMessages")}`);
  const deleted = db.$with("deleted", { id: chatSessions.id }).as(sql`
    delete from ${chatSessions} where ${chatSessions.id} in (select id from ${chosen})
    returning ${chatSessions.id}`);
  return db
    .with(candidates, chosen, deleted)
    .select({
      sessions: sql<number>`count(*)::int`,
      messages: sql<number>`(select count(*) from ${chatMessages} where ${chatMessages.sessionId} in (select id from ${chosen}))::int`,
      more: sql<boolean>`(select count(*) from ${candidates}) > count(*) or (select count(*) from ${candidates}) = ${placeholder("maxSessions")}::int`,
    })
    .from(deleted);
});

/**
 * Deletes one batch of the sessions whose last activity is before `before`, oldest first, with
 * their messages: at most `maxSessions` sessions, and no more sessions once `maxMessages` messages
 * are reached (the first session always goes, however long), so that one statement, and the row
 * locks it holds, stay short. Sessions another statement has locked (a turn being stored) are
 * skipped, and a session that received a message meanwhile no longer matches when its lock is
 * taken. Messages are counted in the statement's snapshot, before the cascade deletes them.
 */
export async function deleteExpiredSessions(db: Database, limits: ExpiredBatchLimits): Promise<ExpiredBatch> {
  const [row] = await expiredBatchStatement(db).execute({ ...limits, before: limits.before.toISOString() });
  return row!;
}
