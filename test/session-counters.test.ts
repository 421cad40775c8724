// The session counters behind the admin list's "failures" and "rated down" filters (schema.ts,
// chat_sessions.failures and rated_down): after every kind of write, equal to a recount of the
// session's messages by hand-written SQL, the way the list counts them (docs/api.md §13.2). Runs
// the service's own statements (src/db/) against the real PostgreSQL of test/global-setup.ts.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type AdminSessionsQuery, listAdminSessions } from "../src/db/admin";
import { createDatabase, type Database } from "../src/db/client";
import { type ImportedMessage, importSession } from "../src/db/lifecycle";
import { deleteSession, writeFeedback } from "../src/db/sessions";
import { appendQuestion, startSessionWithQuestion, storeAnswer } from "../src/db/turns";
import { openSql, recordingDatabase } from "./helpers/database";

const anonymous = { retentionDays: null, reader: null };
type Counters = { failures: number; ratedDown: number };

function database(): Database {
  return createDatabase(env.HYPERDRIVE.connectionString, 5000);
}

/** The session's counters as stored, and as counted from its messages by hand. */
async function countersAndRecount(sessionUuid: string): Promise<{ stored: Counters; recounted: Counters }> {
  const sql = openSql();
  const [row] = await sql<{ failures: number; rated_down: number; recount_failures: number; recount_down: number }[]>`
    select s.failures, s.rated_down,
      (select count(*) filter (where m.sender = 'user' and not m.imported)
          - count(*) filter (where m.sender = 'bot' and not m.imported)
          + count(*) filter (where m.status = 'incomplete' and not m.imported)
        from (select sender, status, coalesce(metadata ->> 'imported' = 'true', false) as imported
          from chat_messages where session_id = s.id) m)::int as recount_failures,
      (select count(*) from chat_messages where session_id = s.id and feedback_rating = 'down')::int as recount_down
    from chat_sessions s where s.session_uuid = ${sessionUuid}`;
  return {
    stored: { failures: row!.failures, ratedDown: row!.rated_down },
    recounted: { failures: row!.recount_failures, ratedDown: row!.recount_down },
  };
}

/** Asserts the stored counters equal the recount, and are `expected`. */
async function expectCounters(sessionUuid: string, expected: Counters): Promise<void> {
  const { stored, recounted } = await countersAndRecount(sessionUuid);
  expect(recounted).toEqual(expected);
  expect(stored).toEqual(recounted);
}

function question(sessionUuid: string, text: string, clientMessageId: string = crypto.randomUUID()) {
  return { sessionUuid, question: text, clientMessageId, historyLimit: 10, access: anonymous };
}

function answer(sessionId: number, replyToId: number, status: "complete" | "incomplete") {
  return { sessionId, replyToId, text: `An answer (${status})`, status, sources: [], metadata: null };
}

describe("the session's failures and rated_down counters", () => {
  it("follow a conversation: questions, answers complete and cut short, unanswered, retried", async () => {
    const db = database();
    const sessionUuid = crypto.randomUUID();
    const first = await startSessionWithQuestion(db, question(sessionUuid, "What is a ZMP?"));
    const sessionId = first.question.sessionId;
    await expectCounters(sessionUuid, { failures: 1, ratedDown: 0 });

    await storeAnswer(db, answer(sessionId, first.question.id, "complete"));
    await expectCounters(sessionUuid, { failures: 0, ratedDown: 0 });

    const retriedId = crypto.randomUUID();
    const second = await appendQuestion(db, question(sessionUuid, "And a gait?", retriedId));
    await expectCounters(sessionUuid, { failures: 1, ratedDown: 0 });
    // The same turn again stores nothing new, and counts nothing new.
    expect(await appendQuestion(db, question(sessionUuid, "And a gait?", retriedId))).toBeNull();
    await expectCounters(sessionUuid, { failures: 1, ratedDown: 0 });

    // An answer cut short ends the question's failure and is one itself.
    const cut = await storeAnswer(db, answer(sessionId, second!.question.id, "incomplete"));
    await expectCounters(sessionUuid, { failures: 1, ratedDown: 0 });
    // A raced retry of the answer finds the stored one and changes nothing.
    expect((await storeAnswer(db, answer(sessionId, second!.question.id, "complete")))!.id).toBe(cut!.id);
    await expectCounters(sessionUuid, { failures: 1, ratedDown: 0 });

    // A question the model never answers stays a failure.
    await appendQuestion(db, question(sessionUuid, "Never answered"));
    await expectCounters(sessionUuid, { failures: 2, ratedDown: 0 });
  });

  it("follow feedback given, changed, given again and taken back, on answers complete or cut short", async () => {
    const db = database();
    const sessionUuid = crypto.randomUUID();
    const first = await startSessionWithQuestion(db, question(sessionUuid, "What is a ZMP?"));
    const sessionId = first.question.sessionId;
    const complete = await storeAnswer(db, answer(sessionId, first.question.id, "complete"));
    const second = await appendQuestion(db, question(sessionUuid, "And a gait?"));
    const cut = await storeAnswer(db, answer(sessionId, second!.question.id, "incomplete"));
    const rate = (messageId: number, rating: "up" | "down" | null) =>
      writeFeedback(db, {
        sessionUuid,
        messageId,
        feedback: rating === null ? null : { rating, comment: null },
        access: anonymous,
      });

    await rate(complete!.id, "down");
    await expectCounters(sessionUuid, { failures: 1, ratedDown: 1 });
    await rate(complete!.id, "down");
    await expectCounters(sessionUuid, { failures: 1, ratedDown: 1 });
    await rate(cut!.id, "down");
    await expectCounters(sessionUuid, { failures: 1, ratedDown: 2 });
    await rate(complete!.id, "up");
    await expectCounters(sessionUuid, { failures: 1, ratedDown: 1 });
    await rate(cut!.id, null);
    await expectCounters(sessionUuid, { failures: 1, ratedDown: 0 });
    // A question is rated by nobody: nothing is written, nothing counted.
    await rate(first.question.id, "down");
    await expectCounters(sessionUuid, { failures: 1, ratedDown: 0 });
  });

  it("stay exact under feedback written concurrently on one answer", async () => {
    const sessionUuid = crypto.randomUUID();
    const db = database();
    const first = await startSessionWithQuestion(db, question(sessionUuid, "What is a ZMP?"));
    const stored = await storeAnswer(db, answer(first.question.sessionId, first.question.id, "complete"));
    // Each write on its own connection, so that they race in the database.
    const ratings = Array.from({ length: 24 }, (_, i) => (i % 3 === 2 ? null : i % 3 === 0 ? "down" : "up"));
    await Promise.all(
      ratings.map((rating) =>
        writeFeedback(database(), {
          sessionUuid,
          messageId: stored!.id,
          feedback: rating === null ? null : { rating, comment: null },
          access: anonymous,
        }),
      ),
    );
    const { stored: counters, recounted } = await countersAndRecount(sessionUuid);
    expect(counters).toEqual(recounted);
  });

  it("count an import's ratings down but none of its unanswered questions or cut answers", async () => {
    const messages: ImportedMessage[] = [
      {
        seq: 1,
        sender: "user",
        message: "Q1",
        at: null,
        status: "complete",
        sources: [],
        replyToSeq: null,
        feedback: null,
      },
      {
        seq: 2,
        sender: "bot",
        message: "A1",
        at: null,
        status: "incomplete",
        sources: [],
        replyToSeq: 1,
        feedback: { rating: "down", comment: "cut", at: null },
      },
      {
        seq: 3,
        sender: "user",
        message: "Q2",
        at: null,
        status: "complete",
        sources: [],
        replyToSeq: null,
        feedback: null,
      },
      {
        seq: 4,
        sender: "bot",
        message: "A2",
        at: null,
        status: "complete",
        sources: [],
        replyToSeq: 3,
        feedback: { rating: "up", comment: null, at: null },
      },
      {
        seq: 5,
        sender: "user",
        message: "Q3",
        at: null,
        status: "complete",
        sources: [],
        replyToSeq: null,
        feedback: null,
      },
    ];
    const sessionUuid = crypto.randomUUID();
    await importSession(database(), {
      sessionUuid,
      importId: crypto.randomUUID(),
      importHash: "counted",
      messages,
      metadata: { imported: true },
      reader: null,
    });
    await expectCounters(sessionUuid, { failures: 0, ratedDown: 1 });
    // A question asked here after the import is a failure until answered.
    await appendQuestion(database(), question(sessionUuid, "Asked here"));
    await expectCounters(sessionUuid, { failures: 1, ratedDown: 1 });
  });

  it("go with the session: erasing it deletes its messages and its counters together", async () => {
    const db = database();
    const sessionUuid = crypto.randomUUID();
    await startSessionWithQuestion(db, question(sessionUuid, "Erase me"));
    await expectCounters(sessionUuid, { failures: 1, ratedDown: 0 });
    expect(await deleteSession(db, sessionUuid, anonymous)).toBe("live");
    const sql = openSql();
    expect(await sql`select 1 from chat_sessions where session_uuid = ${sessionUuid}`).toHaveLength(0);
  });
});

class RolledBack extends Error {
  constructor(readonly plans: string[]) {
    super("rolled back");
  }
}

describe("the admin list filtered by the counters", () => {
  it("reads the first page of sessions with failures, or rated down, from its partial index (EXPLAIN ANALYZE among 100,000 sessions, 1 % of each)", async () => {
    const sql = openSql();
    const { db, sent } = recordingDatabase();
    const query: AdminSessionsQuery = {
      from: null,
      to: null,
      minMessages: 0,
      hasFailures: true,
      hasNegativeFeedback: false,
      reader: null,
      after: null,
      limit: 50,
      titleLength: 80,
    };
    await listAdminSessions(db, query);
    await listAdminSessions(db, { ...query, hasFailures: false, hasNegativeFeedback: true });
    const plans = await sql
      .begin(async (tx) => {
        await tx`set local statement_timeout = '120s'`;
        // 100,000 sessions of one answered question, newest every minute back; each 100th ends with
        // a question never answered, and each 100th (another one) has its answer rated down. Rolled
        // back at the end, so that no other test sees them.
        await tx`
          with sessions as (
            insert into chat_sessions (session_uuid, created_at, last_message_at, message_count, failures, rated_down)
            select gen_random_uuid(), now() - make_interval(mins => n) - interval '10 years',
              now() - make_interval(mins => n) - interval '10 years', case when n % 100 = 0 then 3 else 2 end,
              (n % 100 = 0)::int, (n % 100 = 50)::int
            from generate_series(1, 100000) n
            returning id, created_at, message_count, rated_down),
          questions as (
            insert into chat_messages (session_id, seq, sender, message, timestamp)
            select id, seq, 'user', 'Question ' || seq, created_at from sessions, generate_series(1, message_count, 2) seq
            returning id, session_id, seq)
          insert into chat_messages (session_id, seq, sender, message, timestamp, reply_to_id, feedback_rating, feedback_at)
          select q.session_id, 2, 'bot', 'Answer', s.created_at, q.id,
            case when s.rated_down > 0 then 'down' end, case when s.rated_down > 0 then s.created_at end
          from questions q join sessions s on s.id = q.session_id where q.seq = 1`;
        await tx`analyze chat_sessions, chat_messages`;
        const explained: string[] = [];
        for (const statement of sent) {
          const rows = await tx.unsafe(`explain (analyze, buffers) ${statement.sql}`, statement.params as never[]);
          explained.push(rows.map((row) => row["QUERY PLAN"]).join("\n"));
        }
        throw new RolledBack(explained);
      })
      .catch((error: unknown) => {
        if (error instanceof RolledBack) return error.plans;
        throw error;
      });
    const [failing, ratedDown] = plans;
    console.log(
      `EXPLAIN ANALYZE of has_failures=true:\n${failing}\n\nand of has_negative_feedback=true:\n${ratedDown}`,
    );
    expect(failing).toMatch(/Index Scan (Backward )?using chat_sessions_failures_activity_idx/);
    expect(ratedDown).toMatch(/Index Scan (Backward )?using chat_sessions_rated_down_activity_idx/);
    for (const plan of [failing!, ratedDown!]) {
      expect(plan).not.toMatch(/Seq Scan on chat_sessions|Index Scan (Backward )?using chat_sessions_activity_idx/);
    }
  }, 120_000);
});
