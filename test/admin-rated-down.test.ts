// The answers rated down, in the admin API (docs/api.md §13.8): newest rating first, with the
// comment, the question and the cited passages; checked against SQL of the test's own over
// conversations written into 2018 (a year no other test touches), and by hand; paging, the size
// bound, 400s, and EXPLAIN of the very statement it runs. Calls the Worker's fetch handler with
// the admin token; the checking SQL goes to PostgreSQL directly.
import { beforeAll, describe, expect, it } from "vitest";
import { listRatedDown } from "../src/db/admin-rated-down";
import { maxPageBytes } from "../src/db/pages";
import type { RatedDownAnswer } from "../src/schemas/responses";
import { callAdmin, readAdmin } from "./helpers/admin";
import { openSql, recordingDatabase } from "./helpers/database";
import { expectProblem } from "./helpers/http";
import { inYear, type SeededAnswer, type SeededConversation, seedConversation } from "./helpers/seed";

type RatedDownPage = { answers: RatedDownAnswer[]; next_cursor: string | null };

const chapter = (n: number, score: number) => ({
  title: `Chapter ${n}`,
  url: n === 3 ? null : `https://book.example/ch${n}`,
  snippet: "A passage.",
  score,
});
const rated = (rating: "up" | "down", at: Date, comment?: string): SeededAnswer => ({
  metadata: { model: "gpt-test" },
  sources: [chapter(1, 0.8), chapter(3, 0.6)],
  feedback: { rating, at, comment },
});

const year = "from=2018-01-01&to=2019-01-01";
let first: SeededConversation;
let second: SeededConversation;
let imported: SeededConversation;

beforeAll(async () => {
  const sql = openSql();
  first = await seedConversation(sql, {
    createdAt: inYear(2018, 3, 1, 9),
    turns: [
      { question: "How does a robot walk?", at: inYear(2018, 3, 1, 9), answer: rated("down", inYear(2018, 3, 2)) },
      { question: "And run?", at: inYear(2018, 3, 1, 9, 5), answer: rated("up", inYear(2018, 3, 3)) },
      {
        question: "What is a servo?",
        at: inYear(2018, 3, 1, 9, 10),
        answer: rated("down", inYear(2018, 3, 4), "Not what I asked."),
      },
    ],
  });
  second = await seedConversation(sql, {
    createdAt: inYear(2018, 4, 1, 9),
    turns: [
      {
        question: "Why do robots fall?",
        at: inYear(2018, 4, 1, 9),
        answer: { ...rated("down", inYear(2018, 4, 2), "Wrong chapter."), sources: [] },
      },
      { question: "Never answered", at: inYear(2018, 4, 1, 9, 5), answer: null },
    ],
  });
  imported = await seedConversation(sql, {
    createdAt: inYear(2018, 5, 1),
    importId: crypto.randomUUID(),
    turns: [
      {
        question: "Imported question",
        at: inYear(2018, 5, 1),
        questionMetadata: { imported: true },
        answer: {
          ...rated("down", inYear(2018, 5, 1, 1), "Rated elsewhere."),
          metadata: { imported: true },
        },
      },
    ],
  });
});

const ratedDown = (query: string) => readAdmin<RatedDownPage>(`/api/admin/rated-down?${query}`);

describe("GET /api/admin/rated-down", () => {
  it("lists the answers rated down, newest rating first, with comment, question and cited passages", async () => {
    const page = await ratedDown(year);
    expect(page.next_cursor).toBeNull();
    expect(page.answers.map((answer) => answer.answer_id)).toEqual([
      imported.messageIds[1],
      second.messageIds[1],
      first.messageIds[5],
      first.messageIds[1],
    ]);
    expect(page.answers[2]).toEqual({
      session_uuid: first.sessionUuid,
      answer_id: first.messageIds[5],
      answer_seq: 6,
      answer: "An answer to: What is a servo?",
      answered_at: new Date(inYear(2018, 3, 1, 9, 10).getTime() + 1000).toISOString(),
      rated_at: inYear(2018, 3, 4).toISOString(),
      comment: "Not what I asked.",
      question_id: first.messageIds[4],
      question: "What is a servo?",
      sources: [
        { title: "Chapter 1", url: "https://book.example/ch1", score: 0.8 },
        { title: "Chapter 3", url: null, score: 0.6 },
      ],
      imported: false,
    });
    expect(page.answers[0]).toMatchObject({ imported: true, comment: "Rated elsewhere." });
    expect(page.answers[1]).toMatchObject({ sources: [], comment: "Wrong chapter.", question: "Why do robots fall?" });
    expect(page.answers[3]).toMatchObject({ comment: null, question: "How does a robot walk?" });
  });

  it("agrees with SQL of its own, over a period and over every rating", async () => {
    const sql = openSql();
    for (const [query, from, to] of [
      ["from=2018-03-03&to=2018-04-30", "2018-03-03", "2018-04-30"],
      ["limit=200", "2000-01-01", "9999-01-01"],
    ] as const) {
      const expected = await sql<{ id: string; comment: string | null; question: string }[]>`
        select a.id, a.feedback_comment as comment, q.message as question
        from chat_messages a join chat_messages q on q.id = a.reply_to_id
        where a.feedback_rating = 'down' and a.feedback_at >= ${from}::timestamptz and a.feedback_at < ${to}::timestamptz
        order by a.feedback_at desc, a.id desc limit 200`;
      const page = await ratedDown(query);
      expect(page.answers.map(({ answer_id, comment, question }) => ({ id: answer_id, comment, question }))).toEqual(
        expected.map((row) => ({ ...row, id: Number(row.id) })),
      );
    }
  });

  it("pages with next_cursor, never repeating or skipping an answer", async () => {
    const whole = (await ratedDown(year)).answers;
    const paged: RatedDownAnswer[] = [];
    let cursor: string | null = null;
    do {
      const page: RatedDownPage = await ratedDown(`${year}&limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      paged.push(...page.answers);
      cursor = page.next_cursor;
    } while (cursor);
    expect(paged).toEqual(whole);
    expect(paged).toHaveLength(4);
  });

  it("stops a page before 1 MiB, with at least one answer", async () => {
    const long = (letter: string) => letter.repeat(700_000);
    const sql = openSql();
    const conversation = await seedConversation(sql, {
      createdAt: inYear(2018, 8, 1),
      turns: [1, 2].map((day) => ({
        question: `Long ${day}`,
        at: inYear(2018, 8, day),
        answer: { ...rated("down", inYear(2018, 8, day, 12)), text: long(day === 1 ? "a" : "b") },
      })),
    });
    const range = "from=2018-08-01&to=2018-09-01";
    const firstPage = await ratedDown(range);
    expect(firstPage.answers.map((answer) => answer.answer_id)).toEqual([conversation.messageIds[3]]);
    expect(firstPage.next_cursor).not.toBeNull();
    const rest = await ratedDown(`${range}&cursor=${firstPage.next_cursor}`);
    expect(rest.answers.map((answer) => answer.answer_id)).toEqual([conversation.messageIds[1]]);
    expect(rest.next_cursor).toBeNull();
    expect(maxPageBytes).toBeLessThan(2 * 700_000);
  });

  it.each([
    ["to before from", "from=2018-03-02&to=2018-03-01", "to"],
    ["a time without its zone", "from=2018-03-01T10:00:00", "from"],
    ["a page of 0", "limit=0", "limit"],
    ["a page of 201", "limit=201", "limit"],
    ["a cursor it did not issue", "cursor=abc", "cursor"],
    ["a cursor given twice", "cursor=abc&cursor=def", "cursor"],
  ])("answers 400 validation_error for %s", async (_, query, path) => {
    const problem = await expectProblem(await callAdmin(`/api/admin/rated-down?${query}`), 400, "validation_error");
    expect(problem.errors?.map((error) => error.path)).toEqual([path]);
  });
});

describe("the rated-down statement", () => {
  it("reads chat_messages_rated_down_idx backwards, not every rating (EXPLAIN ANALYZE of the statement the route runs)", async () => {
    const sql = openSql();
    // 5,000 answers rated up in 2016: the ratings a scan of chat_messages_feedback_at_idx would read.
    const [session] = await sql<{ id: string }[]>`
      insert into chat_sessions (session_uuid, created_at, message_count)
      values (${crypto.randomUUID()}, ${inYear(2016, 1, 1)}, 10000) returning id`;
    await sql`
      with questions as (
        insert into chat_messages (session_id, seq, sender, message, timestamp)
        select ${session!.id}, 2 * n - 1, 'user', 'Filler ' || n, ${inYear(2016, 1, 1)}::timestamptz + make_interval(mins => n)
        from generate_series(1, 5000) n returning id, seq, timestamp)
      insert into chat_messages (session_id, seq, sender, message, timestamp, reply_to_id, feedback_rating, feedback_at)
      select ${session!.id}, seq + 1, 'bot', 'An answer', timestamp, id, 'up', timestamp
      from questions`;
    await sql`vacuum analyze chat_messages, chat_sessions`;
    const { db, sent } = recordingDatabase();
    await listRatedDown(db, { from: null, to: null, after: null, limit: 50 });
    expect(sent).toHaveLength(1);
    const statement = sent[0]!;
    const [row] = await sql.unsafe(`explain (format json) ${statement.sql}`, statement.params as never[]);
    const plan = JSON.stringify(row!["QUERY PLAN"]);
    expect(plan).toContain('"Index Name":"chat_messages_rated_down_idx"');
    expect(plan).toContain('"Scan Direction":"Backward"');
    // No message is read but through an index (a handful of sessions may rightly be scanned).
    expect(plan).not.toMatch(/"Node Type":"Seq Scan",[^{}]*"Relation Name":"chat_messages"/);
  });
});
