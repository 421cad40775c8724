import type { TransactionSql } from "postgres";
import type { FeedbackRating, Source } from "../../src/conversation";
import type { openSql } from "./database";

type Sql = ReturnType<typeof openSql>;

export type SeededAnswer = {
  text?: string;
  status?: "complete" | "incomplete";
  metadata?: Record<string, unknown> | null;
  sources?: Source[];
  feedback?: { rating: FeedbackRating; comment?: string; at: Date };
  /** Default: a second after the question. */
  at?: Date;
};

export type SeededTurn = {
  question: string;
  at: Date;
  questionMetadata?: Record<string, unknown>;
  /** null: the question was never answered. */
  answer?: SeededAnswer | null;
};

export type SeededConversation = { sessionUuid: string; sessionId: number; messageIds: number[] };

/**
 * Writes a conversation straight into the tables, with the times given, as the service would have
 * stored it (seq, reply_to_id, the session's counters and last message). For tests that need
 * history in a time range of their own, far from what other tests write "now".
 */
export async function seedConversation(
  sql: Sql | TransactionSql,
  conversation: Conversation,
): Promise<SeededConversation> {
  // One transaction, as the service writes one: the session is written before its messages, so the
  // transaction has its ID before a message takes its number, which the statistics' sweep relies
  // on (drizzle/0012). A test's own transaction is one already.
  if (!("begin" in sql)) return writeConversation(sql, conversation);
  return (await sql.begin((tx) => writeConversation(tx, conversation))) as SeededConversation;
}

type Conversation = {
  createdAt: Date;
  turns: SeededTurn[];
  /** A session made by POST /api/sessions/import (created at its import) carries its import_id. */
  importId?: string | null;
  /** The readers row it belongs to (seedReader); null: anonymous. */
  readerId?: number | null;
};

async function writeConversation(
  sql: TransactionSql,
  { createdAt, turns, importId = null, readerId = null }: Conversation,
): Promise<SeededConversation> {
  const sessionUuid = crypto.randomUUID();
  const [session] = await sql<{ id: string }[]>`
    insert into chat_sessions (session_uuid, created_at, message_count, import_id, import_hash, reader_id)
    values (${sessionUuid}, ${createdAt}, 0, ${importId}, ${importId === null ? null : "seeded"}, ${readerId})
    returning id`;
  const sessionId = Number(session!.id);
  const messageIds: number[] = [];
  let seq = 0;
  let last: Date | null = null;
  for (const turn of turns) {
    const [question] = await sql<{ id: string }[]>`
      insert into chat_messages (session_id, seq, sender, message, timestamp, metadata)
      values (${sessionId}, ${++seq}, 'user', ${turn.question}, ${turn.at},
        ${turn.questionMetadata ? sql.json(turn.questionMetadata as never) : null})
      returning id`;
    messageIds.push(Number(question!.id));
    last = turn.at;
    const answer = turn.answer === undefined ? {} : turn.answer;
    if (answer === null) continue;
    const at = answer.at ?? new Date(turn.at.getTime() + 1000);
    const [stored] = await sql<{ id: string }[]>`
      insert into chat_messages (session_id, seq, sender, message, timestamp, status, reply_to_id, sources, metadata,
        feedback_rating, feedback_comment, feedback_at)
      values (${sessionId}, ${++seq}, 'bot', ${answer.text ?? `An answer to: ${turn.question}`}, ${at},
        ${answer.status ?? "complete"}, ${Number(question!.id)}, ${sql.json((answer.sources ?? []) as never)},
        ${answer.metadata ? sql.json(answer.metadata as never) : null},
        ${answer.feedback?.rating ?? null}, ${answer.feedback?.comment ?? null}, ${answer.feedback?.at ?? null})
      returning id`;
    messageIds.push(Number(stored!.id));
    last = at;
  }
  // The counters the service keeps as it writes (src/db/schema.ts), recounted here as the admin list
  // counts: questions asked here less answers stored here, plus answers cut short here; ratings down.
  await sql`
    update chat_sessions set message_count = ${seq}, last_message_at = ${last},
      failures = (
        select count(*) filter (where sender = 'user' and not imported) - count(*) filter (where sender = 'bot' and not imported)
          + count(*) filter (where status = 'incomplete' and not imported)
        from (select sender, status, coalesce(metadata -> 'imported' = 'true'::jsonb, false) as imported
          from chat_messages where session_id = ${sessionId}) as messages),
      rated_down = (select count(*) from chat_messages where session_id = ${sessionId} and feedback_rating = 'down')
    where id = ${sessionId}`;
  return { sessionUuid, sessionId, messageIds };
}

export type SeededReader = { id: number; reference: string; issuer: string; subject: string };

/** A signed-in reader as the service would have recorded them on first use: a readers row. */
export async function seedReader(sql: Sql, issuer = "https://book.example"): Promise<SeededReader> {
  const subject = `reader-${crypto.randomUUID()}`;
  const [reader] = await sql<{ id: string; reference: string }[]>`
    insert into readers (issuer, subject) values (${issuer}, ${subject}) returning id, reference`;
  return { id: Number(reader!.id), reference: reader!.reference, issuer, subject };
}

/** A time in a year no other test writes to, so that a test's range holds only its own data. */
export function inYear(year: number, month: number, day: number, hour = 0, minute = 0): Date {
  return new Date(Date.UTC(year, month - 1, day, hour, minute));
}
