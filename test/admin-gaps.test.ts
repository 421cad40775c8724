// The content gaps of the admin API (docs/api.md §13.7): answers whose retrieval ran and found no
// passage scoring 0.5, grouped by normalized_question(), newest first, over a period; checked
// against SQL of the test's own over conversations written into 2017 (a year no other test
// touches), and by hand; paging, the size bound, 400s, and EXPLAIN of the very statement it runs.
// Calls the Worker's fetch handler with the admin token; the checking SQL goes to PostgreSQL directly.
import { beforeAll, describe, expect, it } from "vitest";
import { listContentGaps, maxGapsRead } from "../src/db/admin-gaps";
import { maxPageBytes } from "../src/db/pages";
import type { ContentGap } from "../src/schemas/responses";
import { callAdmin, readAdmin } from "./helpers/admin";
import { openSql, recordingDatabase } from "./helpers/database";
import { expectProblem } from "./helpers/http";
import { inYear, type SeededAnswer, seedConversation } from "./helpers/seed";

type GapsPage = {
  from: string;
  to: string;
  below: number;
  counted_from: string;
  gaps: ContentGap[];
  next_cursor: string | null;
};

const retrieved = { model: "gpt-test", retrieval: { provider: "qdrant", collection: "book", passages: 2 } };
const passages = (...scores: number[]) =>
  scores.map((score, n) => ({
    title: `Chapter ${n + 1}`,
    url: `https://book.example/ch${n + 1}`,
    snippet: "…",
    score,
  }));
const retrievedWith = (...scores: number[]): SeededAnswer => ({ metadata: retrieved, sources: passages(...scores) });

const period = "from=2017-03-01&to=2017-04-01";
const seeded: Record<string, { sessionUuid: string; messageIds: number[] }> = {};

async function ask(name: string, question: string, at: Date, answer: SeededAnswer): Promise<void> {
  seeded[name] = await seedConversation(openSql(), { createdAt: at, turns: [{ question, at, answer }] });
}

beforeAll(async () => {
  await ask("zmpWeak", "What is ZMP?", inYear(2017, 3, 2, 10), retrievedWith(0.3, 0.42));
  await ask("zmpNone", "what is   zmp", inYear(2017, 3, 5, 10), retrievedWith());
  await ask("zmpGood", "What is ZMP", inYear(2017, 3, 6, 10), retrievedWith(0.81, 0.3));
  await ask("gears", "How do gears work?", inYear(2017, 3, 7, 10), retrievedWith(0.8));
  await ask("echo", "Is this an echo?", inYear(2017, 3, 8, 10), {
    metadata: { model: "echo", retrieval: "none" },
  });
  await ask("disabled", "Is retrieval off?", inYear(2017, 3, 8, 11), {
    metadata: { model: "gpt-test", retrieval: "disabled: QDRANT_URL is not configured" },
  });
  await ask("cut", "Was this cut short?", inYear(2017, 3, 8, 12), {
    status: "incomplete",
    metadata: { cut_short: "answer_timeout" },
  });
  await ask("imported", "Was this imported?", inYear(2017, 3, 8, 13), {
    metadata: { imported: true, import_id: crypto.randomUUID() },
  });
  await ask("fall", "Why do robots fall?", inYear(2017, 3, 9, 10), retrievedWith(0.2, 0.1));
  await ask("before", "Why do robots fall?", inYear(2017, 2, 28, 23), retrievedWith(0.1));
  await ask("after", "What is ZMP?", inYear(2017, 4, 1), retrievedWith(0.1));
});

const gaps = (query: string) => readAdmin<GapsPage>(`/api/admin/gaps?${query}`);

/** The period's gaps, grouped, as SQL written for this test finds them. */
async function expectedGaps(from: string, to: string, below: number) {
  return openSql()<{ question: string; asked: number; best_score: number | null; last: Date }[]>`
    with answers as (
      select q.message as question, a.timestamp, a.id,
        (select max((passage ->> 'score')::float8) from jsonb_array_elements(a.sources) passage) as best
      from chat_messages a join chat_messages q on q.id = a.reply_to_id
      where a.sender = 'bot' and a.metadata #>> '{retrieval,provider}' = 'qdrant'
        and a.timestamp >= ${from}::timestamptz and a.timestamp < ${to}::timestamptz),
    weak as (select * from answers where coalesce(best, 0) < ${below})
    select (array_agg(question order by timestamp desc, id desc))[1] as question, count(*)::int as asked,
      max(best) as best_score, max(timestamp) as last
    from weak group by normalized_question(question) order by last desc`;
}

describe("GET /api/admin/gaps", () => {
  it("groups the period's weak answers by question, newest first, with count, best score and newest answer", async () => {
    const page = await gaps(period);
    expect(page).toMatchObject({
      from: "2017-03-01T00:00:00.000Z",
      to: "2017-04-01T00:00:00.000Z",
      below: 0.5,
      counted_from: "2017-03-01T00:00:00.000Z",
    });
    expect(page.next_cursor).toBeNull();
    expect(page.gaps).toEqual([
      {
        question: "Why do robots fall?",
        asked: 1,
        best_score: 0.2,
        last_asked_at: new Date(inYear(2017, 3, 9, 10).getTime() + 1000).toISOString(),
        session_uuid: seeded.fall!.sessionUuid,
        question_id: seeded.fall!.messageIds[0],
        answer_id: seeded.fall!.messageIds[1],
      },
      {
        // The newest wording; the answer from good passages (0.81) is no gap and is not counted.
        question: "what is   zmp",
        asked: 2,
        best_score: 0.42,
        last_asked_at: new Date(inYear(2017, 3, 5, 10).getTime() + 1000).toISOString(),
        session_uuid: seeded.zmpNone!.sessionUuid,
        question_id: seeded.zmpNone!.messageIds[0],
        answer_id: seeded.zmpNone!.messageIds[1],
      },
    ]);
  });

  it("agrees with SQL of its own, for the whole year and a stricter score", async () => {
    for (const [query, from, to, below] of [
      ["from=2017-01-01&to=2017-04-02", "2017-01-01", "2017-04-02", 0.5],
      [`${period}&below=0.3`, "2017-03-01", "2017-04-01", 0.3],
    ] as const) {
      const expected = await expectedGaps(from, to, below);
      const page = await gaps(query);
      expect(page.below).toBe(below);
      expect(
        page.gaps.map((gap) => ({
          question: gap.question,
          asked: gap.asked,
          best_score: gap.best_score,
          last: gap.last_asked_at,
        })),
      ).toEqual(expected.map((row) => ({ ...row, last: row.last.toISOString() })));
    }
    // Under 0.3 only the answer without passages remains of "what is zmp".
    const strict = await gaps(`${period}&below=0.3`);
    expect(strict.gaps.map((gap) => [gap.question, gap.asked, gap.best_score])).toEqual([
      ["Why do robots fall?", 1, 0.2],
      ["what is   zmp", 1, null],
    ]);
  });

  it("defaults to the last 30 days", async () => {
    const before = Date.now();
    const page = await gaps("");
    const to = Date.parse(page.to);
    expect(to).toBeGreaterThanOrEqual(before);
    expect(to - Date.parse(page.from)).toBe(30 * 86_400_000);
    expect(page.gaps.every((gap) => Date.parse(gap.last_asked_at) >= Date.parse(page.from))).toBe(true);
  });

  it("pages with next_cursor, never repeating or skipping a question", async () => {
    const whole = (await gaps("from=2017-01-01&to=2017-04-02")).gaps;
    // "What is ZMP?" of March and April, then "Why do robots fall?" of February and March.
    expect(whole.map((gap) => gap.asked)).toEqual([3, 2]);
    const paged: ContentGap[] = [];
    let cursor: string | null = null;
    do {
      const page: GapsPage = await gaps(`from=2017-01-01&to=2017-04-02&limit=1${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.gaps).toHaveLength(1);
      paged.push(...page.gaps);
      cursor = page.next_cursor;
    } while (cursor);
    expect(paged).toEqual(whole);
  });

  it("stops a page before 1 MiB, with at least one question", async () => {
    const long = (letter: string) => `${letter.repeat(700_000)}?`;
    await ask("longOne", long("a"), inYear(2017, 6, 1, 10), retrievedWith(0.1));
    await ask("longTwo", long("b"), inYear(2017, 6, 2, 10), retrievedWith(0.1));
    const first = await gaps("from=2017-06-01&to=2017-06-03");
    expect(first.gaps.map((gap) => gap.answer_id)).toEqual([seeded.longTwo!.messageIds[1]]);
    expect(first.next_cursor).not.toBeNull();
    const second = await gaps(`from=2017-06-01&to=2017-06-03&cursor=${first.next_cursor}`);
    expect(second.gaps.map((gap) => gap.answer_id)).toEqual([seeded.longOne!.messageIds[1]]);
    expect(second.next_cursor).toBeNull();
    expect(maxPageBytes).toBeLessThan(2 * 700_000);
  });

  it("counts the newest 5,000 gaps of a period that holds more, and says from when", async () => {
    // 5,001 gaps of one question, a minute apart, on 1 October 2017.
    const sql = openSql();
    const start = inYear(2017, 10, 1);
    const [session] = await sql<{ id: string; session_uuid: string }[]>`
      insert into chat_sessions (session_uuid, created_at, message_count)
      values (${crypto.randomUUID()}, ${start}, ${2 * (maxGapsRead + 1)}) returning id, session_uuid`;
    await sql`
      with questions as (
        insert into chat_messages (session_id, seq, sender, message, timestamp)
        select ${session!.id}, 2 * n - 1, 'user', 'Is it in the book?', ${start}::timestamptz + make_interval(mins => n)
        from generate_series(1, ${maxGapsRead + 1}) n returning id, seq, timestamp)
      insert into chat_messages (session_id, seq, sender, message, timestamp, reply_to_id, sources, metadata)
      select ${session!.id}, seq + 1, 'bot', 'An answer', timestamp, id, ${sql.json(passages(0.1) as never)},
        ${sql.json(retrieved as never)}
      from questions`;
    const page = await gaps("from=2017-10-01&to=2017-10-08");
    expect(page.gaps).toEqual([expect.objectContaining({ question: "Is it in the book?", asked: maxGapsRead })]);
    // The oldest gap counted is the second one written: minute 2.
    expect(page.counted_from).toBe(new Date(start.getTime() + 2 * 60_000).toISOString());
  });

  it.each([
    ["to before from", "from=2017-03-02&to=2017-03-01", "to"],
    ["a period of more than 92 days", "from=2017-01-01&to=2017-06-01", "from"],
    ["a date that is not one", "from=2017-02-30", "from"],
    ["a score above 0.5", "below=0.7", "below"],
    ["a score of 0", "below=0", "below"],
    ["a score that is no number", "below=weak", "below"],
    ["a score given twice", "below=0.2&below=0.3", "below"],
    ["a page of 0", "limit=0", "limit"],
    ["a page of 201", "limit=201", "limit"],
    ["a cursor it did not issue", "cursor=abc", "cursor"],
  ])("answers 400 validation_error for %s", async (_, query, path) => {
    const problem = await expectProblem(await callAdmin(`/api/admin/gaps?${query}`), 400, "validation_error");
    expect(problem.errors?.map((error) => error.path)).toEqual([path]);
  });

  it("refuses the rated-down list's cursor, and that list refuses its cursor", async () => {
    const page = await gaps("from=2017-01-01&to=2017-04-02&limit=1");
    const problem = await expectProblem(
      await callAdmin(`/api/admin/rated-down?cursor=${page.next_cursor}`),
      400,
      "validation_error",
    );
    expect(problem.errors?.map((error) => error.path)).toEqual(["cursor"]);
  });
});

describe("the content gaps statement", () => {
  it("reads the partial index chat_messages_content_gaps_idx, not the messages (EXPLAIN of the statement the route runs)", async () => {
    const sql = openSql();
    // On a few dozen rows PostgreSQL rightly reads them all: 5,000 answers of 2016 that are no gaps.
    const [session] = await sql<{ id: string }[]>`
      insert into chat_sessions (session_uuid, created_at, message_count)
      values (${crypto.randomUUID()}, ${inYear(2016, 1, 1)}, 10000) returning id`;
    await sql`
      with questions as (
        insert into chat_messages (session_id, seq, sender, message, timestamp)
        select ${session!.id}, 2 * n - 1, 'user', 'Filler ' || n, ${inYear(2016, 1, 1)}::timestamptz + make_interval(mins => n)
        from generate_series(1, 5000) n returning id, seq, timestamp)
      insert into chat_messages (session_id, seq, sender, message, timestamp, reply_to_id, sources, metadata)
      select ${session!.id}, seq + 1, 'bot', 'An answer', timestamp, id, ${sql.json(passages(0.9) as never)},
        ${sql.json(retrieved as never)}
      from questions`;
    await sql`vacuum analyze chat_messages, chat_sessions`;
    const { db, sent } = recordingDatabase();
    await listContentGaps(db, {
      from: inYear(2017, 3, 1),
      to: inYear(2017, 4, 1),
      below: null,
      after: null,
      limit: 50,
    });
    expect(sent).toHaveLength(1);
    const statement = sent[0]!;
    const [row] = await sql.unsafe(`explain (format json) ${statement.sql}`, statement.params as never[]);
    const plan = JSON.stringify(row!["QUERY PLAN"]);
    expect(plan).toContain('"Index Name":"chat_messages_content_gaps_idx"');
    // No message is read but through an index (a handful of sessions may rightly be scanned).
    expect(plan).not.toMatch(/"Node Type":"Seq Scan",[^{}]*"Relation Name":"chat_messages"/);
    const lines = await sql.unsafe(`explain analyze ${statement.sql}`, statement.params as never[]).values();
    console.log(`EXPLAIN ANALYZE of the content gaps of a month:\n${lines.map(([line]) => line).join("\n")}`);
  });
});
