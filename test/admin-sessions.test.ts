// The admin list of sessions and a whole conversation (docs/api.md §13.2, §13.3): newest activity
// first, each filter, cursor paging, every message's metadata. Conversations are written into 2003
// by SQL, a range no other test touches; calls the Worker's fetch handler with the admin token.
// EXPLAIN of the list's very statement goes to PostgreSQL directly.
import { beforeAll, describe, expect, it } from "vitest";
import { type AdminSessionsQuery, listAdminSessions } from "../src/db/admin";
import type { AdminMessage, AdminSession } from "../src/schemas/responses";
import { callAdmin, readAdmin } from "./helpers/admin";
import { openSql, recordingDatabase } from "./helpers/database";
import { ask, call, expectProblem } from "./helpers/http";
import { inYear, type SeededConversation, type SeededReader, seedConversation, seedReader } from "./helpers/seed";

type SessionsPage = { sessions: AdminSession[]; next_cursor: string | null };
type Conversation = {
  session: { session_uuid: string; message_count: number; reader: string | null };
  messages: AdminMessage[];
  next_cursor: string | null;
};

const range = "from=2003-03-01&to=2003-04-01";
const longQuestion = `How does a humanoid robot keep its balance when it walks on uneven ground, and ${"why ".repeat(20)}?`;
const seeded: Record<"a" | "b" | "c" | "d" | "e", SeededConversation> = {} as never;
/** Signed-in readers: the first owns a and c, the second d; b and e are anonymous. */
const readers: SeededReader[] = [];
const rag = (latency: number) => ({
  model: "gpt-test",
  usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
  latency_ms: latency,
  retrieval: { provider: "qdrant", collection: "book", passages: 1 },
});
const source = { title: "Chapter 3: Balance", url: "https://book.example/balance", snippet: "The ZMP…", score: 0.83 };

beforeAll(async () => {
  const sql = openSql();
  readers.push(await seedReader(sql), await seedReader(sql));
  seeded.a = await seedConversation(sql, {
    createdAt: inYear(2003, 3, 1, 10),
    readerId: readers[0]!.id,
    turns: [
      { question: longQuestion, at: inYear(2003, 3, 1, 10, 1) },
      { question: "And on stairs?", at: inYear(2003, 3, 1, 10, 5) },
    ],
  });
  seeded.b = await seedConversation(sql, {
    createdAt: inYear(2003, 3, 2, 9),
    turns: [
      {
        question: "Cut short",
        at: inYear(2003, 3, 2, 9, 1),
        answer: { status: "incomplete", text: "The answer was", metadata: { cut_short: "answer_timeout" } },
      },
    ],
  });
  seeded.c = await seedConversation(sql, {
    createdAt: inYear(2003, 3, 3, 8),
    readerId: readers[0]!.id,
    turns: [
      { question: "Answered", at: inYear(2003, 3, 3, 8, 1) },
      { question: "Never answered", at: inYear(2003, 3, 3, 8, 2), answer: null },
    ],
  });
  seeded.d = await seedConversation(sql, {
    createdAt: inYear(2003, 3, 4, 7),
    readerId: readers[1]!.id,
    turns: [
      {
        question: "Rated up",
        at: inYear(2003, 3, 4, 7, 1),
        answer: { metadata: rag(900), sources: [source], feedback: { rating: "up", at: inYear(2003, 3, 4, 7, 30) } },
      },
      {
        question: "Rated down",
        at: inYear(2003, 3, 4, 7, 2),
        answer: {
          metadata: rag(1500),
          feedback: { rating: "down", comment: "not what I asked", at: inYear(2003, 3, 4, 7, 31) },
        },
      },
      { question: "Not rated", at: inYear(2003, 3, 4, 7, 3) },
    ],
  });
  seeded.e = await seedConversation(sql, { createdAt: inYear(2003, 3, 5, 6), turns: [] });
});

async function listed(query: string): Promise<string[]> {
  const page = await readAdmin<SessionsPage>(`/api/admin/sessions?${range}&${query}`);
  return page.sessions.map((session) => session.session_uuid);
}

describe("GET /api/admin/sessions", () => {
  it("lists sessions newest activity first, each with its title, counts and ratings", async () => {
    const page = await readAdmin<SessionsPage>(`/api/admin/sessions?${range}`);
    const { a, b, c, d, e } = seeded;
    expect(page.sessions.map((s) => s.session_uuid)).toEqual([e, d, c, b, a].map((s) => s.sessionUuid));
    expect(page.next_cursor).toBeNull();
    const [empty, rated, unanswered, cut, long] = page.sessions;
    expect(empty).toEqual({
      session_uuid: e.sessionUuid,
      created_at: "2003-03-05T06:00:00.000Z",
      last_activity_at: "2003-03-05T06:00:00.000Z",
      message_count: 0,
      title: null,
      unanswered_questions: 0,
      incomplete_answers: 0,
      ratings: { up: 0, down: 0 },
      imported: false,
      reader: null,
    });
    expect(rated).toMatchObject({
      last_activity_at: "2003-03-04T07:03:01.000Z",
      message_count: 6,
      title: "Rated up",
      ratings: { up: 1, down: 1 },
    });
    expect(unanswered).toMatchObject({ message_count: 3, unanswered_questions: 1, incomplete_answers: 0 });
    expect(cut).toMatchObject({ message_count: 2, unanswered_questions: 0, incomplete_answers: 1 });
    expect(long!.title).toBe(`${[...longQuestion].slice(0, 80).join("")}…`);
  });

  it("filters by activity range, minimum messages, failures and negative feedback, alone and together", async () => {
    const { a, b, c, d } = seeded;
    expect(await listed("min_messages=4")).toEqual([d.sessionUuid, a.sessionUuid]);
    expect(await listed("has_failures=true")).toEqual([c.sessionUuid, b.sessionUuid]);
    expect(await listed("has_negative_feedback=true")).toEqual([d.sessionUuid]);
    expect(await listed("has_failures=true&min_messages=3")).toEqual([c.sessionUuid]);
    expect(await listed("has_failures=false&has_negative_feedback=false&min_messages=0")).toHaveLength(5);
    const narrowed = await readAdmin<SessionsPage>("/api/admin/sessions?from=2003-03-02&to=2003-03-03T08:02:01Z");
    expect(narrowed.sessions.map((s) => s.session_uuid)).toEqual([c.sessionUuid, b.sessionUuid]);
  });

  it("names the reader a session belongs to by its opaque reference, never by the identity they signed in with", async () => {
    const page = await readAdmin<SessionsPage>(`/api/admin/sessions?${range}`);
    const [first, second] = readers.map((reader) => reader.reference);
    expect(page.sessions.map((s) => s.reader)).toEqual([null, second, first, null, first]);
    const text = JSON.stringify(page);
    for (const reader of readers) {
      expect(text).not.toContain(reader.subject);
      expect(text).not.toContain(reader.issuer);
    }
  });

  it("filters by reader reference: that reader's sessions only, in any letter case, with the other filters and paging", async () => {
    const { a, c, d } = seeded;
    const [first, second] = readers.map((reader) => reader.reference);
    expect(await listed(`reader=${first}`)).toEqual([c.sessionUuid, a.sessionUuid]);
    expect(await listed(`reader=${first!.toUpperCase()}`)).toEqual([c.sessionUuid, a.sessionUuid]);
    expect(await listed(`reader=${second}`)).toEqual([d.sessionUuid]);
    expect(await listed(`reader=${first}&has_failures=true`)).toEqual([c.sessionUuid]);
    expect(await listed(`reader=${crypto.randomUUID()}`)).toEqual([]);
    const firstPage = await readAdmin<SessionsPage>(`/api/admin/sessions?${range}&reader=${first}&limit=1`);
    expect(firstPage.sessions.map((s) => s.session_uuid)).toEqual([c.sessionUuid]);
    const rest = await readAdmin<SessionsPage>(
      `/api/admin/sessions?${range}&reader=${first}&limit=1&cursor=${firstPage.next_cursor}`,
    );
    expect(rest.sessions.map((s) => s.session_uuid)).toEqual([a.sessionUuid]);
    expect(rest.next_cursor).toBeNull();
  });

  it("pages with next_cursor, never repeating or skipping a session, filters kept", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: SessionsPage = await readAdmin<SessionsPage>(
        `/api/admin/sessions?${range}&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.sessions.length).toBeLessThanOrEqual(2);
      seen.push(...page.sessions.map((s) => s.session_uuid));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(await listed(""));
    const filtered = await readAdmin<SessionsPage>(`/api/admin/sessions?${range}&has_failures=true&limit=1`);
    const rest = await readAdmin<SessionsPage>(
      `/api/admin/sessions?${range}&has_failures=true&limit=1&cursor=${filtered.next_cursor}`,
    );
    expect([...filtered.sessions, ...rest.sessions].map((s) => s.session_uuid)).toEqual(
      await listed("has_failures=true"),
    );
    expect(rest.next_cursor).toBeNull();
  });

  it("counts no imported question or answer as a failure, as the statistics do, in the counts and in has_failures", async () => {
    // An import as lifecycle/import.ts stores it, in 2008, where no other test writes: a question
    // the transcript left unanswered and an answer it had cut short, then one question asked here
    // that the model never answered.
    const imported = { imported: true, import_id: crypto.randomUUID() };
    const at = (minute: number) => inYear(2008, 5, 1, 10, minute);
    const transcript = await seedConversation(openSql(), {
      createdAt: at(0),
      importId: imported.import_id,
      turns: [
        {
          question: "Cut short elsewhere",
          at: at(1),
          questionMetadata: imported,
          answer: { status: "incomplete", text: "The ans", metadata: imported },
        },
        { question: "Never answered elsewhere", at: at(2), questionMetadata: imported, answer: null },
      ],
    });
    const importedOnly = await readAdmin<SessionsPage>("/api/admin/sessions?from=2008-05-01&to=2008-05-02");
    expect(importedOnly.sessions).toEqual([
      expect.objectContaining({
        session_uuid: transcript.sessionUuid,
        imported: true,
        message_count: 3,
        unanswered_questions: 0,
        incomplete_answers: 0,
      }),
    ]);
    const failing = await readAdmin<SessionsPage>(
      "/api/admin/sessions?from=2008-05-01&to=2008-05-02&has_failures=true",
    );
    expect(failing.sessions).toEqual([]);

    const sql = openSql();
    await sql`
      insert into chat_messages (session_id, seq, sender, message, timestamp)
      values (${transcript.sessionId}, 4, 'user', 'Asked here, never answered', ${at(3)})`;
    await sql`update chat_sessions set message_count = 4, last_message_at = ${at(3)}, failures = failures + 1 where id = ${transcript.sessionId}`;
    const asked = await readAdmin<SessionsPage>("/api/admin/sessions?from=2008-05-01&to=2008-05-02&has_failures=true");
    expect(asked.sessions).toEqual([
      expect.objectContaining({ session_uuid: transcript.sessionUuid, unanswered_questions: 1, incomplete_answers: 0 }),
    ]);
    const stats = await readAdmin<{ totals: { failures: { unanswered: number; cut_short: number } } }>(
      "/api/admin/stats?from=2008-05-01&to=2008-05-02",
    );
    expect(stats.totals.failures).toEqual({ unanswered: 1, cut_short: 0 });
  });

  it("reads the list in order from chat_sessions_activity_idx, and one reader's from chat_sessions_reader_activity_idx (EXPLAIN among 100,000 sessions)", async () => {
    const sql = openSql();
    const reader = await seedReader(sql);
    // The statements exactly as the route sends them: the service's own function, on a client
    // that records what goes to PostgreSQL.
    const { db, sent } = recordingDatabase();
    const query: AdminSessionsQuery = {
      from: null,
      to: null,
      minMessages: 0,
      hasFailures: false,
      hasNegativeFeedback: false,
      reader: null,
      after: null,
      limit: 50,
      titleLength: 80,
    };
    await listAdminSessions(db, query);
    await listAdminSessions(db, { ...query, reader: reader.reference });
    expect(sent).toHaveLength(2);
    const [everyone, theirs] = await sql
      .begin(async (tx) => {
        await tx`set local statement_timeout = '60s'`;
        // Ten thousand readers, one in a hundred sessions the reader's. Rolled back at the end, so
        // that no other test sees them.
        await tx`insert into readers (issuer, subject) select 'https://book.example', 'filler-' || n from generate_series(1, 10000) n`;
        await tx`
          insert into chat_sessions (session_uuid, created_at, reader_id)
          select gen_random_uuid(), now() - make_interval(mins => n), case when n % 100 = 0 then ${reader.id}::bigint end
          from generate_series(1, 100000) n`;
        await tx`analyze chat_sessions, readers`;
        const plans: string[] = [];
        for (const statement of sent) {
          const rows = await tx.unsafe(`explain ${statement.sql}`, statement.params as never[]);
          plans.push(rows.map((row) => row["QUERY PLAN"]).join("\n"));
        }
        throw new RolledBack(plans);
      })
      .catch((error: unknown) => {
        if (error instanceof RolledBack) return error.plans;
        throw error;
      });
    console.log(`EXPLAIN of the admin list:\n${everyone}\n\nand of one reader's:\n${theirs}`);
    expect(everyone).toMatch(/Index Scan (Backward )?using chat_sessions_activity_idx/);
    expect(theirs).toMatch(/Index Scan (Backward )?using chat_sessions_reader_activity_idx/);
    // Read in the index's order and stopped at the page: never all the sessions, never a sort of
    // them (a session's first question is found by a small sort of its own messages).
    for (const plan of [everyone, theirs]) {
      expect(plan).not.toMatch(
        /Seq Scan on chat_sessions|Sort Key: [^\n]*(last_message_at|created_at|chat_sessions\.id)/,
      );
    }
  });

  it.each([
    ["to before from", "from=2003-03-02&to=2003-03-01", "to"],
    ["a date that is not one", "from=2003-02-30", "from"],
    ["a time without its zone", "from=2003-03-01T10:00:00", "from"],
    ["a negative minimum", "min_messages=-1", "min_messages"],
    ["a flag that is not true or false", "has_failures=yes", "has_failures"],
    ["a page of 0", "limit=0", "limit"],
    ["a page of 201", "limit=201", "limit"],
    ["a cursor it did not issue", "cursor=abc", "cursor"],
    ["a history cursor", "cursor=djE6YXNjOjM", "cursor"],
    ["a reader that is no UUID", "reader=reader-1", "reader"],
    ["an empty reader", "reader=", "reader"],
  ])("answers 400 validation_error for %s", async (_, query, path) => {
    const problem = await expectProblem(await callAdmin(`/api/admin/sessions?${query}`), 400, "validation_error");
    expect(problem.errors?.map((error) => error.path)).toEqual([path]);
  });
});

describe("GET /api/admin/sessions/{session_uuid}", () => {
  it("gives the whole conversation with every message's metadata, sources with scores and feedback", async () => {
    const conversation = await readAdmin<Conversation>(`/api/admin/sessions/${seeded.d.sessionUuid}`);
    expect(conversation.session).toMatchObject({
      session_uuid: seeded.d.sessionUuid,
      message_count: 6,
      reader: readers[1]!.reference,
    });
    expect(conversation.next_cursor).toBeNull();
    expect(conversation.messages.map((m) => [m.seq, m.sender])).toEqual([
      [1, "user"],
      [2, "bot"],
      [3, "user"],
      [4, "bot"],
      [5, "user"],
      [6, "bot"],
    ]);
    const [question, up, , down] = conversation.messages;
    expect(question).toMatchObject({ metadata: null, reply_to_id: null, feedback: null, sources: [] });
    expect(up).toMatchObject({
      id: seeded.d.messageIds[1],
      reply_to_id: seeded.d.messageIds[0],
      metadata: rag(900),
      sources: [source],
      feedback: { rating: "up", comment: null, updated_at: "2003-03-04T07:30:00.000Z" },
    });
    expect(down!.feedback).toEqual({
      rating: "down",
      comment: "not what I asked",
      updated_at: "2003-03-04T07:31:00.000Z",
    });
  });

  it("pages a long conversation like the history, in either order", async () => {
    const first = await readAdmin<Conversation>(`/api/admin/sessions/${seeded.d.sessionUuid}?limit=4`);
    expect(first.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    const rest = await readAdmin<Conversation>(
      `/api/admin/sessions/${seeded.d.sessionUuid}?limit=4&cursor=${first.next_cursor}`,
    );
    expect(rest.messages.map((m) => m.seq)).toEqual([5, 6]);
    expect(rest.next_cursor).toBeNull();
    const newest = await readAdmin<Conversation>(`/api/admin/sessions/${seeded.d.sessionUuid}?order=desc&limit=2`);
    expect(newest.messages.map((m) => m.seq)).toEqual([6, 5]);
  });

  it("shows what the service itself stored, and a rating given through the public API", async () => {
    const turn = await ask("What is a capture point?");
    await call(`/api/sessions/${turn.session_uuid}/messages/${turn.bot_message.id}/feedback`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ rating: "down", comment: "too short" }),
    });
    const { session, messages } = await readAdmin<Conversation>(`/api/admin/sessions/${turn.session_uuid}`);
    expect(session).toMatchObject({ session_uuid: turn.session_uuid, message_count: 2, reader: null });
    expect(messages[1]).toMatchObject({
      message: turn.bot_message.message,
      metadata: { model: "echo", retrieval: "none" },
      reply_to_id: turn.user_message.id,
      feedback: { rating: "down", comment: "too short" },
    });
  });

  it("answers 404 session_not_found for an unknown session and 400 for a malformed one", async () => {
    await expectProblem(await callAdmin(`/api/admin/sessions/${crypto.randomUUID()}`), 404, "session_not_found");
    await expectProblem(await callAdmin("/api/admin/sessions/not-a-uuid"), 400, "validation_error");
  });
});

class RolledBack extends Error {
  constructor(readonly plans: string[]) {
    super("rolled back");
  }
}
