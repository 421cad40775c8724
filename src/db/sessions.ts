/**
 * The statements of a session used by its UUID (routes/sessions.ts, the history and export):
 * create, find and delete it, read its history a page at a time, and rate its answers. Each is
 * one statement, and each sees only a session the request may use (./fragments.ts, `usable`).
 */
import { and, eq, sql } from "drizzle-orm";
import type { FeedbackRating, Sender } from "../conversation";
import type { Reader } from "../reader";
import type { Database } from "./client";
import {
  accessValues,
  messageColumns,
  name,
  ownedByRequest,
  placeholder,
  readerRow,
  returningMessage,
  type SessionAccess,
  unexpired,
  usable,
} from "./fragments";
import { fieldsNamedAs, type PageQuery, pageMessages, pageStatements, pageValues, type Sized } from "./pages";
import { type ChatMessage, type ChatSession, chatMessages, chatSessions } from "./schema";
import { statement } from "./statement";

const createSessionStatement = statement("create_session", (db) => {
  const reader = readerRow(db);
  return db
    .with(reader)
    .insert(chatSessions)
    .values({ sessionUuid: placeholder("sessionUuid"), readerId: sql`(select ${reader.id} from ${reader})` })
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
    .where(and(eq(chatSessions.sessionUuid, placeholder("sessionUuid")), usable)),
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
    .where(and(eq(chatSessions.sessionUuid, placeholder("sessionUuid")), ownedByRequest))
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

export type HistoryPageQuery = PageQuery & { access: SessionAccess };

const historyPage = pageStatements("list_messages", { withMetadata: false }, (db, page, inOrder) =>
  db
    .select({ message: fieldsNamedAs(page, shownColumns), pageBytes: page.pageBytes })
    .from(chatSessions)
    .leftJoinLateral(page, sql`true`)
    .where(and(eq(chatSessions.sessionUuid, placeholder("sessionUuid")), usable))
    .orderBy(inOrder),
);

/**
 * One page of a session's messages in seq order, with one extra message to tell whether more
 * follow, cut short by size (pages.ts). Null: no such session, it has expired, or it is another
 * reader's. A seq is taken under the session's row lock and committed with it, so any committed
 * message has every smaller seq committed too: keyset pages over seq can neither skip nor repeat
 * a message while others are appended.
 */
export async function listMessages(db: Database, query: HistoryPageQuery): Promise<Sized<ShownMessage>[] | null> {
  const rows = await historyPage(query)(db).execute({ ...pageValues(query), ...accessValues(query.access) });
  if (rows.length === 0) return null;
  return pageMessages(rows);
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
      .leftJoin(
        chatMessages,
        and(eq(chatMessages.sessionId, chatSessions.id), eq(chatMessages.id, placeholder("messageId"))),
      )
      .where(and(eq(chatSessions.sessionUuid, placeholder("sessionUuid")), usable)),
  );
  // The answer's rating before this write, read under the locks of its session and then itself
  // (the order of a turn and of an erasure, so none of them waits on another in a cycle): a
  // rating written concurrently has committed by then, and the session's count of answers rated
  // down moves by the difference between that rating and the new one.
  const locked = db.$with("locked").as(
    db
      .select({
        messageId: chatMessages.id,
        sessionId: chatMessages.sessionId,
        wasDown: sql<boolean>`${chatMessages.feedbackRating} is not distinct from 'down'`.as("was_down"),
      })
      .from(chatSessions)
      .innerJoin(
        chatMessages,
        and(eq(chatMessages.sessionId, chatSessions.id), eq(chatMessages.id, placeholder("messageId"))),
      )
      .where(and(eq(chatSessions.sessionUuid, placeholder("sessionUuid")), usable, eq(chatMessages.sender, "bot")))
      .for("no key update", { of: [chatSessions, chatMessages] }),
  );
  const rated = db.$with("rated", messageColumns).as(sql`
    update ${chatMessages}
    set ${name(chatMessages.feedbackRating)} = ${placeholder("rating")}::text,
      ${name(chatMessages.feedbackComment)} = ${placeholder("comment")}::text,
      ${name(chatMessages.feedbackAt)} = case when ${placeholder("rating")}::text is null then null else clock_timestamp() end
    from ${locked}
    where ${chatMessages.id} = ${locked.messageId}
    ${returningMessage}`);
  const isDown = sql`(${placeholder("rating")}::text is not distinct from 'down')`;
  const counted = db.$with("counted", { id: chatSessions.id }).as(sql`
    update ${chatSessions}
    set ${name(chatSessions.ratedDown)} = ${chatSessions.ratedDown} + ${isDown}::int - ${locked.wasDown}::int
    from ${locked}
    where ${chatSessions.id} = ${locked.sessionId} and ${isDown} <> ${locked.wasDown}
    returning ${chatSessions.id}`);
  return db.with(target, locked, rated, counted).select().from(target).leftJoin(rated, sql`true`);
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
