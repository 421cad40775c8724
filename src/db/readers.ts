/**
 * The statements of a signed-in reader's own conversations (GET, POST and DELETE /api/me/*,
 * PATCH /api/sessions/{uuid}): each one statement but the erasure, which goes in bounded batches.
 * They share the session access rules of fragments.ts.
 */
import { and, desc, eq, sql } from "drizzle-orm";
import type { Reader } from "../reader";
import type { Database } from "./client";
import {
  accessValues,
  lastActivity,
  name,
  placeholder,
  type RetentionDays,
  readerRow,
  requestReaderId,
  type SessionAccess,
  unexpired,
  usable,
} from "./fragments";
import { type ChatSession, chatMessages, chatSessions, readers } from "./schema";
import { statement } from "./statement";

/** How much of a first question is read for a title: enough to cut it at a word (schemas/readers.ts). */
export const titleSourceLength = 120;

/** A session in the reader's list: the row, and its first question's start for a default title. */
export type ReaderSessionRow = { session: ChatSession; firstQuestion: string | null };

export type ReaderSessionsQuery = {
  reader: Reader;
  retentionDays: RetentionDays;
  /** Only sessions after this one in the list's order (activity, then id, both descending). */
  after: { activity: Date; id: number } | null;
  /** How many to read: the page and one more, to tell whether more follow. */
  limit: number;
};

const readerSessionsStatement = statement("reader_sessions", (db) => {
  const afterActivity = sql`${placeholder("afterActivity")}::timestamptz`;
  const afterId = sql`${placeholder("afterId")}::bigint`;
  // A lateral join, not a subquery in the select list: Drizzle writes a one-table select's columns
  // without their table, and there "id" would be chat_messages.id, not the session's.
  const firstQuestion = db
    .select({ text: sql<string>`left(${chatMessages.message}, ${titleSourceLength})`.as("first_question_text") })
    .from(chatMessages)
    .where(and(eq(chatMessages.sessionId, chatSessions.id), eq(chatMessages.seq, 1), eq(chatMessages.sender, "user")))
    .as("first_question");
  return (
    db
      .select({ session: chatSessions, firstQuestion: firstQuestion.text })
      .from(chatSessions)
      .leftJoinLateral(firstQuestion, sql`true`)
      .where(
        and(
          eq(chatSessions.readerId, requestReaderId),
          unexpired,
          // A row comparison, which PostgreSQL reads as a bound of the index: an OR of the two
          // cases would be a filter, and a page deep in the list would read every row before it.
          sql`(${afterActivity} is null or (${lastActivity}, ${chatSessions.id}) < (${afterActivity}, ${afterId}))`,
        ),
      )
      // chat_sessions_reader_activity_idx, read in its order from the cursor on.
      .orderBy(desc(lastActivity), desc(chatSessions.id))
      .limit(placeholder("limit"))
  );
});

/** The reader's live sessions, newest activity first, a page at a time. */
export async function listReaderSessions(db: Database, query: ReaderSessionsQuery): Promise<ReaderSessionRow[]> {
  return readerSessionsStatement(db).execute({
    ...accessValues({ retentionDays: query.retentionDays, reader: query.reader }),
    afterActivity: query.after?.activity.toISOString() ?? null,
    afterId: query.after?.id ?? null,
    limit: query.limit,
  });
}

const claimStatement = statement("claim_sessions", (db) => {
  const reader = readerRow(db);
  const claimed = db.$with("claimed", { sessionUuid: chatSessions.sessionUuid }).as(sql`
    update ${chatSessions}
    set ${name(chatSessions.readerId)} = (select ${reader.id} from ${reader})
    where ${chatSessions.sessionUuid} = any(${placeholder("sessionUuids")}::uuid[])
      and ${usable}
    returning ${chatSessions.sessionUuid}`);
  return db.with(reader, claimed).select().from(claimed);
});

/**
 * Makes every anonymous live session among `sessionUuids` the reader's, in one statement, and
 * returns those that are now the reader's (the ones already theirs included). Sessions that do
 * not exist, have expired or are another reader's are left as they are and not returned.
 */
export async function claimSessions(
  db: Database,
  access: SessionAccess & { reader: Reader },
  sessionUuids: string[],
): Promise<string[]> {
  // A PostgreSQL array literal: the UUIDs are validated, so none holds a comma, brace or quote.
  const rows = await claimStatement(db).execute({
    ...accessValues(access),
    sessionUuids: `{${sessionUuids.join(",")}}`,
  });
  return rows.map((row) => row.sessionUuid);
}

const renameStatement = statement("rename_session", (db) =>
  db
    .update(chatSessions)
    .set({ title: sql`${placeholder("title")}::text` })
    .where(and(eq(chatSessions.sessionUuid, placeholder("sessionUuid")), usable))
    .returning(),
);

/** Gives the session a title of the reader's (null: back to its first question). Null: no such session. */
export async function renameSession(
  db: Database,
  sessionUuid: string,
  title: string | null,
  access: SessionAccess,
): Promise<ChatSession | null> {
  const [renamed] = await renameStatement(db).execute({ sessionUuid, title, ...accessValues(access) });
  return renamed ?? null;
}

/** Sessions erased per statement by eraseReader: a short statement each, whatever a reader holds. */
export const erasureBatch = 200;

const eraseSessionsStatement = statement("erase_reader_sessions", (db) => {
  const batch = db.$with("batch", { id: chatSessions.id }).as(sql`
    select ${chatSessions.id} from ${chatSessions}
    where ${chatSessions.readerId} = ${requestReaderId}
    limit ${placeholder("batch")}`);
  const erased = db.$with("erased", { id: chatSessions.id }).as(sql`
    delete from ${chatSessions} where ${chatSessions.id} in (select id from ${batch})
    returning ${chatSessions.id}`);
  return db.with(batch, erased).select({ sessions: sql<number>`count(*)::int` }).from(erased);
});

const eraseReaderStatement = statement("erase_reader", (db) =>
  db
    .delete(readers)
    .where(and(eq(readers.issuer, placeholder("readerIssuer")), eq(readers.subject, placeholder("readerSubject"))))
    .returning({ id: readers.id }),
);

/**
 * Erases every session of the reader, with its messages, expired ones too, then the
 * reader's row: for good. In batches of `erasureBatch` sessions, so that no statement holds many
 * locks for long; an erasure cut short is finished by the next call. Returns the sessions erased.
 */
export async function eraseReader(db: Database, reader: Reader): Promise<number> {
  const values = { ...accessValues({ retentionDays: null, reader }), batch: erasureBatch };
  let erased = 0;
  for (;;) {
    const [row] = await eraseSessionsStatement(db).execute(values);
    erased += row?.sessions ?? 0;
    if ((row?.sessions ?? 0) < erasureBatch) break;
  }
  await eraseReaderStatement(db).execute(values);
  return erased;
}
